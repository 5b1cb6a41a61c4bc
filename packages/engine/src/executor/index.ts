export type { Executor, TaskExecution } from './executor.js';
export { LocalExecutor } from './local-executor.js';
