/**
 * Issue 10 ("bounded resources against a hostile mirror") and issue 11 ("a dead repo costs
 * 48 s"), through the repos/ API on a createrepo_c repo served from 127.0.0.1: an endless
 * package body, an endless repomd.xml, a trickling mirror, a dead repo, a decompression bomb,
 * control characters in metadata. Each failed (ran out of memory, hung, or took 48 s) before
 * the bounds in src/net existed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { downloadPackages, RepoSet, type PackageDownload } from '../../src/repos/index.js';
import { RecordingReport } from '../../src/report.js';
import { FaultServer } from '../support/http-server.js';
import { config, expectCacheClean, fixtureTree, repoSet, tmp } from './helpers.js';

let tree: { root: string; repo: string };
let server: FaultServer;
let primaryName: string;

beforeAll(async () => {
  tree = fixtureTree();
  primaryName = found(readdirSync(join(tree.repo, 'repodata')).find((f) => f.endsWith('-primary.xml.gz')), 'primary.xml.gz');
  server = await new FaultServer(tree.root).start();
});
afterAll(() => server.stop());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
  server.sent.clear();
});

async function rejection(p: Promise<unknown>): Promise<LayerError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LayerError);
  return e as LayerError;
}

/** Refresh one repo `t` with `body` as its .repo section; the error, and how long it took. */
async function refreshFails(body: string, extra: ConstructorParameters<typeof RepoSet>[1] | undefined = undefined) {
  const cacheDir = tmp('cache');
  const set = extra ? new RepoSet([config(body)], { ...extra, cacheDir }) : repoSet([config(body)], cacheDir);
  const t0 = Date.now();
  try {
    const e = await rejection(set.refresh());
    expectCacheClean(cacheDir);
    return { e, ms: Date.now() - t0 };
  } finally {
    await set.close();
  }
}

function found<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`fixture: no ${what}`);
  return x;
}

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

describe('an endless package body', () => {
  it('stops at the size primary.xml declares, names the package and URL, memory stays flat', async () => {
    const set = repoSet([config(`baseurl=${server.url}/m1\nretries=3`)], tmp('cache'));
    await set.refresh();
    const repo = found(set.repos[0], 'repo t');
    const foo = found((await repo.records()).find((r) => r.name === 'foo'), 'package foo');
    expect(foo.downloadSize).toBe(6105); // ../shared/data/rpms/foo-1.0-1.noarch.rpm: "declared 6 kB"
    server.fault('/m1/foo-1.0-1.noarch.rpm', { kind: 'endless' });
    const cacheDir = tmp('pkgs');
    const item: PackageDownload = { repo, record: { ...foo, nevra: 'foo-1.0-1.noarch' } };
    const before = { heap: heap(), rss: process.memoryUsage().rss };
    const t0 = Date.now();
    const e = await rejection(downloadPackages([item], { cacheDir }));
    const ms = Date.now() - t0;
    await set.close();
    expect(e.code).toBe('LAYER_REPO_CHECKSUM');
    expect(e.message).toContain('package foo-1.0-1.noarch from repo t: cannot download foo-1.0-1.noarch.rpm');
    expect(e.message).toContain(`${server.url}/m1/foo-1.0-1.noarch.rpm: reply longer than 6105 bytes (the size the repo metadata declares); stopped reading`);
    expect(server.count('foo-1.0-1.noarch.rpm')).toBe(1);
    expect(ms).toBeLessThan(5000);
    // Before: ~100 MB/s of queued writes (4 GB in 45 s). Now: what the sockets buffer at most.
    expect((server.sent.get('/m1/foo-1.0-1.noarch.rpm') ?? 0)).toBeLessThan(32 << 20);
    expect(heap() - before.heap).toBeLessThan(32 << 20);
    expect(process.memoryUsage().rss - before.rss).toBeLessThan(96 << 20);
    // Nothing half-downloaded is left to look like a package.
    expect(readdirSync(join(cacheDir, 't'))).toEqual([]);
  });
});

