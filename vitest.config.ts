import { defineConfig } from 'vitest/config';

const integration = {
  include: ['packages/*/test/**/*.test.ts'],
  globalSetup: ['packages/engine/src/testing/vitest-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

// Integration tests run against an embedded PostgreSQL, and again against DATABASE_URL when it is set.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
      { test: { name: 'integration-embedded', ...integration } },
      ...(process.env.DATABASE_URL ? [{ test: { name: 'integration-external', ...integration } }] : []),
    ],
  },
});
