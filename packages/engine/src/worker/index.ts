export { installConsoleCapture, withTaskConsole } from './console-capture.js';
export { TaskLogWriter, createTaskLogger } from './task-log.js';
export { runClaimedTask } from './task-runner.js';
export { DEFAULT_WORKER_CONFIG, Worker, type WorkerConfig } from './worker.js';
