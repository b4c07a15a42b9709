/**
 * Solver parity on real CentOS Stream 9 metadata: every job is solved by native libsolv
 * (`testsolv -r` on `.solv` files made by repo2solv/rpmmd2solv from the same XML) and by the
 * wasm solver through the public API, loaded three ways: from PackageRecords (repos/' parser),
 * from raw rpm-md (`kind: 'rpmmd'`) and from the same .solv files (`kind: 'solv'`). Same NEVRA
 * sets when solvable, same problem count when not.
 *
 * Needs: ../shared/data/repos, libsolv-tools (testsolv, repo2solv, rpmmd2solv).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/solver/index.js';
import { dataset } from './support/datasets.js';
import { BASEOS_JOBS, CS9_INSTALLED_JOBS, CS9_JOBS } from './support/jobs.js';
import { solveNative, type NativeCase } from './support/native.js';
import { expectParity, installJobs, repoFromDataset, repoFromPrimary, type ParityRepo } from './support/parity.js';
import { primarySubset } from './support/subset.js';
import { openPool, type Loader } from './support/wasm.js';

const baseosData = dataset('cs9-baseos-2022');
const appstreamData = dataset('cs9-appstream-2025');
const baseos = repoFromDataset('baseos', baseosData);
const appstream = repoFromDataset('appstream', appstreamData);

function nativeCase(available: ParityRepo[], names: string[], installed?: ParityRepo): NativeCase {
  return {
    available: available.map((r) => ({ name: r.input.name, solvPath: r.solvPath })),
    ...(installed ? { installed: { name: installed.input.name, solvPath: installed.solvPath } } : {}),
    install: names,
  };
}

describe('native oracle sanity (CentOS Stream 9)', () => {
  it('testsolv installs dnf from BaseOS 2022 with 145 packages, as dnf does', () => {
    const r = solveNative(nativeCase([baseos], ['dnf']));
    expect(r.ok && r.incoming.length).toBe(145);
  });

  it('the CS9 job list has both solvable and unsolvable jobs', () => {
    const results = CS9_JOBS.map((j) => solveNative(nativeCase([baseos, appstream], j)));
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => !r.ok).length).toBeGreaterThanOrEqual(5);
  });
});

// The installed system: BaseOS 2022's own answer to `install dnf`, cut out of its primary.xml.
function installedSystem(): ParityRepo {
  const r = solveNative(nativeCase([baseos], ['dnf']));
  if (!r.ok) throw new Error('native testsolv could not install dnf from BaseOS 2022; the installed-system fixture needs it');
  return repoFromPrimary('system', primarySubset(baseosData.primaryXml(), r.incoming));
}

// records: repos/' parser → our encoder; rpmmd: libsolv's XML reader in wasm; solv: the very
// .solv files native testsolv reads (what repos/ caches), so a difference there is the solver's.
const LOADERS: Loader[] = ['records', 'rpmmd', 'solv'];

for (const loader of LOADERS) {
  describe(`wasm (${loader}) vs native: BaseOS 2022, empty system`, () => {
    let pool: Pool;
    beforeAll(async () => { pool = await openPool({ available: [baseos.input], loader }); });
    afterAll(() => pool?.free());
    for (const job of BASEOS_JOBS) {
      it(`install ${job.join(' ')}`, () => {
        expectParity(pool.solve(installJobs(job), {}), solveNative(nativeCase([baseos], job)), job.join(' '));
      });
    }
  });

  describe(`wasm (${loader}) vs native: BaseOS 2022 + AppStream 2025, empty system`, () => {
    let pool: Pool;
    beforeAll(async () => { pool = await openPool({ available: [baseos.input, appstream.input], loader }); });
    afterAll(() => pool?.free());
    for (const job of CS9_JOBS) {
      it(`install ${job.join(' ')}`, () => {
        expectParity(pool.solve(installJobs(job), {}), solveNative(nativeCase([baseos, appstream], job)), job.join(' '));
      });
    }
  });

  describe(`wasm (${loader}) vs native: BaseOS 2022 + AppStream 2025, 145-package system installed`, () => {
    let pool: Pool;
    let system: ParityRepo;
    beforeAll(async () => {
      system = installedSystem();
      pool = await openPool({ available: [baseos.input, appstream.input], installed: system.input, loader });
    });
    afterAll(() => pool?.free());
    for (const job of CS9_INSTALLED_JOBS) {
      it(`install ${job.join(' ')}`, () => {
        expectParity(pool.solve(installJobs(job), {}), solveNative(nativeCase([baseos, appstream], job, system)), job.join(' '));
      });
    }
  });
}
