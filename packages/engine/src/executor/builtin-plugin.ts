import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { definePlugin, type TributaryPlugin } from '../plugin/plugin.js';
import { runCommand } from './command-operator.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import { isLatestRun, type LatestOnlyArgs } from './latest-only.js';
import { runKubernetesPod, type TryHistory } from './kubernetes-pod-operator.js';
import type { PodIdentity } from './pod-spec.js';
import type { ObjectStore } from '../storage/object-store.js';
import { builtinSensors } from '../sensors/builtin-sensors.js';

/** Errors that end a try on purpose (clear, mark, cancel, timeout): its pod is not for a later try. */
const STOPPED_ON_PURPOSE = ['ExternalStateChange', 'TaskTimeoutError', 'TaskCancelledError'];

/** Whether an earlier try of a task instance was stopped on purpose, from its `task_try` row. */
function tryHistory(db: Kysely<Database>): TryHistory {
  return {
    async stoppedOnPurpose(identity: PodIdentity, tryNumber: number): Promise<boolean> {
      const row = await sql<{ name: string | null }>`
        SELECT tt.error->>'name' AS name FROM tributary.task_try tt
          JOIN tributary.task_instance t ON t.id = tt.ti_id JOIN tributary.dag_run r ON r.id = t.run_pk
         WHERE r.dag_id = ${identity.dagId} AND r.run_id = ${identity.runId} AND t.task_id = ${identity.taskId}
           AND t.map_index = ${identity.mapIndex} AND tt.try_number = ${tryNumber}`.execute(db);
      return STOPPED_ON_PURPOSE.includes(row.rows[0]?.name ?? '');
    },
  };
}

/** Name of the plugin holding the built-in operators (`tributary.command`, `tributary.kubernetesPod`, the sensors). */
export const BUILTIN_PLUGIN = 'tributary';

/**
 * The built-in operators as a plugin, registered by every engine so workers resolve them without
 * importing a package. `kubernetesPod` uses the engine's Kubernetes configuration, and its database to
 * tell a try that was stopped on purpose (its pod is not reattached) from one whose worker died; the
 * sensors read the database (another DAG's state, connections) and the engine's object store.
 */
export function createBuiltinPlugin(kubernetes: KubernetesAccess, db: Kysely<Database>, objectStore: ObjectStore): TributaryPlugin {
  const history = tryHistory(db);
  return definePlugin({
    name: BUILTIN_PLUGIN,
    version: '0.1.0',
    operators: {
      command: runCommand,
      kubernetesPod: (args: unknown, context) => runKubernetesPod(kubernetes, args, context, history),
      latestOnly: (args: LatestOnlyArgs, context) => isLatestRun(args, context),
      ...builtinSensors(db, objectStore),
    },
  });
}
