import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { RecordingReport } from '../../src/report.js';
import { makeRepo, sharedRpms } from '../support/createrepo.js';
import { FaultServer } from '../support/http-server.js';
import { config, expectCacheClean, fixtureTree, fileSha256, repoSet, tmp } from './helpers.js';

let tree: { root: string; repo: string };
let server: FaultServer;
let primaryName: string;

beforeAll(async () => {
  tree = fixtureTree();
  primaryName = readdirSync(join(tree.repo, 'repodata')).find((f) => f.endsWith('-primary.xml.gz'))!;
  server = await new FaultServer(tree.root).start();
});
afterAll(() => server.stop());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

async function refresh(body: string, cacheDir = tmp('cache')) {
  const set = repoSet([config(body)], cacheDir);
  try {
    const out = await set.refresh();
    expectCacheClean(cacheDir);
    const records = await set.repos[0]!.records();
    return { out, records, cacheDir };
  } finally {
    await set.close();
  }
}

async function refreshError(body: string, cacheDir = tmp('cache')): Promise<LayerError> {
  const set = repoSet([config(body)], cacheDir);
  try {
    const e = await set.refresh().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LayerError);
    expectCacheClean(cacheDir);
    return e as LayerError;
  } finally {
    await set.close();
  }
}

const base = () => `baseurl=${server.url}/m1\nretries=2\ntimeout=1`;

describe('fetching over HTTP', () => {
  it('fetches repomd and primary (not filelists) and caches only verified files', async () => {
    const { out, records, cacheDir } = await refresh(base());
    expect(out).toEqual([{ id: 't', status: 'updated' }]);
    expect(records.map((r) => r.name)).toContain('hello');
    expect(server.count('repomd.xml')).toBe(1);
    expect(server.count('-primary.xml.gz')).toBe(1);
    expect(server.count('-filelists.xml.gz')).toBe(0);
    expect(expectCacheClean(cacheDir).dataFiles).toEqual([primaryName]);
  });

  it('reports per-repo byte progress through the Report (never stdout)', async () => {
    const bars: { label: string; total: number | undefined; unit: string | undefined; ticks: number; done: boolean }[] = [];
    const report = {
      ...new RecordingReport(),
      section: <T>(_n: string, fn: () => Promise<T>) => fn(),
      info() {},
      warn() {},
      record() {},
      progress(label: string, total?: number, unit?: 'bytes' | 'items') {
        const bar = { label, total, unit, ticks: 0, done: false };
        bars.push(bar);
        return { tick: (n: number) => void (bar.ticks += n), done: () => void (bar.done = true) };
      },
    };
    const write = process.stdout.write;
    let stdout = '';
    process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof process.stdout.write;
    const set = repoSet([config(base())], tmp('cache'), { report });
    try {
      await set.refresh();
    } finally {
      process.stdout.write = write;
      await set.close();
    }
    const size = readFileSync(join(tree.repo, 'repodata', primaryName)).length;
    expect(bars).toEqual([{ label: 't: primary', total: size, unit: 'bytes', ticks: size, done: true }]);
    expect(stdout).toBe('');
  });

  it('500: retried with backoff, then recovers', async () => {
    server.fault('repomd.xml', { kind: 'status', code: 500 }, 2);
    const { out } = await refresh(base());
    expect(out[0]!.status).toBe('updated');
    expect(server.count('repomd.xml')).toBe(3);
  });

  it('500 for good: LAYER_REPO_UNREACHABLE naming repo, URL and failure; nothing cached', async () => {
    server.fault('repomd.xml', { kind: 'status', code: 503 });
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toContain('repo t:');
    expect(e.message).toContain(`${server.url}/m1/repodata/repomd.xml: HTTP 503`);
    expect(e.hint).toContain('t.repo:1');
    expect(server.count('repomd.xml')).toBe(3);
  });

  it('404 of a checksummed file: no retry on that mirror, next mirror serves it', async () => {
    server.fault(`/m1/repodata/${primaryName}`, { kind: 'status', code: 404 });
    const { out, cacheDir } = await refresh(`baseurl=${server.url}/m1 ${server.url}/m2\nretries=3\ntimeout=1`);
    expect(out[0]!.status).toBe('updated');
    expect(server.count(`/m1/repodata/${primaryName}`)).toBe(1);
    expect(server.count(`/m2/repodata/${primaryName}`)).toBe(1);
    expectCacheClean(cacheDir);
  });

  it('connection reset: retried, then recovers; for good: unreachable', async () => {
    server.fault(primaryName, { kind: 'reset' }, 1);
    expect((await refresh(base())).out[0]!.status).toBe('updated');
    expect(server.count(primaryName)).toBe(2);
    server.fault(primaryName, { kind: 'reset' });
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toContain(primaryName);
  });

  it('slow response past the timeout: abandoned and retried; for good: unreachable', async () => {
    server.fault(primaryName, { kind: 'slow', delayMs: 2500 }, 1);
    expect((await refresh(`baseurl=${server.url}/m1\nretries=1\ntimeout=0.5`)).out[0]!.status).toBe('updated');
    server.fault('repomd.xml', { kind: 'slow', delayMs: 2500 });
    const e = await refreshError(`baseurl=${server.url}/m1\nretries=0\ntimeout=0.5`);
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toMatch(/timeout/i);
  });

  it('truncated body: retried; for good: unreachable, no partial file kept', async () => {
    server.fault(primaryName, { kind: 'truncate' }, 1);
    expect((await refresh(base())).out[0]!.status).toBe('updated');
    server.fault(primaryName, { kind: 'truncate', bytes: 100 });
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_UNREACHABLE');
    expect(e.message).toMatch(/truncated|interrupted|terminated|closed/i);
  });

  it('repomd <location xml:base> sends that file to another server', async () => {
    const repomd = readFileSync(join(tree.repo, 'repodata/repomd.xml'), 'utf8');
    const based = repomd.replace(`<location href="repodata/${primaryName}"/>`, `<location xml:base="${server.url}/m2" href="repodata/${primaryName}"/>`);
    expect(based).not.toBe(repomd);
    server.fault('/m1/repodata/repomd.xml', { kind: 'body', body: based });
    expect((await refresh(base())).out[0]!.status).toBe('updated');
    expect(server.count(`/m1/repodata/${primaryName}`)).toBe(0);
    expect(server.count(`/m2/repodata/${primaryName}`)).toBe(1);
  });

  it('redirect is followed', async () => {
    server.fault('/m1/repodata/repomd.xml', { kind: 'redirect', location: '/m2/repodata/repomd.xml' });
    expect((await refresh(base())).out[0]!.status).toBe('updated');
    expect(server.count('/m2/repodata/repomd.xml')).toBe(1);
  });
});

