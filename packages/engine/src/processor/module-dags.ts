import { isDag, type Dag } from '../dag/dag.js';

/** Every DAG a module exports (default or named), without duplicates. */
export function dagsExportedBy(module: Record<string, unknown>): Dag[] {
  const found: Dag[] = [];
  for (const value of Object.values(module)) {
    if (isDag(value) && !found.includes(value)) found.push(value);
  }
  return found;
}
