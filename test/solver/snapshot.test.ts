/**
 * Pool snapshots (src/solver/snapshot.ts): a large prepared pool is saved as a heap image and
 * put back when a pool is built again from the same inputs. On real CentOS Stream 9 metadata
 * (BaseOS installed in part, AppStream 17,649 packages available): the restored pool answers
 * exactly as a pool built the slow way; anything that changes the inputs, damages the file or
 * still holds a pointer into the heap makes the pool be built again.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evrcmp, loadSolver, Pool, type Job, type PackageRecord, type SnapshotOptions, type SolveResult } from '../../src/solver/index.js';
import { dataset } from './support/datasets.js';

let work: string;
let appstream: string;
let baseos: string;
let installed: PackageRecord[];

beforeAll(async () => {
  await loadSolver();
  work = mkdtempSync(join(tmpdir(), 'layer-snap-'));
  // The .solv caches as the engine keeps them: written once by libsolv, read from a file.
  const write = (name: 'cs9-appstream-2025' | 'cs9-baseos-2022'): string => {
    using p = new Pool({ arch: 'x86_64' });
    const path = join(work, `${name}.solv`);
    writeFileSync(path, p.addRepo(name, { kind: 'rpmmd', primary: dataset(name).primaryXml() }).writeSolv());
    return path;
  };
  appstream = write('cs9-appstream-2025');
  baseos = write('cs9-baseos-2022');
  installed = (await dataset('cs9-baseos-2022').records()).filter((r) => ['bash', 'glibc', 'coreutils', 'openssl-libs', 'zlib', 'systemd'].includes(r.name));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const JOBS: Job[][] = [
  [{ action: 'install', select: { by: 'spec', spec: 'httpd' } }],
  [{ action: 'install', select: { by: 'spec', spec: 'postgresql-server' } }, { action: 'install', select: { by: 'spec', spec: 'vim-enhanced' } }],
  [{ action: 'install', select: { by: 'spec', spec: 'no-such-package' } }],
  [{ action: 'update' }],
];

/** The engine's order: installed repo, then the available ones, optionally one more. */
function build(snapshots: SnapshotOptions | undefined, extra?: PackageRecord[]): Pool {
  const pool = new Pool({ arch: 'x86_64', ...(snapshots ? { snapshots } : {}) });
  pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: installed }));
  pool.addRepo('baseos', { kind: 'solv-file', path: baseos }, { priority: 0 });
  pool.addRepo('appstream', { kind: 'solv-file', path: appstream }, { subpriority: 10 });
  if (extra) pool.addRepo('local', { kind: 'records', records: extra }, { priority: 1000 });
  return pool;
}

/** Build, prepare (which saves the snapshot) and free. */
function seed(dir: string): void {
  using p = build({ dir });
  p.solve([]);
}

function answers(pool: Pool): SolveResult[] {
  return JOBS.map((jobs) => pool.solve(jobs));
}

function snaps(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.snap') && !n.startsWith('.'));
  } catch {
    return [];
  }
}

let expected: SolveResult[];
beforeAll(() => {
  using slow = build(undefined);
  expected = answers(slow);
  expect(expected[0]?.ok).toBe(true);
  expect(expected[2]?.ok).toBe(false);
});

