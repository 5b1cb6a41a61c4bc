import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

let registered = false;

/** File URL of tsx's ESM API, for code that must register the loader itself (worker threads). */
export function tsxApiUrl(): string {
  const packageJson = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(packageJson), 'dist/esm/api/index.mjs')).href;
}

/**
 * Make `import()` of TypeScript files work in this thread (DAG files need no build step). Registers
 * tsx's loader hooks once; a no-op when TypeScript can already be imported (tsx or vitest running).
 */
export async function ensureTypeScriptLoader(): Promise<void> {
  if (registered) return;
  registered = true;
  const { register } = (await import(tsxApiUrl())) as { register: () => unknown };
  register();
}

/** The extension this module was loaded with: `.ts` from source, `.js` once built. @internal */
export function ownExtension(): '.ts' | '.js' {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}

/**
 * A module for `new Worker()` that registers tsx in the new thread and then imports `moduleUrl`, so
 * the thread can import TypeScript (DAG files, and the engine itself when it runs from source).
 * @internal
 */
export function threadBootstrapUrl(moduleUrl: URL): URL {
  const code = `import { register } from ${JSON.stringify(tsxApiUrl())};\nregister();\nawait import(${JSON.stringify(moduleUrl.href)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
