import type { SerializedDag } from '../dag/types.js';
import type { DagFileRef } from './discover.js';

/** One DAG found in a file. */
export interface ParsedDag {
  serialized: SerializedDag;
  hash: string;
}

/** The outcome of importing one DAG file. */
export interface FileParseResult {
  file: DagFileRef;
  durationMs: number;
  /** SHA-256 of the file's content, null when it could not be read. */
  contentHash: string | null;
  /** The file's content (null when unreadable or larger than the stored limit). */
  source: string | null;
  dags: ParsedDag[];
  /** Set when the file failed: threw, did not compile, hung, exited, or held an invalid DAG. */
  error: { message: string; stack: string | null } | null;
}

/** Parent → parse thread. @internal */
export type ParseRequest = { type: 'parse'; file: DagFileRef };
/** Parse thread → parent. @internal */
export type ParseMessage = { type: 'ready' } | { type: 'result'; result: FileParseResult };

/** Largest DAG file source kept for the code view. */
export const MAX_STORED_SOURCE_BYTES = 1_000_000;
