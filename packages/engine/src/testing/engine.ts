import pino from 'pino';
import type { EngineConfig } from '../config.js';
import { Tributary } from '../engine.js';
import { testDag, type TestDagOptions, type TestDagResult } from '../service/test-dag.js';

/** Options of {@link openTestEngine}: engine options, with quick timings by default. */
export type TestEngineOptions = EngineConfig & { databaseUrl: string };

/**
 * Open an engine for a test: quiet logs (set `TRIBUTARY_TEST_LOG_LEVEL` to see them), a fast
 * scheduler loop and heartbeat, and a 1-thread parser. Close it in `afterAll`.
 */
export function openTestEngine(options: TestEngineOptions): Promise<Tributary> {
  const level = process.env.TRIBUTARY_TEST_LOG_LEVEL ?? 'silent';
  return Tributary.open({
    logger: pino({ level }),
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 3_000,
    ...options,
    scheduler: { loopIntervalMs: 100, sweepIntervalMs: 500, ...options.scheduler },
    worker: { shutdownGraceMs: 2_000, ...options.worker },
    parse: { threads: 1, ...options.parse },
  });
}

/** Run a DAG to completion in the engine's process (see `testDag`). */
export function runDagToCompletion(engine: Tributary, dagId: string, options: TestDagOptions = {}): Promise<TestDagResult> {
  return testDag(engine, dagId, { timeoutMs: 60_000, ...options });
}
