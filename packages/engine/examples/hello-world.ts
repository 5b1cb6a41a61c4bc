import { dag } from '@tributary/engine';

/**
 * The smallest useful DAG: three tasks in a line, passing results along.
 * Run it: pnpm tributary dags test hello_world
 */
const hello = dag({
  id: 'hello_world',
  description: 'Three tasks in a line, each using the one before',
  tags: ['example'],
  params: {
    type: 'object',
    properties: { name: { type: 'string', default: 'world' } },
  },
});

const greet = hello.task('greet', ({ params, log }) => {
  log.info({ name: params.name }, 'greeting');
  return `Hello, ${params.name}!`;
});

const shout = hello.task('shout', { upstream: [greet] }, ({ upstream }) => upstream.greet.toUpperCase());

hello.task('report', { upstream: [greet, shout] }, ({ upstream }) => {
  console.log(`${upstream.greet} / ${upstream.shout}`);
  return { length: upstream.shout.length };
});

export default hello;