describe('an endless repomd.xml', () => {
  it('is cut at 1 MiB with LAYER_REPO_CORRUPT naming the URL (no RangeError, no exit 70)', async () => {
    server.fault('repomd.xml', { kind: 'endless' });
    const before = heap();
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1`);
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toContain(`${server.url}/m1/repodata/repomd.xml: reply longer than 1048576 bytes (layer's 1 MiB limit for files of undeclared size)`);
    expect(server.count('repomd.xml')).toBe(1);
    expect(ms).toBeLessThan(5000);
    expect(heap() - before).toBeLessThan(32 << 20);
  });

  it('mirrorlists are capped the same way', async () => {
    server.fault('/mirrorlist', { kind: 'endless' });
    server.put('/mirrorlist', 'unused');
    const { e } = await refreshFails(`mirrorlist=${server.url}/mirrorlist`);
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toContain(`${server.url}/mirrorlist: reply longer than 1048576 bytes`);
  });
});

describe('a trickling mirror', () => {
  // A byte every 100 ms: under the idle timeout, far under minrate.
  const trickle = { kind: 'trickle', intervalMs: 100 } as const;

  it('minrate= and timeout= from the repo file: abandoned after one window, the next mirror serves', async () => {
    server.fault('/m1/repodata/repomd.xml', trickle);
    const cacheDir = tmp('cache');
    const set = repoSet([config(`baseurl=${server.url}/m1 ${server.url}/m2\ntimeout=1\nminrate=1000`)], cacheDir);
    const t0 = Date.now();
    expect(await set.refresh()).toEqual([{ id: 't', status: 'updated' }]);
    await set.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(server.count('/m1/repodata/repomd.xml')).toBe(1); // too slow is not retried
    expect(server.count('/m2/repodata/repomd.xml')).toBe(1);
    expectCacheClean(cacheDir);
  });

  it('alone: LAYER_REPO_UNREACHABLE saying it was too slow, in about one window', async () => {
    server.fault(primaryName, trickle);
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1\ntimeout=1\nminrate=1000`);
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toMatch(new RegExp(`${primaryName}: too slow: \\d+ bytes in 1\\.\\d s, below minrate 1000 B/s`));
    expect(ms).toBeLessThan(3000);
  });

  it('the dnf default minrate applies when the repo file says nothing (1000 B/s over timeout=2)', async () => {
    server.fault('repomd.xml', trickle);
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1\ntimeout=2`);
    expect(e.message).toMatch(/too slow: \d+ bytes in 2\.\d s, below minrate 1000 B\/s/);
    expect(ms).toBeLessThan(4000);
  });
});

