import { dag } from '@tributary/engine';

/**
 * Task groups: tasks defined in a group get ids prefixed with it (`ingest.download_mls`), groups
 * nest (`checks.listings.prices`), and a whole group can be upstream or downstream of a task or of
 * another group. A group's `defaultTaskOptions` apply to its tasks only.
 *
 * Run it: pnpm tributary dags test example_task_groups
 */
interface Listing {
  id: string;
  price: number;
  source: string;
}

const groups = dag({
  id: 'example_task_groups',
  description: 'Ingest two listing feeds, check them, then publish — in task groups',
  tags: ['example'],
});

/** The merged listings, from the results a task receives: through a group dependency they come untyped, by full id. */
const merged = (upstream: object): Listing[] => (upstream as Record<string, Listing[]>)['ingest.merge'] ?? [];

const start = groups.task('start', ({ logicalDate }) => logicalDate.toISOString().slice(0, 10));

// Every root task of the group (both downloads) waits for `start`; the feeds are flaky, so the
// group's tasks get a retry.
const ingest = groups.group('ingest', { upstream: [start], defaultTaskOptions: { retries: 1, retryDelay: '100ms' } }, (g) => {
  const mls = g.task('download_mls', (): Listing[] => [
    { id: 'mls-1', price: 450_000, source: 'mls' },
    { id: 'mls-2', price: 615_000, source: 'mls' },
  ]);
  const county = g.task('download_county', (): Listing[] => [{ id: 'cty-7', price: 389_000, source: 'county' }]);
  // Inside the group, upstream results are keyed by their full ids.
  g.task('merge', { upstream: [mls, county] }, ({ upstream }) => [...upstream['ingest.download_mls'], ...upstream['ingest.download_county']]);
});

// A group after a group: the checks' root tasks depend on ingest's leaf task (`ingest.merge`).
const checks = groups.group('checks', { upstream: [ingest] }, (g) => {
  g.group('listings', (inner) => {
    inner.task('prices', ({ upstream }) => {
      const listings = merged(upstream);
      const bad = listings.filter((l) => l.price <= 0);
      if (bad.length > 0) throw new Error(`listings without a price: ${bad.map((l) => l.id).join(', ')}`);
      return listings.length;
    });
    inner.task('duplicates', ({ upstream }) => {
      const ids = merged(upstream).map((l) => l.id);
      return ids.length - new Set(ids).size;
    });
  });
});

// A task after a whole group: it waits for every leaf task of `checks`.
groups.task('publish', { upstream: [checks, 'ingest.merge'] }, ({ upstream, log }) => {
  const listings = merged(upstream);
  log.info({ listings: listings.length }, 'published');
  return { published: listings.length, checked: Object.keys(upstream).filter((id) => id.startsWith('checks.')).sort() };
});

export default groups;
