/**
 * downloadPackages (src/repos/packages.ts) over real HTTP on 127.0.0.1: checksum from the
 * primary record, mirrors tried in order, verified cache reuse, a damaged cached copy fetched
 * again, cache-only errors naming the package; a local (file://) repo's packages used in place.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { downloadPackages, parseRepoFile, RepoSet, type PackageDownload } from '../../src/repos/index.js';
import { RecordingReport } from '../../src/report.js';
import { FaultServer } from '../support/http-server.js';
import { demoRepos, workspace, type Workspace } from './helpers.js';

let ws: Workspace;
let good: FaultServer;
let bad: FaultServer;
let set: RepoSet;
let items: PackageDownload[];
let demo: Awaited<ReturnType<typeof demoRepos>>;

beforeAll(async () => {
  demo = await demoRepos();
  ws = await workspace('layer-pkgdl-');
  good = await new FaultServer(demo.updates).start();
  bad = await new FaultServer(demo.updates).start();
  bad.fault(/\.rpm$/, { kind: 'corrupt' });
  // The corrupting mirror first: its repomd.xml is fine, its packages are not.
  const cfg = parseRepoFile(`[updates]\nbaseurl=${bad.url}/ ${good.url}/\ngpgcheck=0\nretries=0\n`, 'dl.repo', {});
  set = new RepoSet(cfg, { cacheDir: join(ws.dir, 'md'), backoffMs: 5 });
  await set.refresh();
  const repo = set.active[0]!;
  items = (await repo.records()).map((record) => ({ repo, record }));
  expect(items.length).toBeGreaterThanOrEqual(2);
}, 120_000);

afterAll(async () => {
  await set?.close();
  await good?.stop();
  await bad?.stop();
  await ws?.cleanup();
});

const sha256 = async (p: string) => `sha256:${createHash('sha256').update(await readFile(p)).digest('hex')}`;

describe('downloadPackages', () => {
  it('skips a mirror serving corrupt packages and keeps only verified files', async () => {
    const got = await downloadPackages(items, { cacheDir: join(ws.dir, 'pkgs') });
    for (const [i, g] of got.entries()) {
      expect(g.cached).toBe(false);
      expect(await sha256(g.path)).toBe(items[i]!.record.checksum);
    }
    expect(bad.requests.filter((r) => r.endsWith('.rpm')).length).toBe(items.length);
    expect(good.requests.filter((r) => r.endsWith('.rpm')).length).toBe(items.length);
  });

  it('reuses verified cached packages without any request', async () => {
    const before = good.requests.length + bad.requests.length;
    const got = await downloadPackages(items, { cacheDir: join(ws.dir, 'pkgs') });
    expect(got.every((g) => g.cached)).toBe(true);
    expect(good.requests.length + bad.requests.length).toBe(before);
  });

  it('a damaged cached copy is removed and fetched again, with a warning', async () => {
    const [first] = await downloadPackages(items.slice(0, 1), { cacheDir: join(ws.dir, 'pkgs') });
    await writeFile(first!.path, 'not an rpm');
    const report = new RecordingReport();
    const [again] = await downloadPackages(items.slice(0, 1), { cacheDir: join(ws.dir, 'pkgs'), report });
    expect(again!.cached).toBe(false);
    expect(await sha256(again!.path)).toBe(items[0]!.record.checksum);
    expect(report.messages.some((m) => m.level === 'warn' && m.message.includes('does not match'))).toBe(true);
  });

  it('cache-only without a cached copy is LAYER_REPO_OFFLINE naming the package', async () => {
    const err = await downloadPackages(items.slice(0, 1), { cacheDir: join(ws.dir, 'empty'), cacheOnly: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_REPO_OFFLINE');
    expect((err as LayerError).message).toContain(items[0]!.record.name);
  });

  it('when every mirror serves a bad copy the error names the package and each URL, and nothing is left behind', async () => {
    good.fault(/\.rpm$/, { kind: 'corrupt' });
    try {
      const err = await downloadPackages(items.slice(0, 1), { cacheDir: join(ws.dir, 'allbad') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LayerError);
      expect((err as LayerError).code).toBe('LAYER_REPO_CHECKSUM');
      expect((err as LayerError).message).toContain(`package ${items[0]!.record.name}`);
      expect((err as LayerError).message).toContain(bad.url);
      expect((err as LayerError).message).toContain(good.url);
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(join(ws.dir, 'allbad', 'updates'))).toEqual([]);
    } finally {
      good.clearFaults();
    }
  });

  it('packages of a file:// repo are used where they lie, even cache-only; a damaged one falls through to the next baseurl', async () => {
    const { cp, readdir } = await import('node:fs/promises');
    const { pathToFileURL } = await import('node:url');
    const local = join(ws.dir, 'local-updates');
    await cp(demo.updates, local, { recursive: true });
    const cfg = parseRepoFile(`[updates]\nbaseurl=${pathToFileURL(local).href}/ ${good.url}/\ngpgcheck=0\nretries=0\n`, 'local.repo', {});
    const localSet = new RepoSet(cfg, { cacheDir: join(ws.dir, 'md-local'), backoffMs: 5 });
    try {
      await localSet.refresh();
      const repo = localSet.active[0]!;
      const mine = (await repo.records()).map((record) => ({ repo, record }));
      const before = good.requests.length;
      for (const cacheOnly of [false, true]) {
        const got = await downloadPackages(mine, { cacheDir: join(ws.dir, 'pkgs-local'), cacheOnly });
        for (const [i, g] of got.entries()) {
          expect(g.inPlace).toBe(true);
          expect(g.path.startsWith(`${local}/`)).toBe(true);
          expect(await sha256(g.path)).toBe(mine[i]!.record.checksum);
        }
      }
      // Nothing was copied, nothing was fetched.
      expect(await readdir(join(ws.dir, 'pkgs-local')).catch(() => [])).toEqual([]);
      expect(good.requests.length).toBe(before);
      // A damaged local file is not used: the package comes from the next baseurl, into the cache.
      await writeFile(join(local, mine[0]!.record.location!), 'not an rpm');
      const [again] = await downloadPackages(mine.slice(0, 1), { cacheDir: join(ws.dir, 'pkgs-local') });
      expect(again!.inPlace).toBeUndefined();
      expect(again!.path.startsWith(join(ws.dir, 'pkgs-local'))).toBe(true);
      expect(await sha256(again!.path)).toBe(mine[0]!.record.checksum);
      expect(good.requests.filter((r) => r.endsWith('.rpm')).length).toBeGreaterThan(0);
    } finally {
      await localSet.close();
    }
  });
});
