/**
 * Solver parity on the ~63k-package repo made from Debian bookworm's Packages index
 * (fixtures/deb63k/generate.sh → .cache/deb63k): the largest real dependency graph on the
 * machine. Popular names plus a seeded random spread, solved by native testsolv and by the wasm
 * solver (from PackageRecords; from raw rpm-md and from the .solv for the popular subset).
 *
 * Needs: apt lists (apt-get update), lz4, python3, ../shared/tools/deb2rpmmd.py, libsolv-tools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/solver/index.js';
import { dataset } from './support/datasets.js';
import { debJobs } from './support/jobs.js';
import { solveNative, type NativeCase } from './support/native.js';
import { expectParity, installJobs, repoFromDataset } from './support/parity.js';
import { openPool, type Loader } from './support/wasm.js';

const debData = dataset('deb63k');
const deb = repoFromDataset('deb', debData);
const JOBS = debJobs((await debData.records()).map((r) => r.name));

const nativeCase = (names: string[]): NativeCase => ({
  available: [{ name: 'deb', solvPath: deb.solvPath }],
  install: names,
});

describe('native oracle sanity (deb63k)', () => {
  it('the repo has ~63k packages and the job list mixes solvable and unsolvable jobs', async () => {
    expect((await debData.records()).length).toBeGreaterThan(60_000);
    const results = JOBS.map((j) => solveNative(nativeCase(j)));
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => !r.ok).length).toBeGreaterThanOrEqual(5);
  });
});

const RUNS: Array<{ loader: Loader; jobs: string[][] }> = [
  { loader: 'records', jobs: JOBS },
  // raw rpm-md through libsolv's own reader inside wasm: the popular half is enough to show it
  { loader: 'rpmmd', jobs: JOBS.slice(0, 22) },
  { loader: 'solv', jobs: JOBS.slice(0, 22) },
];

for (const { loader, jobs } of RUNS) {
  describe(`wasm (${loader}) vs native: deb63k, empty system`, () => {
    let pool: Pool;
    beforeAll(async () => { pool = await openPool({ available: [deb.input], loader }); });
    afterAll(() => pool?.free());
    for (const job of jobs) {
      it(`install ${job.join(' ')}`, () => {
        expectParity(pool.solve(installJobs(job), {}), solveNative(nativeCase(job)), job.join(' '));
      });
    }
  });
}
