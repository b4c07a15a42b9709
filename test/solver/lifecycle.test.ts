/**
 * Wasm memory ownership, .solv round trips, libsolv's rpm-md reader on real metadata and
 * rpm version comparison.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { evrcmp, loadSolver, Pool, runTestcase, solverHeapBytes } from '../../src/solver/index.js';
import { install, pkg, steps } from './helpers.js';
import { execFileSync } from 'node:child_process';
import { requireTool } from '../support/tools.js';

const SHARED_REPOS = fileURLToPath(new URL('../../../shared/data/repos/', import.meta.url));

beforeAll(async () => {
  await loadSolver();
});

describe('memory ownership', () => {
  it('using a pool or its repo after free() throws a LayerError; free() is idempotent', () => {
    const pool = new Pool({ arch: 'x86_64' });
    const repo = pool.addRepo('r', { kind: 'records', records: [pkg('a', '1')] });
    pool[Symbol.dispose]();
    pool.free();
    expect(() => pool.solve([install('a')])).toThrow(LayerError);
    expect(() => pool.solve([install('a')])).toThrow(/used after its pool was freed/);
    expect(() => repo.size).toThrow(/repo r: used after its pool was freed/);
    expect(() => repo.writeSolv()).toThrow(LayerError);
    expect(() => pool.addRepo('s', { kind: 'records', records: [] })).toThrow(LayerError);
  });

  it('a repo cannot be used with another pool', () => {
    const p1 = new Pool({ arch: 'x86_64' });
    const p2 = new Pool({ arch: 'x86_64' });
    try {
      const r = p1.addRepo('r', { kind: 'records', records: [] });
      expect(() => p2.setInstalled(r)).toThrow(/belongs to another pool/);
    } finally {
      p1.free();
      p2.free();
    }
  });

  it('1,000 create/add/solve/free cycles do not grow the wasm heap', () => {
    const installed = [pkg('lib', '1'), pkg('old', '1')];
    const available = [pkg('lib', '2'), pkg('app', '1', { requires: ['lib >= 2', '/usr/bin/x'] }), pkg('x', '1', { files: ['/usr/bin/x'] }), pkg('new', '1', { obsoletes: ['old'] })];
    const cycle = (i: number): void => {
      const pool = new Pool({ arch: 'x86_64' });
      try {
        pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: installed }));
        const avail = pool.addRepo('avail', { kind: 'records', records: available });
        const res = pool.solve(i % 2 ? [install('app'), install('new')] : [install('missing')]);
        expect(res.ok).toBe(i % 2 === 1);
        if (i % 10 === 0) avail.writeSolv();
        if (i % 10 === 5) pool.solve([install('app'), { action: 'lock', select: { by: 'name', name: 'lib' } }]); // problems path
      } finally {
        pool.free();
      }
    };
    for (let i = 0; i < 50; i++) cycle(i); // warm-up: let the allocator reach its working size
    const before = solverHeapBytes();
    for (let i = 0; i < 1000; i++) cycle(i);
    expect(solverHeapBytes()).toBe(before);
  });
});

describe('.solv round trip', () => {
  it('writeSolv then load gives the same packages, and they solve the same', () => {
    const records = [
      pkg('app', '1.2', { epoch: 3, requires: ['lib >= 2', '(x if y)', '/usr/bin/tool'], prerequires: ['setup'], recommends: ['docs'], files: ['/usr/bin/app'] }),
      pkg('lib', '2', { provides: ['libfoo.so.2()(64bit)'] }),
      pkg('setup', '1', { arch: 'noarch' }),
      pkg('tool', '1', { files: ['/usr/bin/tool'] }),
      pkg('docs', '1', { arch: 'noarch', summary: 'Docs', location: 'Packages/docs-1-1.noarch.rpm', downloadSize: 1234, checksum: 'sha256:' + 'ab'.repeat(32) }),
    ];
    const p1 = new Pool({ arch: 'x86_64' });
    const p2 = new Pool({ arch: 'x86_64' });
    try {
      const r1 = p1.addRepo('avail', { kind: 'records', records });
      const bytes = r1.writeSolv();
      expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('SOLV');
      const r2 = p2.addRepo('avail', { kind: 'solv', bytes });
      expect(r2.size).toBe(records.length);
      // the second generation (before any solve adds file provides) is byte-identical
      expect(r2.writeSolv()).toEqual(bytes);
      expect(r2.packages()).toEqual(r1.packages());
      expect(r2.packages().map((p) => p.nevra)).toContain('app-3:1.2-1.x86_64');
      const s1 = steps(p1.solve([install('app')]));
      expect(s1).toEqual(steps(p2.solve([install('app')])));
      expect([...s1].sort()).toEqual(['install app-1.2', 'install docs-1', 'install lib-2', 'install setup-1', 'install tool-1']);
      // requirements (incl. the pre-requirement kept through .solv) are ordered before app
      for (const dep of ['install setup-1', 'install lib-2', 'install tool-1']) expect(s1.indexOf(dep)).toBeLessThan(s1.indexOf('install app-1.2'));
    } finally {
      p1.free();
      p2.free();
    }
  });

  it('solverOnly leaves out what no solve reads, as libsolv\'s dumpsolv shows, and solves the same', () => {
    requireTool('dumpsolv', 'libsolv-tools');
    const records = [
      pkg('app', '1.2', { requires: ['/usr/bin/tool'], summary: 'An app', location: 'Packages/app.rpm', downloadSize: 99, installSize: 999, checksum: 'sha256:' + 'cd'.repeat(32), buildTime: 1700000000, sourceRpm: 'app-1.2-1.src.rpm' }),
      pkg('tool', '1', { files: ['/usr/bin/tool'], summary: 'A tool', location: 'Packages/tool.rpm', downloadSize: 5 }),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'layer-slim-'));
    const p1 = new Pool({ arch: 'x86_64' });
    const p2 = new Pool({ arch: 'x86_64' });
    try {
      const r1 = p1.addRepo('avail', { kind: 'records', records });
      const keys = (bytes: Uint8Array): string[] => {
        const f = join(dir, 'x.solv');
        writeFileSync(f, bytes);
        return [...execFileSync('dumpsolv', [f], { encoding: 'utf8' }).matchAll(/^ {2}(\S+) \(type /gm)].map((m) => m[1] ?? '');
      };
      const full = keys(r1.writeSolv());
      const slim = r1.writeSolv({ solverOnly: true });
      expect(full).toEqual(expect.arrayContaining(['solvable:summary', 'solvable:downloadsize', 'solvable:checksum', 'solvable:mediafile', 'solvable:filelist']));
      expect(keys(slim).sort()).toEqual(full.filter((k) => !/summary|size|checksum|media|buildtime|source/.test(k)).sort());
      expect(keys(slim)).toEqual(expect.arrayContaining(['solvable:requires', 'solvable:filelist']));
      p2.addRepo('avail', { kind: 'solv', bytes: slim });
      expect(steps(p2.solve([install('app')]))).toEqual(steps(p1.solve([install('app')])));
    } finally {
      p1.free();
      p2.free();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a .solv file loads (in chunks) to the same packages as its bytes', () => {
    const records = Array.from({ length: 1500 }, (_, i) => pkg(`p${i}`, `${i}.0`, { requires: i ? [`p${i - 1}`] : [], summary: `${i} ${'long summary '.repeat(16)}` }));
    const p1 = new Pool({ arch: 'x86_64' });
    const p2 = new Pool({ arch: 'x86_64' });
    const dir = mkdtempSync(join(tmpdir(), 'layer-solvfile-'));
    try {
      const bytes = p1.addRepo('avail', { kind: 'records', records }).writeSolv();
      // larger than one 256 KiB read buffer, so the chunked path is exercised
      expect(bytes.length).toBeGreaterThan(1 << 18);
      const file = join(dir, 'avail.solv');
      writeFileSync(file, bytes);
      const r2 = p2.addRepo('avail', { kind: 'solv-file', path: file });
      expect(r2.size).toBe(records.length);
      expect(Buffer.compare(r2.writeSolv(), bytes)).toBe(0); // toEqual walks 300 KB element by element
      expect(steps(p2.solve([install('p40')]))).toEqual(steps(p1.solve([install('p40')])));
      expect(steps(p2.solve([install('p40')])).length).toBe(41);
    } finally {
      p1.free();
      p2.free();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rpm-md through libsolv (repo_add_rpmmd)', () => {
  it('loads a real primary.xml with every package the XML lists', () => {
    const dir = join(SHARED_REPOS, 'cs9-baseos-2022', 'repodata');
    if (!existsSync(dir)) throw new Error(`missing shared data: ${dir} (needs /work/shared/data from the project setup)`);
    const primaryFile = readdirSync(dir).find((f) => f.endsWith('primary.xml.gz'));
    if (!primaryFile) throw new Error(`no primary.xml.gz in ${dir}`);
    const primary = gunzipSync(readFileSync(join(dir, primaryFile)));
    const declared = Number(/<metadata[^>]*packages="(\d+)"/.exec(primary.subarray(0, 4096).toString())?.[1]);
    expect(declared).toBeGreaterThan(1000);
    const pool = new Pool({ arch: 'x86_64' });
    try {
      const repo = pool.addRepo('baseos', { kind: 'rpmmd', primary });
      expect(repo.size).toBe(declared);
      pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: [] }));
      const res = pool.solve([install('bash')]);
      expect(steps(res)).toContain('install bash-5.1.8');
    } finally {
      pool.free();
    }
  });

  it('filelists extend primary: a file only filelists.xml lists is a provide', () => {
    const dir = join(SHARED_REPOS, 'cs9-baseos-2022', 'repodata');
    const read = (suffix: string): Buffer => {
      const f = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith(suffix)) : undefined;
      if (!f) throw new Error(`no ${suffix} in ${dir} (needs /work/shared/data from the project setup)`);
      return gunzipSync(readFileSync(join(dir, f)));
    };
    const primary = read('primary.xml.gz');
    const filelists = read('filelists.xml.gz');
    const lib = '/usr/lib64/libz.so.1';
    expect(primary.includes(lib)).toBe(false); // primary only carries /etc, */bin/* paths
    const jobs = [{ action: 'install' as const, select: { by: 'provides' as const, dep: lib } }];
    const withFl = new Pool({ arch: 'x86_64' });
    const without = new Pool({ arch: 'x86_64' });
    try {
      withFl.addRepo('baseos', { kind: 'rpmmd', primary, filelists });
      without.addRepo('baseos', { kind: 'rpmmd', primary });
      const res = withFl.solve(jobs);
      expect(res.ok && res.transaction.steps.filter((s) => s.reason === 'requested').map((s) => s.pkg.name)).toEqual(['zlib']);
      expect(without.solve(jobs).ok).toBe(false);
    } finally {
      withFl.free();
      without.free();
    }
  });

  it('broken XML is LAYER_REPO_CORRUPT naming the repo', () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      const primary = new TextEncoder().encode('<metadata packages="1"><package type="rpm"><name>x</nam');
      expect(() => pool.addRepo('broken-md', { kind: 'rpmmd', primary })).toThrow(/repo broken-md: cannot load rpmmd data/);
    } finally {
      pool.free();
    }
  });
});

describe('evrcmp (rpm semantics)', () => {
  it.each([
    ['1.0-1', '1.0-1', 0],
    ['1.0-2', '1.0-10', -1],
    ['1.10', '1.9', 1],
    ['1:1.0', '2.0', 1],
    ['0:1.0-1', '1.0-1', 0],
    ['1:2.0-1', '1:2.0~rc1-1', 1],
    ['2.0~rc1', '2.0~rc2', -1],
    ['1.0^git1', '1.0', 1],
    ['1.0^git1', '1.0.1', -1],
    ['1.0a', '1.0', 1],
    ['1.0', '1.0.0', -1],
  ])('%s vs %s = %i', (a, b, want) => {
    expect(evrcmp(a, b)).toBe(want);
    expect(evrcmp(b, a)).toBe(want === 0 ? 0 : -want);
  });
});

describe('runTestcase errors', () => {
  it('a missing file is a LayerError naming it; errors inside a testcase go to log, as testsolv prints them', () => {
    expect(() => runTestcase('/nonexistent/case.t')).toThrow(/testcase \/nonexistent\/case.t: cannot open file/);
    const dir = mkdtempSync(join(tmpdir(), 'layer-tc-'));
    try {
      const file = join(dir, 'bad.t');
      writeFileSync(file, 'repo available 0 testtags missing-file.repo\nsystem x86_64 rpm system\njob install name a\n');
      const run = runTestcase(file);
      expect(run.result).toContain('package a does not exist');
      expect(run.log).toMatch(/testcase_read: could not open '.*missing-file\.repo'/);
      expect(runTestcase(file).log).toBe(run.log); // drained per run, not accumulated
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
