export { CallbackRunner, type CallbackRun, type DagCallbackRequest, type TaskCallbackRequest } from './callback-runner.js';
