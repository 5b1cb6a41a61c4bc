import { ConfigError, XcomError } from '../errors.js';
import type { ObjectStore } from './object-store.js';

/** Offloading large task results to the engine's object store (`EngineConfig.xcomOffload`). */
export interface XcomOffloadConfig {
  /**
   * Results whose JSON is larger than this many bytes are written to the object store; the XCom row
   * keeps a small reference. Smaller results stay in the database. At most `xcomMaxBytes`.
   * @defaultValue `xcomMaxBytes`
   */
  thresholdBytes?: number;
  /**
   * Largest result offloaded, in bytes; a larger one fails the task with `XCOM_TOO_LARGE`.
   * @defaultValue 268435456 (256 MiB)
   */
  maxBytes?: number;
  /**
   * Bucket of the object store results are written to, under `xcom/<dag>/<run>/<task>/<map index>/<try>.json`.
   * @defaultValue `'tributary'`
   */
  bucket?: string;
}

/** {@link XcomOffloadConfig} with every default applied. */
export interface ResolvedXcomOffloadConfig {
  readonly thresholdBytes: number;
  readonly maxBytes: number;
  readonly bucket: string;
}

/** Defaults of {@link XcomOffloadConfig} (the threshold defaults to `xcomMaxBytes`). */
export const DEFAULT_XCOM_OFFLOAD = Object.freeze({
  maxBytes: 268_435_456,
  bucket: 'tributary',
});

/** Largest `xcomOffload.maxBytes`: about the longest string V8 holds (the result is JSON text). */
export const MAX_XCOM_OFFLOAD_BYTES = 536_870_888;

/**
 * Apply the defaults of `xcomOffload` and check it against `xcomMaxBytes`; null when offloading is
 * off. Throws {@link ConfigError} naming the field.
 */
export function resolveXcomOffloadConfig(config: XcomOffloadConfig | null | undefined, xcomMaxBytes: number): ResolvedXcomOffloadConfig | null {
  if (config === null || config === undefined) return null;
  const thresholdBytes = config.thresholdBytes ?? xcomMaxBytes;
  const maxBytes = config.maxBytes ?? Math.max(DEFAULT_XCOM_OFFLOAD.maxBytes, thresholdBytes);
  if (thresholdBytes > xcomMaxBytes) {
    throw new ConfigError(`must be at most xcomMaxBytes (${xcomMaxBytes}), got ${thresholdBytes}: a result under it is stored in the database`, 'xcomOffload.thresholdBytes');
  }
  if (maxBytes < thresholdBytes) throw new ConfigError(`must be at least thresholdBytes (${thresholdBytes}), got ${maxBytes}`, 'xcomOffload.maxBytes');
  if (maxBytes > MAX_XCOM_OFFLOAD_BYTES) throw new ConfigError(`must be at most ${MAX_XCOM_OFFLOAD_BYTES}, got ${maxBytes}`, 'xcomOffload.maxBytes');
  return Object.freeze({ thresholdBytes, maxBytes, bucket: config.bucket ?? DEFAULT_XCOM_OFFLOAD.bucket });
}