describe('verification', () => {
  it('wrong checksum: LAYER_REPO_CHECKSUM naming repo and file; the last good copy survives', async () => {
    const cacheDir = tmp('cache');
    await refresh(base(), cacheDir);
    const before = readFileSync(join(cacheDir, 't', 'repomd.xml'));
    // A new generation (another createrepo_c run, fewer packages) whose primary arrives corrupted.
    const next = makeRepo(join(tmp('next'), 'repo'), sharedRpms().slice(0, 3));
    const nextPrimary = readdirSync(join(next, 'repodata')).find((f) => f.endsWith('-primary.xml.gz'))!;
    server.put(`/m1/repodata/${nextPrimary}`, readFileSync(join(next, 'repodata', nextPrimary)));
    server.fault('repomd.xml', { kind: 'body', body: readFileSync(join(next, 'repodata/repomd.xml')) });
    server.fault(nextPrimary, { kind: 'corrupt' });
    const set = repoSet([config(base())], cacheDir);
    const e = (await set.refresh({ force: true }).catch((x: unknown) => x)) as LayerError;
    await set.close();
    expect(e.code).toBe('LAYER_REPO_CHECKSUM');
    expect(e.message).toMatch(/repo t: .*primary .*sha256 [0-9a-f]{64}, repomd\.xml says [0-9a-f]{64}/s);
    expect(readFileSync(join(cacheDir, 't', 'repomd.xml'))).toEqual(before);
    expect(expectCacheClean(cacheDir).dataFiles).toEqual([primaryName]);
    // ... and it still loads offline.
    server.clearFaults();
    const off = repoSet([config(base())], cacheDir);
    expect(await off.refresh({ cacheOnly: true })).toEqual([{ id: 't', status: 'cached' }]);
    expect((await off.repos[0]!.records()).length).toBeGreaterThan(0);
    await off.close();
  });

  /** Serve `primary` bytes with a repomd.xml whose checksum/size match them. */
  function serveForgedPrimary(primary: Buffer, dropOpen: boolean): void {
    let repomd = readFileSync(join(tree.repo, 'repodata/repomd.xml'), 'utf8');
    const orig = readFileSync(join(tree.repo, 'repodata', primaryName));
    repomd = repomd.replace(fileSha256(join(tree.repo, 'repodata', primaryName)), (() => {
      return require_sha(primary);
    })());
    repomd = repomd.replace(`<size>${orig.length}</size>`, `<size>${primary.length}</size>`);
    if (dropOpen) repomd = repomd.replace(/<open-checksum[^>]*>[^<]*<\/open-checksum>\s*<open-size>\d+<\/open-size>/, '');
    server.fault('repomd.xml', { kind: 'body', body: repomd });
    server.fault(primaryName, { kind: 'body', body: primary });
  }
  function require_sha(b: Buffer): string {
    const p = join(tmp('sha'), 'f');
    writeFileSync(p, b);
    return fileSha256(p);
  }

  it('truncated compressed data with a matching checksum: LAYER_REPO_CORRUPT', async () => {
    const orig = readFileSync(join(tree.repo, 'repodata', primaryName));
    serveForgedPrimary(orig.subarray(0, orig.length >> 1), false);
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toMatch(/repo t: primary \(.*\): corrupt compressed data/);
  });

  it('malformed XML (checksums fine): LAYER_REPO_CORRUPT naming the file', async () => {
    serveForgedPrimary(gzipSync('<metadata packages="1"><package><name>x</nam></package></metadata>'), true);
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toMatch(/repo t: primary \(http.*-primary\.xml\.gz\): malformed XML: <\/nam> closes <name>/);
  });

  it('open-checksum mismatch: LAYER_REPO_CHECKSUM', async () => {
    const other = gzipSync(Buffer.from('<?xml version="1.0"?>\n<metadata packages="0"></metadata>\n'));
    serveForgedPrimary(other, false);
    const e = await refreshError(base());
    expect(e.code).toBe('LAYER_REPO_CHECKSUM');
    expect(e.message).toMatch(/decompressed (size|sha256)/);
  });
});

