import { defineConfig } from 'vitest/config';

const CHAOS = 'packages/*/test/chaos/**/*.test.ts';
const integration = {
  include: ['packages/*/test/**/*.test.ts'],
  exclude: ['**/node_modules/**', CHAOS],
  globalSetup: ['packages/engine/src/testing/vitest-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

// Tests whose outcome cannot depend on which PostgreSQL serves them (a browser, child processes, a
// fake Kubernetes API, the DAG parser), and CLI suites that spawn a process per command to call the
// service functions the in-process suites run on both servers: the second pass against DATABASE_URL
// leaves them out.
const SERVER_INDEPENDENT = [
  'packages/engine/test/cli.test.ts',
  'packages/engine/test/cli-actions.test.ts',
  'packages/engine/test/cli-variables-connections.test.ts',
  'packages/engine/test/web-cli.test.ts',
  'packages/plugins-discovery/test/scrape-browser.test.ts',
  'packages/plugins-discovery/test/scrape-static.test.ts',
  'packages/plugins-discovery/test/listings-site.test.ts',
  'packages/engine/test/kubernetes-executor.test.ts',
  'packages/engine/test/kubernetes-pod-operator.test.ts',
  'packages/engine/test/command-operator.test.ts',
  'packages/engine/test/parse-pool.test.ts',
  'packages/engine/test/deploy-manifests.test.ts',
  'packages/engine/test/web-browser.test.ts',
];

// Integration tests run against an embedded PostgreSQL, and again against DATABASE_URL when it is set.
// The chaos suite (real processes killed and restarted, a PostgreSQL of its own to restart) runs once.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
      { test: { name: 'integration-embedded', ...integration } },
      ...(process.env.DATABASE_URL
        ? [{ test: { name: 'integration-external', ...integration, exclude: [...integration.exclude, ...SERVER_INDEPENDENT] } }]
        : []),
      { test: { name: 'chaos', ...integration, include: [CHAOS], exclude: ['**/node_modules/**'] } },
    ],
  },
});
