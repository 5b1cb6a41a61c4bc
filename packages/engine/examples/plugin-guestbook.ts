import { dag } from '@tributary/engine';
import { sign } from './plugin/guestbook-plugin.js';

/**
 * Uses the example plugin in ./plugin (listed in tributary.config.json's `plugins`): the `sign` task is
 * plain data in the DAG — `{ operator: 'guestbook.sign', args }` — run by the plugin on the worker.
 * Run it: pnpm tributary dags test example_plugin
 */
const guestbook = dag({ id: 'example_plugin', description: 'A task run by the example guestbook plugin', tags: ['example'] });

const signed = guestbook.task('sign', sign({ name: 'Ada', message: 'first!' }));

guestbook.task('report', { upstream: [signed] }, ({ upstream }) => `entry ${upstream.sign.id} of ${upstream.sign.entries}`);

export default guestbook;
