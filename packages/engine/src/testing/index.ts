/**
 * Helpers for testing DAGs, plugins and the engine against a real PostgreSQL.
 * @packageDocumentation
 */
export { createTestDatabase, dropDatabase, prepareTemplateDatabase, withDatabase, type TestDatabase } from './database.js';
export { openTestEngine, runDagToCompletion, type TestEngineOptions } from './engine.js';
export { createTaskContext, type RecordingTaskLogger } from './task-context.js';
