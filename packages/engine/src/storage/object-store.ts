/** One stored object. */
export interface ObjectInfo {
  key: string;
  /** Size in bytes. */
  size: number;
  lastModified: Date;
}

/**
 * The small object-store interface the engine uses (the `objectSensor` reads through it; offloaded
 * task results are written and read through it): buckets of objects addressed by `/`-separated keys,
 * as in S3. The engine ships a local-directory implementation ({@link LocalDirectoryObjectStore}); an
 * S3 or MinIO adapter implements the same methods (`statObject`, `listObjectsV2`, `putObject`,
 * `getObject`).
 */
export interface ObjectStore {
  /** The object at `key`, or null when there is none. */
  stat(bucket: string, key: string): Promise<ObjectInfo | null>;
  /** Objects whose keys start with `prefix`, in key order, at most `limit` (default 1000). */
  list(bucket: string, prefix: string, options?: { limit?: number }): Promise<ObjectInfo[]>;
  /** Store `body` at `key`, replacing what was there. */
  put(bucket: string, key: string, body: string | Uint8Array): Promise<ObjectInfo>;
  /**
   * The content of the object at `key`, or null when there is none. Needed only for XCom offload
   * (`xcomOffload`): a store without it can still serve the `objectSensor`.
   */
  get?(bucket: string, key: string): Promise<Uint8Array | null>;
}
