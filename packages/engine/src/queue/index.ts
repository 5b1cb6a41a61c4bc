export {
  QUEUE_SCHEMA,
  TaskQueue,
  queueNameFor,
  type TaskJob,
  type JobClaim,
  type JobStart,
  type TaskJobHandler,
  type TaskJobToSend,
  type TaskQueueConfig,
} from './task-queue.js';