describe('mirrors', () => {
  it('mirrorlist: dead and failing mirrors are skipped in order', async () => {
    server.put('/mirrorlist', `# mirrors\n\nhttp://127.0.0.1:1/dead\nnot a url\n${server.url}/m1\n${server.url}/m2\n`);
    server.fault('/m1/repodata/repomd.xml', { kind: 'status', code: 500 });
    const { out, cacheDir } = await refresh(`mirrorlist=${server.url}/mirrorlist\nretries=0\ntimeout=1`);
    expect(out[0]!.status).toBe('updated');
    expect(server.count('/m2/repodata/repomd.xml')).toBe(1);
    expectCacheClean(cacheDir);
  });

  it('metalink: a mirror whose repomd.xml does not match the metalink hash is skipped', async () => {
    const repomdPath = join(tree.repo, 'repodata/repomd.xml');
    const size = readFileSync(repomdPath).length;
    const metalink = (hash: string) => `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files><file name="repomd.xml">
  <mm0:timestamp>1</mm0:timestamp><size>${size}</size>
  <verification><hash type="md5">ignored-unless-known</hash><hash type="sha256">${hash}</hash></verification>
  <resources maxconnections="1">
   <url protocol="http" type="http" location="XX" preference="50">${server.url}/m2/repodata/repomd.xml</url>
   <url protocol="http" type="http" location="XX" preference="100">${server.url}/m1/repodata/repomd.xml</url>
   <url protocol="rsync" type="rsync" location="XX" preference="100">rsync://example/repodata/repomd.xml</url>
  </resources>
 </file></files>
</metalink>`;
    server.put('/metalink', metalink(fileSha256(repomdPath)));
    server.fault('/m1/repodata/repomd.xml', { kind: 'corrupt' });
    const { out } = await refresh(`metalink=${server.url}/metalink\nretries=0\ntimeout=1`);
    expect(out[0]!.status).toBe('updated');
    expect(server.count('/m1/repodata/repomd.xml')).toBe(1);
    expect(server.count('/m2/repodata/repomd.xml')).toBe(1);
    server.clearFaults();
    server.put('/metalink', metalink('0'.repeat(64)));
    const e = await refreshError(`metalink=${server.url}/metalink\nretries=0\ntimeout=1`);
    expect(e.code).toBe('LAYER_REPO_CHECKSUM');
    expect(e.message).toContain('metalink says');
  });

  it('skip_if_unavailable: the dead repo is skipped with a warning, the others work', async () => {
    const report = new RecordingReport();
    const cacheDir = tmp('cache');
    const set = repoSet([config(`baseurl=http://127.0.0.1:1/\nretries=0\nskip_if_unavailable=1`, 'dead'), config(base(), 'good')], cacheDir, { report });
    const out = await set.refresh();
    await set.close();
    expect(out.map((o) => [o.id, o.status])).toEqual([['dead', 'skipped'], ['good', 'updated']]);
    expect(set.active.map((r) => r.id)).toEqual(['good']);
    expect(report.messages).toEqual([{ level: 'warn', message: expect.stringMatching(/^skipping repo dead .*http:\/\/127\.0\.0\.1:1\/repodata\/repomd\.xml/s) }]);
  });

  it('repo_gpgcheck=1 is enforced: a repo without repomd.xml.asc fails (test/trust/repomd.test.ts has the rest)', async () => {
    const set = repoSet([config(`${base()}\nrepo_gpgcheck=1\ngpgkey=file:///dev/null`)], tmp('cache'));
    await expect(set.refresh().finally(() => set.close())).rejects.toMatchObject({ code: 'LAYER_REPO_SIGNATURE' });
  });
});

