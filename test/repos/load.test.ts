import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { RepoSet, parsePrimary, repoPackageKey, type LoaderKind } from '../../src/repos/index.js';
import type { RepoSource } from '../../src/solver/types.js';
import { gunzipSync } from 'node:zlib';
import { RecordingReport } from '../../src/report.js';
import { loadSolver, Pool } from '../../src/solver/index.js';
import { SHARED_DATA, requirePath } from '../support/createrepo.js';
import { FaultServer } from '../support/http-server.js';
import { config, expectCacheClean, fixtureTree, repoSet, tmp } from './helpers.js';

let tree: { root: string; repo: string };
let server: FaultServer;

beforeAll(async () => {
  await loadSolver();
  tree = fixtureTree();
  server = await new FaultServer(tree.root).start();
});
afterAll(() => server.stop());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

const HOUR = 3600_000;

function installOne(set: RepoSet, name: string, fn?: (pool: Pool) => void, loader?: LoaderKind) {
  return async () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      const loaded = await set.load(pool, loader === undefined ? {} : { loader });
      fn?.(pool);
      return { loaded, result: pool.solve([{ action: 'install', select: { by: 'name', name } }], {}) };
    } finally {
      pool.free();
    }
  };
}

describe('cache expiry and cache-only', () => {
  it('fresh cache: no request at all; expired: repomd only; force: repomd again', async () => {
    const cacheDir = tmp('cache');
    let now = 1_000_000_000_000;
    const body = `baseurl=${server.url}/m1\nmetadata_expire=1h`;
    const run = async (opts = {}) => {
      const set = repoSet([config(body)], cacheDir, { now: () => now });
      try {
        return (await set.refresh(opts))[0]!.status;
      } finally {
        await set.close();
      }
    };
    expect(await run()).toBe('updated');
    expect(server.requests).toHaveLength(2);
    server.requests.length = 0;
    now += HOUR - 1;
    expect(await run()).toBe('fresh');
    expect(server.requests).toEqual([]);
    now += 1;
    expect(await run()).toBe('unchanged');
    expect(server.requests).toEqual(['/m1/repodata/repomd.xml']);
    server.requests.length = 0;
    expect(await run()).toBe('fresh');
    expect(await run({ force: true })).toBe('unchanged');
    expect(server.requests).toEqual(['/m1/repodata/repomd.xml']);
    expectCacheClean(cacheDir);
  });

  it('metadata_expire=never: never refetched unless forced', async () => {
    const cacheDir = tmp('cache');
    let now = 0;
    const body = `baseurl=${server.url}/m1\nmetadata_expire=never`;
    const set = () => repoSet([config(body)], cacheDir, { now: () => now });
    const a = set();
    await a.refresh();
    await a.close();
    server.requests.length = 0;
    now = 10 * 365 * 24 * HOUR;
    const b = set();
    expect((await b.refresh())[0]!.status).toBe('fresh');
    await b.close();
    expect(server.requests).toEqual([]);
  });

  it('metadata_expire=never, but the baseurl changed: fetched from the new one', async () => {
    const cacheDir = tmp('cache');
    const set = (m: string) => repoSet([config(`baseurl=${server.url}/${m}\nmetadata_expire=never`)], cacheDir);
    const a = set('m1');
    await a.refresh();
    await a.close();
    server.requests.length = 0;
    const b = set('m2');
    expect((await b.refresh())[0]!.status).not.toBe('fresh');
    await b.close();
    expect(server.requests).toContain('/m2/repodata/repomd.xml');
    server.requests.length = 0;
    const c = set('m2');
    expect((await c.refresh())[0]!.status).toBe('fresh');
    await c.close();
    expect(server.requests).toEqual([]);
  });

  it('cacheOnly: LAYER_REPO_OFFLINE when nothing is cached; works offline once cached', async () => {
    const cacheDir = tmp('cache');
    const body = `baseurl=http://127.0.0.1:1/\nmetadata_expire=0`;
    const e = (await repoSet([config(body)], cacheDir).refresh({ cacheOnly: true }).catch((x: unknown) => x)) as LayerError;
    expect(e).toBeInstanceOf(LayerError);
    expect(e.code).toBe('LAYER_REPO_OFFLINE');
    expect(e.message).toContain('repo t: no cached metadata');
    const filled = repoSet([config(`baseurl=${tree.repo}`)], cacheDir);
    await filled.refresh();
    const off = repoSet([config(body)], cacheDir);
    expect(await off.refresh({ cacheOnly: true })).toEqual([{ id: 't', status: 'cached' }]);
    const { result } = await installOne(off, 'foo')();
    expect(result.ok).toBe(true);
  });
});

