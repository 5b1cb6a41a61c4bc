export { listDags, listImportErrors, setDagPaused, type DagSummary, type ImportErrorSummary } from './dags.js';
export { getTaskLogs, type TaskLogLine, type TaskLogQuery } from './logs.js';
export {
  getRun,
  listTaskInstances,
  triggerDag,
  waitForRun,
  type TaskInstanceSummary,
  type TriggerOptions,
  type WaitOptions,
} from './runs.js';
export { testDag, type TestDagOptions, type TestDagResult } from './test-dag.js';
export {
  cancelRun,
  clearTaskInstances,
  markTaskInstances,
  pauseDag,
  selectTasks,
  type ChangedTaskInstance,
  type TaskSelection,
} from './actions.js';
export { cliActor, recordAudit, type Actor, type AuditEntry } from './audit.js';
export { generatePassword, hashPassword, verifyPassword, DEFAULT_PASSWORD_COST } from './passwords.js';
export {
  USER_ROLES,
  MIN_PASSWORD_LENGTH,
  authenticateUser,
  countUsers,
  createUser,
  deleteUser,
  getUser,
  hasRole,
  listUsers,
  updateUser,
  type NewUser,
  type UserChanges,
  type UserSummary,
} from './users.js';
export { API_TOKEN_PREFIX, createApiToken, findUserByApiToken, listApiTokens, revokeApiToken, type ApiTokenSummary } from './tokens.js';
