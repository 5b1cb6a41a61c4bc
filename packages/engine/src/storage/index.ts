export { LocalDirectoryObjectStore } from './local-object-store.js';
export type { ObjectInfo, ObjectStore } from './object-store.js';
export {
  DEFAULT_XCOM_OFFLOAD,
  MAX_XCOM_OFFLOAD_BYTES,
  XcomStore,
  resolveXcomOffloadConfig,
  xcomObjectKey,
  type ResolvedXcomOffloadConfig,
  type StoredResult,
  type XcomLocation,
  type XcomObjectRef,
  type XcomOffloadConfig,
} from './xcom-store.js';