/** The task instance and try a result belongs to. */
export interface XcomLocation {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

/** What the XCom row of an offloaded result holds instead of the result. */
export interface XcomObjectRef {
  bucket: string;
  key: string;
  /** Size of the result's JSON, in bytes. */
  sizeBytes: number;
}

/** A result ready for its XCom row: its JSON, or (offloaded) the JSON of its {@link XcomObjectRef}. */
export interface StoredResult {
  json: string;
  offloaded: boolean;
  /** Size of the result's JSON, in bytes (not of the reference). */
  sizeBytes: number;
}

/**
 * Stands for an offloaded result among values read from the database, until
 * {@link XcomStore.resolveAll} reads it from the object store. @internal
 */
export class OffloadedXcom {
  constructor(
    readonly ref: XcomObjectRef,
    readonly taskId: string,
  ) {}
}

/** A stored value as a reader gets it: the value, or an {@link OffloadedXcom} for an offloaded one. @internal */
export function storedValue(row: { task_id: string; value: unknown; offloaded?: boolean | null }): unknown {
  return row.offloaded ? new OffloadedXcom(row.value as XcomObjectRef, row.task_id) : row.value;
}

/** One key segment: any id, made safe for S3 keys and file names (no `/`, `.` or `..` segment, no NUL). */
function keySegment(value: string | number): string {
  const encoded = encodeURIComponent(String(value));
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

/** The object key of an offloaded result: `xcom/<dag>/<run>/<task>/<map index>/<try>.json`, each id URI-encoded. */
export function xcomObjectKey(where: XcomLocation): string {
  return ['xcom', where.dagId, where.runId, where.taskId, where.mapIndex].map(keySegment).join('/') + `/${where.tryNumber}.json`;
}

function tooLarge(where: { dagId: string; taskId: string }, size: number, limit: number, option: string, advice: string): XcomError {
  return new XcomError('XCOM_TOO_LARGE', `DAG '${where.dagId}': task '${where.taskId}': result is ${size} bytes, over the limit of ${limit} bytes (${option}); ${advice}`, {
    location: { dagId: where.dagId, taskId: where.taskId, field: option },
  });
}

/**
 * Stores task results as XCom and reads them back: JSON in the database up to the offload threshold
 * (or `xcomMaxBytes` without offload), an object in the object store beyond it, with a reference in
 * the row; readers get offloaded results back transparently.
 */
export class XcomStore {
  readonly #objects: ObjectStore;
  readonly #inlineMaxBytes: number;
  readonly #offload: ResolvedXcomOffloadConfig | null;

  constructor(options: { objectStore: ObjectStore; xcomMaxBytes: number; offload: ResolvedXcomOffloadConfig | null }) {
    this.#objects = options.objectStore;
    this.#inlineMaxBytes = options.xcomMaxBytes;
    this.#offload = options.offload;
  }

  /**
   * Serialize a task's result for its XCom row, writing it to the object store when it is over the
   * offload threshold; null for `undefined`. Throws {@link XcomError} (`XCOM_NOT_JSON`,
   * `XCOM_TOO_LARGE`) naming the DAG, the task and the limit.
   */
  async store(value: unknown, where: XcomLocation): Promise<StoredResult | null> {
    if (value === undefined) return null;
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new XcomError('XCOM_NOT_JSON', `DAG '${where.dagId}': task '${where.taskId}': result is not JSON-serializable: ${(error as Error).message}`, {
        location: { dagId: where.dagId, taskId: where.taskId },
      });
    }
    if (json === undefined) return null;
    const sizeBytes = Buffer.byteLength(json);
    const offload = this.#offload;
    if (offload === null) {
      if (sizeBytes > this.#inlineMaxBytes) {
        throw tooLarge(where, sizeBytes, this.#inlineMaxBytes, 'xcomMaxBytes', 'return a reference such as a file or object-store key instead, raise xcomMaxBytes, or turn on xcomOffload');
      }
      return { json, offloaded: false, sizeBytes };
    }
    if (sizeBytes <= offload.thresholdBytes) return { json, offloaded: false, sizeBytes };
    if (sizeBytes > offload.maxBytes) {
      throw tooLarge(where, sizeBytes, offload.maxBytes, 'xcomOffload.maxBytes', 'write it to storage yourself and return its key, or raise xcomOffload.maxBytes');
    }
    const ref: XcomObjectRef = { bucket: offload.bucket, key: xcomObjectKey(where), sizeBytes };
    try {
      await this.#objects.put(ref.bucket, ref.key, json);
    } catch (error) {
      throw new XcomError('XCOM_OFFLOAD_FAILED', `DAG '${where.dagId}': task '${where.taskId}': writing its ${sizeBytes}-byte result to ${ref.bucket}/${ref.key} failed: ${(error as Error).message}`, {
        cause: error,
        location: { dagId: where.dagId, taskId: where.taskId },
      });
    }
    return { json: JSON.stringify(ref), offloaded: true, sizeBytes };
  }

  /** Read an offloaded result back. Throws {@link XcomError} (`XCOM_OBJECT_MISSING`) when the object is gone. */
  async read(ref: XcomObjectRef, where: { dagId: string; taskId: string }): Promise<unknown> {
    const get = this.#objects.get?.bind(this.#objects);
    const prefix = `DAG '${where.dagId}': task '${where.taskId}': its result, offloaded to ${ref.bucket}/${ref.key},`;
    if (!get) throw new XcomError('XCOM_OBJECT_MISSING', `${prefix} cannot be read: the object store has no get()`, { location: where });
    const body = await get(ref.bucket, ref.key);
    if (body === null) throw new XcomError('XCOM_OBJECT_MISSING', `${prefix} is missing from the object store`, { location: where });
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  }

  /**
   * Replace every {@link OffloadedXcom} among `values` (a value, or an element of a list of a mapped
   * task's results) by the result it stands for, read from the object store. Returns `values` itself
   * when nothing was offloaded.
   */
  async resolveAll<T extends Record<string, unknown>>(values: T, dagId: string): Promise<T> {
    const reads: Promise<void>[] = [];
    const out: Record<string, unknown> = { ...values };
    for (const [taskId, value] of Object.entries(values)) {
      if (value instanceof OffloadedXcom) {
        reads.push(this.read(value.ref, { dagId, taskId }).then((read) => void (out[taskId] = read)));
      } else if (Array.isArray(value) && value.some((v) => v instanceof OffloadedXcom)) {
        const list = [...value];
        out[taskId] = list;
        list.forEach((item, i) => {
          if (item instanceof OffloadedXcom) reads.push(this.read(item.ref, { dagId, taskId }).then((read) => void (list[i] = read)));
        });
      }
    }
    if (reads.length === 0) return values;
    await Promise.all(reads);
    return out as T;
  }
}
