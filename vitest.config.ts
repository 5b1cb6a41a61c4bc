import { defineConfig } from 'vitest/config';

const CHAOS = 'packages/*/test/chaos/**/*.test.ts';
const integration = {
  include: ['packages/*/test/**/*.test.ts'],
  exclude: ['**/node_modules/**', CHAOS],
  globalSetup: ['packages/engine/src/testing/vitest-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

// Integration tests run against an embedded PostgreSQL, and again against DATABASE_URL when it is set.
// The chaos suite (real processes killed and restarted, a PostgreSQL of its own to restart) runs once.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
      { test: { name: 'integration-embedded', ...integration } },
      ...(process.env.DATABASE_URL ? [{ test: { name: 'integration-external', ...integration } }] : []),
      { test: { name: 'chaos', ...integration, include: [CHAOS], exclude: ['**/node_modules/**'] } },
    ],
  },
});