describe('loading into the solver', () => {
  it('second run with unchanged repomd loads the .solv and never reads or fetches the XML', async () => {
    const cacheDir = tmp('cache');
    const body = `baseurl=${server.url}/m1\nmetadata_expire=0`;
    const first = repoSet([config(body)], cacheDir);
    await first.refresh();
    const one = await installOne(first, 'foo')();
    await first.close();
    expect(one.loaded).toMatchObject([{ id: 't', from: 'xml', filelists: false }]);
    expect(one.result.ok).toBe(true);
    const solvDir = join(cacheDir, 't', 'solv');
    expect(readdirSync(solvDir).filter((f) => f.endsWith('.solv'))).toHaveLength(1);

    // Sabotage the cached XML (same size, garbage): reading it now would fail loudly.
    const dataDir = join(cacheDir, 't', 'data');
    for (const f of readdirSync(dataDir)) writeFileSync(join(dataDir, f), Buffer.alloc(statSync(join(dataDir, f)).size, 0x41));
    server.requests.length = 0;
    const second = repoSet([config(body)], cacheDir);
    expect((await second.refresh())[0]!.status).toBe('unchanged');
    const two = await installOne(second, 'foo')();
    await second.close();
    expect(server.requests).toEqual(['/m1/repodata/repomd.xml']);
    expect(two.loaded).toMatchObject([{ id: 't', from: 'solv', packages: one.loaded[0]!.packages }]);
    expect(two.result).toEqual(one.result);
  });

  it('what downloading needs (location, checksum, size) comes from the sidecar: primary.xml is not parsed again', async () => {
    const cacheDir = tmp('cache');
    const body = `baseurl=${server.url}/m1\nmetadata_expire=0`;
    const first = repoSet([config(body)], cacheDir);
    await first.refresh();
    const one = await installOne(first, 'foo')();
    const nevra = one.result.ok ? one.result.transaction.steps.find((x) => x.pkg.name === 'foo')!.pkg.nevra : '';
    const record = (await first.active[0]!.records()).find((r) => `${r.name}-${r.version}-${r.release}.${r.arch}` === nevra.replace(/^[^-]+-\d+:/, 'foo-'))!;
    await first.close();
    expect(record.location).toBeTruthy();
    const want = { name: 'foo', location: record.location, checksum: record.checksum, downloadSize: record.downloadSize };

    // The refresh left the sidecar in place (the cache's prune used to delete it with the old
    // generation's files, so the first command after every refresh parsed primary again).
    // A sidecar of an older layer (sizes only): the records are parsed once, and the sidecar is rewritten whole.
    const dataDir = join(cacheDir, 't', 'data');
    const tsv = readdirSync(dataDir).find((f) => f.endsWith('.sizes.tsv'))!;
    const full = readFileSync(join(dataDir, tsv), 'utf8');
    expect(full).toContain(`${nevra}\t${record.downloadSize}\t${record.installSize}\t${record.location}\t${record.checksum}\n`);
    writeFileSync(join(dataDir, tsv), full.split('\n').map((l) => l.split('\t').slice(0, 3).join('\t')).join('\n'));
    const old = repoSet([config(body)], cacheDir);
    await old.refresh();
    expect(Object.fromEntries(await old.active[0]!.downloadRecords(new Set([nevra])))).toEqual({ [nevra]: expect.objectContaining(want) });
    await old.close();
    expect(readFileSync(join(dataDir, tsv), 'utf8')).toBe(full);

    // Sabotage the cached XML (not its sidecars): parsing it now would fail loudly.
    for (const f of readdirSync(dataDir)) if (!/\.(tsv|json)$/.test(f)) writeFileSync(join(dataDir, f), Buffer.alloc(statSync(join(dataDir, f)).size, 0x41));
    const second = repoSet([config(body)], cacheDir);
    await second.refresh();
    expect(Object.fromEntries(await second.active[0]!.downloadRecords(new Set([nevra])))).toEqual({ [nevra]: want });
    // The set's per-package form: keyed by repo and NEVRA; packages of other repos left out.
    const byKey = await second.downloadRecordsOf([{ repo: 't', nevra }, { repo: '@local', nevra }, { repo: '@System', nevra }]);
    expect([...byKey.keys()]).toEqual([repoPackageKey('t', nevra)]);
    expect(byKey.get(repoPackageKey('t', nevra))).toEqual(want);
    const sizes = await second.payloadSizesOf([{ repo: 't', nevra }]);
    expect(sizes.get(repoPackageKey('t', nevra))?.downloadSize).toBe(record.downloadSize);
    await second.close();
  });

  const pick = async (a: string, b: string) => {
      const cacheDir = tmp('cache');
      const set = repoSet([config(`baseurl=${tree.repo}\n${a}`, 'a'), config(`baseurl=${tree.repo}\n${b}`, 'b')], cacheDir);
      await set.refresh();
      const { result } = await installOne(set, 'foo')();
      await set.close();
      if (!result.ok) return 'unsolvable';
      return result.transaction.steps.find((s) => s.pkg.name === 'foo')!.pkg.repo;
  };

  it('a damaged .solv cache is rebuilt from the XML, not fatal', async () => {
    const cacheDir = tmp('cache');
    const body = `baseurl=${server.url}/m1`;
    const first = repoSet([config(body)], cacheDir);
    await first.refresh();
    const one = await installOne(first, 'foo')();
    await first.close();
    const solvDir = join(cacheDir, 't', 'solv');
    const [solv] = readdirSync(solvDir).filter((f) => f.endsWith('.solv'));
    writeFileSync(join(solvDir, solv!), 'garbage, not a solv file');
    const report = new RecordingReport();
    const second = repoSet([config(body)], cacheDir, { report });
    await second.refresh();
    const two = await installOne(second, 'foo')();
    await second.close();
    expect(two.loaded).toMatchObject([{ from: 'xml' }]);
    expect(two.result).toEqual(one.result);
    expect(report.messages).toEqual([{ level: 'info', message: expect.stringContaining('repo t: unusable .solv cache') }]);
    expect(readFileSync(join(solvDir, solv!)).subarray(0, 4).toString()).toBe('SOLV');
  });

  it('a damaged cached file is detected on load, removed, and fetched again by the next refresh', async () => {
    const cacheDir = tmp('cache');
    const body = `baseurl=${server.url}/m1`;
    const first = repoSet([config(body)], cacheDir);
    await first.refresh();
    await first.close();
    const dataDir = join(cacheDir, 't', 'data');
    const primary = readdirSync(dataDir).find((f) => f.endsWith('-primary.xml.gz'))!;
    const bytes = readFileSync(join(dataDir, primary));
    bytes[bytes.length >> 1]! ^= 0x55;
    writeFileSync(join(dataDir, primary), bytes);
    const second = repoSet([config(body)], cacheDir);
    expect((await second.refresh())[0]!.status).toBe('fresh');
    const e = (await installOne(second, 'foo')().catch((x: unknown) => x)) as LayerError;
    await second.close();
    expect(e).toBeInstanceOf(LayerError);
    expect(['LAYER_REPO_CHECKSUM', 'LAYER_REPO_CORRUPT']).toContain(e.code);
    expect(e.message).toMatch(/^repo t: primary \(.*\): .*\(cached copy removed\)$/s);
    expect(readdirSync(dataDir)).toEqual([]);
    server.requests.length = 0;
    const third = repoSet([config(body)], cacheDir);
    expect((await third.refresh())[0]!.status).toBe('unchanged');
    const { result } = await installOne(third, 'foo')();
    await third.close();
    expect(result.ok).toBe(true);
    expect(server.count(primary)).toBe(1);
    expectCacheClean(cacheDir);
  });

  it('dnf priority (lower wins) and excludepkgs/includepkgs reach the solver', async () => {
    expect(await pick('priority=50', 'priority=10')).toBe('b');
    expect(await pick('priority=10', 'priority=50')).toBe('a');
    expect(await pick('excludepkgs=fo*', '')).toBe('b');
    expect(await pick('includepkgs=hello', 'exclude=f?o')).toBe('unsolvable');
    expect(await pick('includepkgs=foo', 'exclude=f?o')).toBe('a');
  });

  // Contract (src/solver/types.ts RepoOptions.subpriority): "lower is preferred (dnf cost)";
  // repos/ passes dnf's cost unchanged and relies on the solver to honour that.
  it('dnf cost: the cheaper repo wins among equal priority', async () => {
    expect(await pick('cost=2000', 'cost=100')).toBe('b');
    expect(await pick('cost=100', 'cost=2000')).toBe('a');
  });

  it('filelists are fetched only when a spec needs a file outside primary', async () => {
    const cacheDir = tmp('cache');
    const set = repoSet([config(`baseurl=${server.url}/m1`)], cacheDir);
    await set.refresh();
    const pool = new Pool({ arch: 'x86_64' });
    const [a] = await set.load(pool, { specs: ['foo', '/usr/bin/hello'] });
    pool.free();
    expect(a!.filelists).toBe(false);
    expect(server.count('-filelists.xml.gz')).toBe(0);
    const mcDoc = '/a/noCaps';
    const pool2 = new Pool({ arch: 'x86_64' });
    const [b] = await set.load(pool2, { specs: [mcDoc] });
    const res = pool2.solve([{ action: 'install', select: { by: 'provides', dep: mcDoc } }], { allowUninstall: true });
    pool2.free();
    await set.close();
    expect(b!.filelists).toBe(true);
    expect(server.count('-filelists.xml.gz')).toBe(1);
    expect(res.ok && res.transaction.steps.map((s) => s.pkg.name)).toEqual(['capstest']);
    expectCacheClean(cacheDir);
  });
});

