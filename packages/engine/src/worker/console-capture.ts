import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogLineSink } from './task-log.js';

const current = new AsyncLocalStorage<LogLineSink>();
const METHODS = { log: 'info', info: 'info', debug: 'debug', warn: 'warn', error: 'error' } as const;
type Method = keyof typeof METHODS;
let installs = 0;
let originals: Partial<Record<Method, (...args: unknown[]) => void>> = {};

/**
 * Route `console.*` calls made while a task runs (in this thread) to that task's log; calls made
 * outside any task go to the console as before. Reference-counted: call the returned function to undo.
 */
export function installConsoleCapture(): () => void {
  if (installs++ === 0) {
    originals = {};
    for (const method of Object.keys(METHODS) as Method[]) {
      const original = console[method].bind(console) as (...args: unknown[]) => void;
      originals[method] = original;
      console[method] = (...args: unknown[]) => {
        const writer = current.getStore();
        if (writer) writer.write(METHODS[method], format(...args));
        else original(...args);
      };
    }
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--installs === 0) {
      for (const method of Object.keys(originals) as Method[]) console[method] = originals[method]!;
    }
  };
}

/** Run `fn` with console output going to `writer`. */
export function withTaskConsole<T>(writer: LogLineSink, fn: () => T): T {
  return current.run(writer, fn);
}
