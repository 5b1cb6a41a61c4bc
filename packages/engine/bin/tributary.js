#!/usr/bin/env node
// The `tributary` command in this workspace: runs the TypeScript source through tsx.
// (The published package's bin is the compiled dist/cli/bin.js.)
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/bin.ts', import.meta.url).href);