describe('a dead repo (issue 11: 48 s before; dnf 4.14 gives up in 0.6 s)', () => {
  // dnf's defaults (retries=10, timeout=30, minrate=1000) and the fetcher's real backoff.
  const dnfDefaults = { cacheDir: '' };

  it('503 at once on every request: LAYER_REPO_UNREACHABLE in under ~1 s (4 requests, as dnf)', async () => {
    server.fault(/./, { kind: 'status', code: 503 });
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1`, dnfDefaults);
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toContain(`${server.url}/m1/repodata/repomd.xml: HTTP 503 (gave up after 4 attempts: retry budget spent)`);
    expect(server.count('repomd.xml')).toBe(4);
    expect(ms).toBeLessThan(1000);
  });

  it('404 on repomd.xml: one request, no retry', async () => {
    server.fault('repomd.xml', { kind: 'status', code: 404 });
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1`, dnfDefaults);
    expect(e.message).toContain(`${server.url}/m1/repodata/repomd.xml: HTTP 404`);
    expect(server.count('repomd.xml')).toBe(1);
    expect(ms).toBeLessThan(500);
  });

  it('every mirror answering 503 or 404: each tried, the whole repo fails in under ~1 s', async () => {
    server.fault('/m1/repodata/repomd.xml', { kind: 'status', code: 503 });
    server.fault('/m2/repodata/repomd.xml', { kind: 'status', code: 404 });
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1 ${server.url}/m2`, dnfDefaults);
    expect(e.message).toMatch(/m1\/repodata\/repomd\.xml: HTTP 503.*m2\/repodata\/repomd\.xml: HTTP 404/s);
    expect(ms).toBeLessThan(1000);
  });

  it('skip_if_unavailable: the dead repo is skipped within the budget and the others load', async () => {
    server.fault('/m1/repodata/repomd.xml', { kind: 'status', code: 503 });
    const report = new RecordingReport();
    const set = new RepoSet([config(`baseurl=${server.url}/m1\nskip_if_unavailable=1`, 'dead'), config(`baseurl=${server.url}/m2`, 'good')], {
      cacheDir: tmp('cache'),
      report,
    });
    const t0 = Date.now();
    const out = await set.refresh();
    await set.close();
    expect(out.map((o) => [o.id, o.status])).toEqual([['dead', 'skipped'], ['good', 'updated']]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('retries= from the repo file caps the count (retries=1: two requests)', async () => {
    server.fault('repomd.xml', { kind: 'status', code: 503 });
    await refreshFails(`baseurl=${server.url}/m1\nretries=1`, dnfDefaults);
    expect(server.count('repomd.xml')).toBe(2);
  });
});

describe('hostile metadata content', () => {
  /** Serve `primary` (gzipped XML) with a repomd.xml whose checksum and sizes vouch for it. */
  function forgePrimary(primary: Buffer, openSize: number, openSha: string): void {
    const orig = join(tree.repo, 'repodata', primaryName);
    let repomd = readFileSync(join(tree.repo, 'repodata/repomd.xml'), 'utf8');
    const rec = found(/<data type="primary">[\s\S]*?<\/data>/.exec(repomd)?.[0], 'primary record');
    const forged = rec
      .replace(/<checksum type="sha256">[0-9a-f]+<\/checksum>/, `<checksum type="sha256">${sha256(primary)}</checksum>`)
      .replace(/<open-checksum type="sha256">[0-9a-f]+<\/open-checksum>/, `<open-checksum type="sha256">${openSha}</open-checksum>`)
      .replace(/<size>\d+<\/size>/, `<size>${primary.length}</size>`)
      .replace(/<open-size>\d+<\/open-size>/, `<open-size>${openSize}</open-size>`);
    repomd = repomd.replace(rec, forged);
    expect(existsSync(orig)).toBe(true);
    server.fault('repomd.xml', { kind: 'body', body: repomd });
    server.fault(primaryName, { kind: 'body', body: primary });
  }
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('a decompression bomb stops at the declared open-size (LAYER_REPO_CHECKSUM)', async () => {
    const xml = Buffer.concat([Buffer.from('<?xml version="1.0"?>\n<metadata packages="1"><package><name>'), Buffer.alloc(64 << 20, 0x61)]);
    const bomb = gzipSync(xml, { level: 9 });
    expect(bomb.length).toBeLessThan(1 << 20);
    forgePrimary(bomb, 4096, '0'.repeat(64));
    const before = heap();
    const { e, ms } = await refreshFails(`baseurl=${server.url}/m1`);
    expect(e.code).toBe('LAYER_REPO_CHECKSUM');
    expect(e.message).toContain('decompressed size more than 4096 bytes (stopped reading), repomd.xml says 4096');
    expect(ms).toBeLessThan(5000);
    expect(heap() - before).toBeLessThan(64 << 20);
  });

  it('a release with terminal escapes as character references is refused: LAYER_REPO_CORRUPT naming the file', async () => {
    const xml = readFileSync(join(tree.repo, 'repodata', primaryName));
    const text = gunzipSync(xml).toString('utf8');
    const hostile = text.replace(/(<name>foo<\/name>[\s\S]*?rel=")([^"]*)"/, '$1$2&#27;]0;pwned&#7;&#27;[2J"');
    expect(hostile).not.toBe(text);
    const raw = Buffer.from(hostile);
    forgePrimary(gzipSync(raw), raw.length, sha256(raw));
    const { e } = await refreshFails(`baseurl=${server.url}/m1`);
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toMatch(new RegExp(`repo t: primary \\(http://127\\.0\\.0\\.1:\\d+/m1/repodata/${primaryName}\\): malformed XML: character reference &#27; \\(U\\+001B\\) is not an XML character at offset \\d+`));
    // The message itself carries no control character.
    expect(/[\u0000-\u001f]/.test(e.message.replace(/\n/g, ''))).toBe(false);
  });
});
