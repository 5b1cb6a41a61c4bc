export { countImportErrors, listDags, listImportErrors, searchDags, setDagPaused, type DagSearch, type DagSummary, type ImportErrorSummary } from './dags.js';
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
  clearSelection,
  clearTaskInstances,
  markTaskInstances,
  pauseDag,
  selectTasks,
  type ChangedTaskInstance,
  type TaskSelection,
} from './actions.js';
export { cliActor, listAuditLog, recordAudit, type Actor, type AuditEntry, type AuditQuery, type AuditRecord } from './audit.js';
export { generatePassword, hashPassword, verifyPassword, DEFAULT_PASSWORD_COST } from './passwords.js';
export {
  USER_ROLES,
  MIN_PASSWORD_LENGTH,
  authenticateUser,
  checkOwnAccountChange,
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
export { API_TOKEN_PREFIX, countApiTokens, createApiToken, findUserByApiToken, listApiTokens, revokeApiToken, type ApiTokenSummary } from './tokens.js';
export { getDag, getDagCached, getDagSource, listDagVersions, type DagDetail, type DagVersionSummary } from './dag-details.js';
export {
  getRunSummary,
  getTaskInstance,
  getTaskXcom,
  listRuns,
  listTaskTries,
  type RunQuery,
  type RunSummary,
  type TaskInstanceDetail,
  type TaskInstanceRef,
  type TaskTrySummary,
  type XcomEntry,
} from './run-queries.js';
export { DEFAULT_POOL, countPools, createPool, deletePool, getPool, listPools, updatePool, type PoolSummary } from './pools.js';
export { countVariables, createVariable, deleteVariable, getVariable, listVariables, setVariable, type VariableSummary } from './variables.js';
export {
  countConnections,
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  updateConnection,
  type ConnectionFields,
  type ConnectionSummary,
} from './connections.js';
export { MASK, isSensitiveName, maskSensitive } from './secrets.js';
export {
  cancelBackfill,
  countBackfills,
  createBackfill,
  getBackfill,
  listBackfills,
  type BackfillCreation,
  type BackfillFilter,
  type BackfillRequest,
  type BackfillSummary,
  type PlannedBackfillRun,
} from './backfill.js';
export { type ListPage } from './paging.js';
export { advanceBackfills } from './backfill-runner.js';
export { previewCancel, previewClear, previewMark, type ActionPreview } from './action-preview.js';
export { getGrid, type GridCellRow, type GridData, type GridQuery, type GridRun } from './grid.js';
export { listMappedInstances, summarizeRunTasks, type MappedInstanceSummary, type RunTaskSummary } from './run-tasks.js';
export { recentRunsByDag, type RecentRun } from './recent-runs.js';
export { taskInstanceArguments, type TaskArguments } from './task-arguments.js';
export {
  createAssetEvent,
  listAssetEvents,
  listAssets,
  type AssetEventQuery,
  type AssetEventSummary,
  type AssetSummary,
  type CreatedAssetEvent,
} from './assets.js';
