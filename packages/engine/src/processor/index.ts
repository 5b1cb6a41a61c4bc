export { DagBag } from './dag-bag.js';
export { DagProcessor, type DagProcessorConfig, type ParseRunSummary } from './dag-processor.js';
export { discoverDagFiles, type DagFileRef } from './discover.js';
export { DEFAULT_PARSE_TIMEOUT_MS, parseDagFiles, type ParseOptions } from './parse-pool.js';
export type { FileParseResult, ParsedDag } from './parse-protocol.js';
export { ensureTypeScriptLoader } from './typescript-loader.js';