describe('CentOS Stream 9 metadata through the real loader', () => {
  it('BaseOS over file:// loads and solves `install dnf` to 145 packages, as testsolv and dnf do', async () => {
    const dir = requirePath(join(SHARED_DATA, 'repos/cs9-baseos-2022'));
    const set = repoSet([config(`baseurl=file://${dir}`, 'baseos')], tmp('cache'));
    expect((await set.refresh())[0]!.status).toBe('updated');
    const { loaded, result } = await installOne(set, 'dnf')();
    await set.close();
    expect(loaded[0]!.packages).toBe(1125);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.transaction.steps.filter((s) => s.kind === 'install')).toHaveLength(145);
  });

  it('libsolv\'s reader and ours give the same solve on BaseOS (each through a fresh cache)', async () => {
    const dir = requirePath(join(SHARED_DATA, 'repos/cs9-baseos-2022'));
    const results = [];
    for (const loader of ['libsolv', 'ts'] as const) {
      const cacheDir = tmp('cache');
      const warm = repoSet([config(`baseurl=${dir}`, 'baseos')], cacheDir);
      await warm.refresh();
      // A second RepoSet starts with nothing in memory: the loader choice is what reads the XML.
      const set = repoSet([config(`baseurl=${dir}`, 'baseos')], cacheDir);
      expect((await set.refresh())[0]!.status).toBe('fresh');
      const { loaded, result } = await installOne(set, 'dnf', undefined, loader)();
      expect(loaded[0]).toMatchObject({ from: 'xml', packages: 1125 });
      results.push(result);
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('parsePrimary and libsolv\'s own reader see the same packages and solve alike on AppStream', async () => {
    const primaryOf = (repo: string) => {
      const dir = requirePath(join(SHARED_DATA, 'repos', repo, 'repodata'));
      return gunzipSync(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('-primary.xml.gz'))!)));
    };
    const xml = primaryOf('cs9-appstream-2025');
    const baseXml = primaryOf('cs9-baseos-2022');
    const records = await parsePrimary(xml);
    const baseRecords = await parsePrimary(baseXml);
    const view = (source: RepoSource, base: RepoSource) => {
      const pool = new Pool({ arch: 'x86_64' });
      try {
        pool.addRepo('baseos', base);
        const repo = pool.addRepo('r', source);
        const pkgs = repo.packages().map((p) => p.nevra);
        const solve = (name: string) => pool.solve([{ action: 'install', select: { by: 'name', name } }], {});
        return { pkgs, solves: ['nginx', 'python3.12', 'podman', 'httpd', 'nodejs'].map(solve) };
      } finally {
        pool.free();
      }
    };
    const ours = view({ kind: 'records', records }, { kind: 'records', records: baseRecords });
    const theirs = view({ kind: 'rpmmd', primary: xml }, { kind: 'rpmmd', primary: baseXml });
    expect(ours.pkgs).toHaveLength(17649);
    expect(ours.solves.filter((r) => r.ok).length).toBeGreaterThanOrEqual(3);
    expect(ours.pkgs).toEqual(theirs.pkgs);
    expect(ours.solves).toEqual(theirs.solves);
  });

  it('AppStream 2025 (files listed in repomd but absent are not needed) loads with BaseOS and solves', async () => {
    const base = requirePath(join(SHARED_DATA, 'repos/cs9-baseos-2022'));
    const app = requirePath(join(SHARED_DATA, 'repos/cs9-appstream-2025'));
    const report = new RecordingReport();
    const set = repoSet([config(`baseurl=${base}`, 'baseos'), config(`baseurl=${app}`, 'appstream')], tmp('cache'), { report });
    await set.refresh();
    const { loaded, result } = await installOne(set, 'nginx')();
    await set.close();
    expect(loaded.map((l) => [l.id, l.packages, l.filelists])).toEqual([['baseos', 1125, true], ['appstream', 17649, false]]);
    // AppStream's filelists is a stub whose open-checksum does not match: said clearly, not fatal.
    expect(report.messages).toEqual([{ level: 'warn', message: expect.stringMatching(/^repo appstream: cannot fetch filelists.*open-checksum.*going on with primary's file list only/s) }]);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.transaction.steps.some((s) => s.pkg.name === 'nginx' && s.pkg.repo === 'appstream')).toBe(true);
  });

  it('AppStream: a file repomd.xml lists but the mirror lacks is reported by name when asked for', async () => {
    const app = requirePath(join(SHARED_DATA, 'repos/cs9-appstream-2025'));
    const set = repoSet([config(`baseurl=${app}\nretries=0`, 'appstream')], tmp('cache'));
    await set.refresh();
    const repo = set.repos[0]!;
    expect(repo.record('other')).toBeDefined();
    const e = (await repo.dataFile('other').catch((x: unknown) => x)) as LayerError;
    await set.close();
    expect(e).toBeInstanceOf(LayerError);
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toMatch(/repo appstream: cannot fetch other .*04e14388[0-9a-f]*-other\.xml\.gz: ENOENT/s);
    expect(await repo.dataFile('modules')).toMatch(/-modules\.yaml\.xz$/);
  });

  it('a missing local repo: LAYER_REPO_UNREACHABLE naming the path', async () => {
    const set = repoSet([config('baseurl=/nonexistent/repo\nretries=0', 'gone')], tmp('cache'));
    const e = (await set.refresh().catch((x: unknown) => x)) as LayerError;
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toContain('/nonexistent/repo/repodata/repomd.xml');
  });
});
