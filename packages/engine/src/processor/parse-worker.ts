/**
 * Body of a DAG-parsing worker thread: loads the engine (which every DAG file imports) once, then
 * imports one DAG file per request and reports the DAGs it exports, serialized. Runs with tsx
 * registered by its bootstrap, so `.ts` files import directly.
 * @internal
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { hashSerializedDag, serializeDag } from '../dag/serialize.js';
import { dagsExportedBy } from './module-dags.js';
import { MAX_STORED_SOURCE_BYTES, type FileParseResult, type ParseMessage, type ParseRequest } from './parse-protocol.js';
import { ownExtension } from './typescript-loader.js';

const port = parentPort;
if (!port) throw new Error('parse-worker must run in a worker thread');

async function parse(request: ParseRequest): Promise<FileParseResult> {
  const { file } = request;
  const started = performance.now();
  const result: FileParseResult = { file, durationMs: 0, contentHash: null, source: null, dags: [], error: null };
  try {
    const source = await readFile(file.absolute, 'utf8');
    result.contentHash = createHash('sha256').update(source).digest('hex');
    result.source = Buffer.byteLength(source) <= MAX_STORED_SOURCE_BYTES ? source : null;
    const module = (await import(pathToFileURL(file.absolute).href)) as Record<string, unknown>;
    const dagIds = new Set<string>();
    for (const dag of dagsExportedBy(module)) {
      if (dagIds.has(dag.id)) throw new Error(`exports two DAGs with the id '${dag.id}'`);
      dagIds.add(dag.id);
      const serialized = serializeDag(dag, file.relative);
      result.dags.push({ serialized, hash: hashSerializedDag(serialized) });
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    result.dags = [];
    result.error = { message: e.message, stack: e.stack ?? null };
  }
  result.durationMs = performance.now() - started;
  return result;
}

port.on('message', (request: ParseRequest) => {
  void parse(request).then((result) => port.postMessage({ type: 'result', result } satisfies ParseMessage));
});
/**
 * Do, before the first file, the work every file shares: load the engine, start the TypeScript
 * compiler (tsx's esbuild service, started lazily on the first file it cannot take from its cache)
 * and run the DAG builder, validator and serializer once on a DAG built here, so that their lazily
 * compiled code is compiled. No DAG file is imported. Best effort: a failure here is the first
 * file's to report, when that file does the same.
 */
async function warmUp(): Promise<void> {
  const engine = (await import(new URL(`../index${ownExtension()}`, import.meta.url).href)) as typeof import('../index.js');
  const d = engine.dag({
    id: 'parse_thread_warm_up',
    schedule: '0 * * * *',
    startDate: '2024-01-01',
    tags: ['warm-up'],
    params: { type: 'object', properties: { limit: { type: 'integer', default: 1 } } },
  });
  const first = d.task('first', () => 1);
  d.task('second', { upstream: [first], retries: 1 }, () => 2);
  hashSerializedDag(serializeDag(d, 'parse-thread-warm-up.ts'));
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))('esbuild') as {
    transformSync(code: string, options: { loader: 'ts' }): unknown;
  };
  esbuild.transformSync('export const warm: number = 1;', { loader: 'ts' });
}

await warmUp().catch(() => {});
port.postMessage({ type: 'ready' } satisfies ParseMessage);
