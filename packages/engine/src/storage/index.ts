export { LocalDirectoryObjectStore } from './local-object-store.js';
export type { ObjectInfo, ObjectStore } from './object-store.js';