describe('pool snapshots', () => {
  it('saves a large pool and puts it back for the same inputs, with the same answers', () => {
    const dir = join(work, 'same');
    {
      using first = build({ dir });
      expect(answers(first)).toEqual(expected);
      expect(first.fromSnapshot).toBe(false);
    }
    expect(snaps(dir)).toHaveLength(1);
    using second = build({ dir });
    expect(second.fromSnapshot).toBe(false); // nothing needed the pool yet
    expect(answers(second)).toEqual(expected);
    expect(second.fromSnapshot).toBe(true);
    expect(second.repos.map((r) => [r.name, r.size])).toEqual([['@System', installed.length], ['baseos', 1125], ['appstream', 17649]]);
  });

  it('a repo added after the snapshotted ones goes on top of the restored pool', () => {
    const dir = join(work, 'extra');
    build({ dir }).free(); // nothing solved: nothing saved
    expect(snaps(dir)).toHaveLength(0);
    {
      using first = build({ dir });
      first.solve(JOBS[0] ?? []);
    }
    const local = { ...(installed[0] as PackageRecord), name: 'my-tool', version: '1.0', requires: ['httpd'], files: [], provides: [] };
    using pool = build({ dir }, [local]);
    const res = pool.solve([{ action: 'install', select: { by: 'spec', spec: 'my-tool' } }]);
    expect(pool.fromSnapshot).toBe(true);
    expect(res.ok && res.transaction.steps.map((s) => s.pkg.name)).toEqual(expect.arrayContaining(['my-tool', 'httpd']));
  });

  it("a repo added after a restore finds a file only the restored repos' file lists provide", () => {
    // No package of either repo requires /usr/sbin/ethtool, so no saved pool has it among its
    // file provides: the new repo's requirement makes libsolv search the restored repos' file
    // lists, which the saving process had left on disk (paged), behind its own descriptors.
    const dir = join(work, 'files');
    const local = { ...(installed[0] as PackageRecord), name: 'needs-ethtool', version: '1.0', requires: ['/usr/sbin/ethtool'], files: [], provides: [] };
    const job: Job[] = [{ action: 'install', select: { by: 'spec', spec: 'needs-ethtool' } }];
    const names = (r: SolveResult) => (r.ok ? r.transaction.steps.map((st) => st.pkg.name) : r.problems.map((pr) => pr.text));
    {
      using fresh = build(undefined, [local]);
      expect(names(fresh.solve(job))).toEqual(expect.arrayContaining(['needs-ethtool', 'ethtool']));
    }
    {
      using first = build({ dir });
      first.solve(JOBS[0] ?? []);
    }
    expect(snaps(dir)).toHaveLength(1);
    {
      using pool = build({ dir }, [local]);
      const res = pool.solve(job);
      expect(pool.fromSnapshot).toBe(true);
      expect(names(res)).toEqual(expect.arrayContaining(['needs-ethtool', 'ethtool']));
      // Every file list is there to read: the repos write the bytes they write when loaded from
      // their files and prepared the same way (the restored pages were unreadable before).
      using fresh = build(undefined, [local]);
      fresh.solve(JOBS[0] ?? []);
      fresh.solve(job);
      for (const name of ['baseos', 'appstream']) {
        const restored = pool.repos.find((r) => r.name === name)?.writeSolv();
        const loaded = fresh.repos.find((r) => r.name === name)?.writeSolv();
        expect(Buffer.from(restored ?? []).equals(Buffer.from(loaded ?? [1]))).toBe(true);
      }
    }
  });

  it('is not used when an input changed, and keeps only the newest three', () => {
    const dir = join(work, 'changed');
    seed(dir);
    const copy = join(work, 'appstream-copy.solv');
    copyFileSync(appstream, copy);
    const old = new Date(Date.now() - 60_000);
    utimesSync(copy, old, old);
    const other = (): Pool => {
      const p = new Pool({ arch: 'x86_64', snapshots: { dir } });
      p.setInstalled(p.addRepo('@System', { kind: 'records', records: installed }));
      p.addRepo('baseos', { kind: 'solv-file', path: baseos });
      p.addRepo('appstream', { kind: 'solv-file', path: copy }, { subpriority: 10 });
      return p;
    };
    {
      using p = other();
      expect(answers(p)).toEqual(expected);
      expect(p.fromSnapshot).toBe(false);
    }
    expect(snaps(dir)).toHaveLength(2);
    for (const ago of [30_000, 0]) {
      const t = new Date(Date.now() - ago);
      utimesSync(copy, t, t); // same bytes, another mtime: another input
      using p = other();
      p.solve([]);
      expect(p.fromSnapshot).toBe(false);
    }
    expect(snaps(dir)).toHaveLength(3);
  });

  it('deletes a damaged snapshot and builds the pool, the heap untouched', () => {
    const dir = join(work, 'damaged');
    seed(dir);
    const [name] = snaps(dir);
    const path = join(dir, name ?? '');
    const bytes = readFileSync(path);
    const at = bytes.length - 100_000;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(path, bytes);
    expect(evrcmp('1.0-1', '1.0-2')).toBe(-1);
    {
      using p = build({ dir });
      expect(answers(p)).toEqual(expected);
      expect(p.fromSnapshot).toBe(false);
    }
    expect(evrcmp('2:1.0-1', '1:9.0-2')).toBe(1);
    // A truncated file is not even considered.
    truncateSync(join(dir, snaps(dir)[0] ?? ''), 4096);
    using p = build({ dir });
    expect(answers(p)).toEqual(expected);
    expect(p.fromSnapshot).toBe(false);
  });

  it('is not put back while another pool is alive, whose pointers it would void', () => {
    const dir = join(work, 'live');
    seed(dir);
    using other = new Pool({ arch: 'x86_64' });
    other.addRepo('avail', { kind: 'records', records: installed });
    {
      using p = build({ dir });
      expect(answers(p)).toEqual(expected);
      expect(p.fromSnapshot).toBe(false);
    }
    expect(other.repos[0]?.packages().map((r) => r.name).sort()).toEqual(installed.map((r) => r.name).sort());
  });

  it('keeps comparing versions after a restore replaced the heap', () => {
    const dir = join(work, 'evr');
    expect(evrcmp('1.0~rc1-1', '1.0-1')).toBe(-1);
    seed(dir);
    using p = build({ dir });
    p.solve([]);
    expect(p.fromSnapshot).toBe(true);
    expect(evrcmp('1.0~rc1-1', '1.0-1')).toBe(-1);
    expect(evrcmp('1.0^git1-1', '1.0-1')).toBe(1);
  });

  it('a save drops the temp files of writers that died, not of live ones', () => {
    const dir = join(work, 'tmpfiles');
    mkdirSync(dir, { recursive: true });
    const dead = spawnSync('true').pid ?? 0;
    const stale = join(dir, `.tmp-${dead}-0000-5.snap`);
    const live = join(dir, `.tmp-${process.pid}-0000-5.snap`);
    writeFileSync(stale, 'x');
    writeFileSync(live, 'x');
    seed(dir);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(snaps(dir)).toHaveLength(1);
  });

  it('does not save small pools', () => {
    const dir = join(work, 'small');
    using p = new Pool({ arch: 'x86_64', snapshots: { dir } });
    p.addRepo('baseos', { kind: 'solv-file', path: baseos });
    p.solve([]);
    expect(snaps(dir)).toHaveLength(0);
  });
});