describe('proxy', () => {
  it('proxy= sends the transfer through an HTTP CONNECT proxy', async () => {
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (req, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const { port } = proxy.address() as AddressInfo;
    try {
      const { out } = await refresh(`${base()}\nproxy=http://127.0.0.1:${port}`);
      expect(out[0]!.status).toBe('updated');
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([`127.0.0.1:${server.port}`]));
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('crash safety', () => {
  it('a process killed mid-download leaves nothing that looks valid; the next run recovers', async () => {
    const cacheDir = tmp('cache');
    server.fault(primaryName, { kind: 'stall', bytes: 1000 });
    const script = join(tmp('crash'), 'refresh.mts');
    writeFileSync(
      script,
      `import { RepoSet, parseRepoFile } from ${JSON.stringify(join(import.meta.dirname, '../../src/repos/index.js'))};
       const set = new RepoSet(parseRepoFile(${JSON.stringify(`[t]
${base()}
timeout=60
`)}, 't.repo', {}), { cacheDir: ${JSON.stringify(cacheDir)} });
       await set.refresh();`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (server.count(primaryName) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300)); // let the first 1000 bytes land in tmp/
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(server.count(primaryName)).toBe(1);
    // What the crash left: a partial download under tmp/<its pid>/, never a committed file.
    expect(readdirSync(join(cacheDir, 't', 'tmp', String(child.pid)))).toHaveLength(1);
    expect(existsSync(join(cacheDir, 't', 'repomd.xml'))).toBe(false);
    expect(readdirSync(join(cacheDir, 't', 'data'))).toEqual([]);
    server.clearFaults();
    const { out } = await refresh(base(), cacheDir);
    expect(out[0]!.status).toBe('updated');
    expectCacheClean(cacheDir);
    expect(existsSync(join(cacheDir, 't', 'tmp', String(child.pid)))).toBe(false);
  });

  it('concurrent refreshes of one cache (two RepoSets, forced) both succeed and leave a clean cache', async () => {
    const cacheDir = tmp('cache');
    const sets = [0, 1, 2].map(() => repoSet([config(base())], cacheDir));
    const outs = await Promise.all(sets.map((s) => s.refresh({ force: true })));
    await Promise.all(sets.map((s) => s.close()));
    for (const o of outs) expect(['updated', 'unchanged']).toContain(o[0]!.status);
    expectCacheClean(cacheDir);
    const check = repoSet([config(base())], cacheDir);
    expect((await check.refresh({ cacheOnly: true }))[0]!.status).toBe('cached');
    expect((await check.repos[0]!.records()).length).toBeGreaterThan(0);
    await check.close();
  });
});

describe('local repos and compressions', () => {
  it('file:// URLs and plain paths need no server', async () => {
    const a = await refresh(`baseurl=file://${tree.repo}`);
    const b = await refresh(`baseurl=${tree.repo}`);
    expect(a.records.length).toBeGreaterThan(0);
    expect(b.records).toEqual(a.records);
    expect(server.requests).toEqual([]);
  });

  it('xz, zstd and bz2 metadata give the same records as gz', async () => {
    const gz = (await refresh(`baseurl=${tree.repo}`)).records;
    for (const compress of ['xz', 'zstd', 'bz2'] as const) {
      const t = fixtureTree({ compress });
      const names = readdirSync(join(t.repo, 'repodata'));
      const ext = { xz: 'xz', zstd: 'zst', bz2: 'bz2' }[compress];
      expect(names.filter((n) => n.endsWith(`-primary.xml.${ext}`))).toHaveLength(1);
      const { records, cacheDir } = await refresh(`baseurl=${t.repo}`);
      expect(records, compress).toEqual(gz);
      expectCacheClean(cacheDir);
    }
  });
});
