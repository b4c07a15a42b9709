// `npm run test:unit`: the fast tests for the edit-test loop (well under a minute here).
// Parsers, formats, the request, the store and the solver API on small inputs; no CLI runs,
// no composes, no large parity sets, no VMs. `npm test` runs everything.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/errors.test.ts',
      'test/evr.test.ts',
      'test/request/**/*.test.ts',
      'test/rpm/{header-blob,all-tags,hostile}.test.ts',
      'test/store/{vectors,store}.test.ts',
      'test/repos/{config,primary,xml,fuzz}.test.ts',
      'test/solver/{api,lifecycle}.test.ts',
      'test/trust/**/*.test.ts',
      'test/net/**/*.test.ts',
      'test/sysroot/origin*.test.ts',
      'test/compose/scratch.test.ts',
    ],
    testTimeout: 60_000,
    globalSetup: ['./test/support/run-tmp.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
