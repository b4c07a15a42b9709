import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temp root per run, removed at its end (test/support/run-tmp.ts).
    globalSetup: ['./test/support/run-tmp.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Tests spawn native tools (rpm, ostree, testsolv) and HTTP servers; two cores here.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
