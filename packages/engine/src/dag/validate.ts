import { DirectedGraph } from 'graphology';
import { hasCycle } from 'graphology-dag';
import { DagCycleError, DagDefinitionError } from '../errors.js';
import type { Dag } from './dag.js';

/**
 * Check a DAG's structure: every upstream id names a task of the DAG, and there is no cycle.
 * Throws {@link DagDefinitionError} (unknown id, with a suggestion) or {@link DagCycleError} (with the path).
 * Option values were already checked when the DAG and its tasks were defined.
 */
export function validateDag(dag: Dag, file?: string): DirectedGraph {
  const location = { dagId: dag.id, ...(file ? { file } : {}) };
  if (dag.tasks.size === 0) throw new DagDefinitionError('has no tasks', location, { code: 'DAG_EMPTY' });
  const graph = new DirectedGraph();
  for (const id of dag.tasks.keys()) graph.addNode(id);
  for (const task of dag.tasks.values()) {
    for (const upstream of task.upstream) {
      if (!graph.hasNode(upstream)) {
        const suggestion = closest(upstream, [...dag.tasks.keys()]);
        throw new DagDefinitionError(
          `option 'upstream': unknown task '${upstream}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
          { ...location, taskId: task.id, field: 'upstream' },
          { code: 'DAG_UNKNOWN_UPSTREAM' },
        );
      }
      graph.addDirectedEdge(upstream, task.id);
    }
  }
  if (hasCycle(graph)) throw new DagCycleError(findCycle(graph), location);
  return graph;
}

/** A cycle of `graph` as a path whose last node repeats the first. @internal */
export function findCycle(graph: DirectedGraph): string[] {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: finished
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.outNeighbors(node)) {
      const seen = state.get(next);
      if (seen === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (seen === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of graph.nodes()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return [];
}

/** The candidate nearest to `word` by edit distance, if reasonably near. @internal */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
