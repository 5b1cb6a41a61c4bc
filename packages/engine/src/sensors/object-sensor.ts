import type { PokeResult } from '../dag/sensor-options.js';
import type { TaskContext } from '../dag/types.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ObjectSensorArgs } from './sensor-args.js';

/** Objects reported in the sensor's result for a prefix. */
const MAX_REPORTED = 100;

/**
 * `objectSensor`: done when the object exists in the engine's object store, or, for a prefix, once
 * an object under it does (Airflow's `S3KeySensor` and friends). Its result is the object(s) found.
 */
export async function pokeObject(
  args: ObjectSensorArgs,
  context: Pick<TaskContext, 'log'>,
  store: ObjectStore,
): Promise<PokeResult<{ bucket: string; objects: { key: string; size: number; lastModified: string }[] }>> {
  const found = args.key !== undefined ? [await store.stat(args.bucket, args.key)].filter((o) => o !== null) : await store.list(args.bucket, args.prefix!, { limit: MAX_REPORTED });
  const what = args.key !== undefined ? `object '${args.key}'` : `objects under '${args.prefix}'`;
  context.log.info(found.length > 0 ? `Found ${found.length} ${what} in bucket '${args.bucket}'` : `No ${what} in bucket '${args.bucket}' yet`);
  if (found.length === 0) return { done: false };
  return {
    done: true,
    value: { bucket: args.bucket, objects: found.map((o) => ({ key: o.key, size: o.size, lastModified: o.lastModified.toISOString() })) },
  };
}
