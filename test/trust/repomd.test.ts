/**
 * repo_gpgcheck=1: repomd.xml.asc is fetched and verified before any metadata is trusted. The
 * oracle for each signature is `gpg --verify` with only the repo's key imported (what librepo
 * does through gpgme). Missing or bad → the repo fails with LAYER_REPO_SIGNATURE, and
 * skip_if_unavailable applies.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { RecordingReport } from '../../src/report.js';
import { parseRepoFile, RepoSet } from '../../src/repos/index.js';
import { makeRepo, SHARED_DATA } from '../support/createrepo.js';
import { FaultServer } from '../support/http-server.js';
import { GpgHome, requireSigningTools, type GpgKey } from '../support/signed.js';

const exec = promisify(execFile);
let gpg: GpgHome;
let work: string;
let repo: string;
const key: Record<string, GpgKey> = {};
const pub: Record<string, string> = {};

/** `gpg --verify` in a fresh home holding only `keyFile`: true when gpg says "Good signature". */
async function gpgVerifies(keyFile: string, asc: string, data: string): Promise<boolean> {
  const home = mkdtempSync(join(tmpdir(), 'layer-gpgv-'));
  try {
    const env = { ...process.env, GNUPGHOME: home };
    await exec('gpg', ['--batch', '--import', keyFile], { env });
    return await exec('gpg', ['--batch', '--verify', asc, data], { env }).then(() => true, () => false);
  } finally {
    await exec('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } }).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}

/** A copy of the fixture repo whose repomd.xml.asc is made by `signer` (none: no .asc). */
async function signedRepo(name: string, signer: GpgKey | undefined, opts: { digest?: string; tamper?: boolean } = {}): Promise<string> {
  const dir = join(work, name);
  makeRepo(dir, [join(SHARED_DATA, 'rpms/hello-2.0-1.x86_64.rpm')]);
  const repomd = join(dir, 'repodata/repomd.xml');
  if (signer) {
    await gpg.gpg('--armor', '--detach-sign', '--local-user', signer.fpr, ...(opts.digest ? ['--digest-algo', opts.digest] : []), '--output', `${repomd}.asc`, repomd);
  }
  if (opts.tamper) writeFileSync(repomd, readFileSync(repomd, 'utf8').replace('<revision>', '<revision>9'));
  return dir;
}

async function refresh(dir: string, keyUrls: string, extra = ''): Promise<{ set: RepoSet; report: RecordingReport; result: Promise<unknown> }> {
  const cfg = parseRepoFile(`[t]\nbaseurl=file://${dir}\nrepo_gpgcheck=1\ngpgkey=${keyUrls}\nretries=0\n${extra}`, 't.repo', {});
  const report = new RecordingReport();
  const set = new RepoSet(cfg, { cacheDir: join(dir, '..', `${dir.split('/').pop()}-cache-${Math.random()}`), report, backoffMs: 5 });
  return { set, report, result: set.refresh().finally(() => set.close()) };
}

beforeAll(async () => {
  requireSigningTools();
  gpg = await GpgHome.create();
  work = mkdtempSync(join(tmpdir(), 'layer-repomd-'));
  key.rsa = await gpg.genKey('Repo RSA <repo@layer.test>', 'rsa2048');
  key.p256 = await gpg.genKey('Repo P-256 <p256@layer.test>', 'nistp256');
  key.ed = await gpg.genKey('Repo Ed25519 <ed@layer.test>', 'ed25519');
  key.other = await gpg.genKey('Other <other@layer.test>', 'rsa2048');
  for (const [n, k] of Object.entries(key)) {
    pub[n] = join(work, `${n}.asc`);
    writeFileSync(pub[n]!, await gpg.exportPublic(k.fpr));
  }
  repo = await signedRepo('good', key.rsa);
});

afterAll(async () => {
  await gpg?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('repo_gpgcheck=1', () => {
  for (const n of ['rsa', 'p256', 'ed'] as const) {
    it(`a repomd.xml.asc by the repo's ${n} key: refreshed (gpg --verify agrees)`, async () => {
      const dir = n === 'rsa' ? repo : await signedRepo(`good-${n}`, key[n]);
      const repomd = join(dir, 'repodata/repomd.xml');
      expect(await gpgVerifies(pub[n]!, `${repomd}.asc`, repomd)).toBe(true);
      const { result } = await refresh(dir, `file://${pub[n]}`);
      await expect(result).resolves.toEqual([{ id: 't', status: 'updated' }]);
    });
  }

  it('no repomd.xml.asc: the repo fails with LAYER_REPO_SIGNATURE', async () => {
    const dir = await signedRepo('unsigned', undefined);
    const { result } = await refresh(dir, `file://${pub.rsa}`);
    const e = await result.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LayerError);
    expect(e).toMatchObject({ code: 'LAYER_REPO_SIGNATURE' });
    expect((e as Error).message).toContain('repomd.xml.asc');
  });

  it('no repomd.xml.asc with skip_if_unavailable=1: the repo is skipped, saying why', async () => {
    const dir = await signedRepo('unsigned-skip', undefined);
    const { result, report } = await refresh(dir, `file://${pub.rsa}`, 'skip_if_unavailable=1');
    const out = (await result) as { status: string; error?: LayerError }[];
    expect(out[0]).toMatchObject({ status: 'skipped', error: { code: 'LAYER_REPO_SIGNATURE' } });
    expect(JSON.stringify(report.messages)).toContain('repomd.xml.asc');
  });

  it('signed by another key: refused (gpg --verify agrees)', async () => {
    const dir = await signedRepo('other', key.other);
    const repomd = join(dir, 'repodata/repomd.xml');
    expect(await gpgVerifies(pub.rsa!, `${repomd}.asc`, repomd)).toBe(false);
    const e = await (await refresh(dir, `file://${pub.rsa}`)).result.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_REPO_SIGNATURE' });
    expect((e as Error).message).toContain(key.other!.fpr.slice(-16));
  });

  it('repomd.xml changed after signing: BAD (gpg --verify agrees), nothing cached', async () => {
    const dir = await signedRepo('tampered', key.rsa, { tamper: true });
    const repomd = join(dir, 'repodata/repomd.xml');
    expect(await gpgVerifies(pub.rsa!, `${repomd}.asc`, repomd)).toBe(false);
    const { set, result } = await refresh(dir, `file://${pub.rsa}`);
    const e = await result.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_REPO_SIGNATURE' });
    expect((e as Error).message).toMatch(/does not verify/);
    expect(set.repos[0]!.digest).toBeUndefined();
  });

  it('a SHA-1 repomd.xml.asc: gpg 2.2 accepts it, the Fedora policy refuses it', async () => {
    const dir = await signedRepo('sha1', key.rsa, { digest: 'SHA1' });
    const repomd = join(dir, 'repodata/repomd.xml');
    expect(await gpgVerifies(pub.rsa!, `${repomd}.asc`, repomd)).toBe(true);
    const e = await (await refresh(dir, `file://${pub.rsa}`)).result.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_REPO_SIGNATURE' });
    expect((e as Error).message).toContain('SHA1');
  });

  it('several gpgkey URLs: any of them may have signed', async () => {
    const { result } = await refresh(repo, `file://${pub.other} file://${pub.rsa}`);
    await expect(result).resolves.toEqual([{ id: 't', status: 'updated' }]);
  });

  it('gpgkey=file:///nonexistent: a clear error naming the URL', async () => {
    const e = await (await refresh(repo, 'file:///nonexistent')).result.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_GPG_KEY' });
    expect((e as Error).message).toContain('cannot retrieve GPG key from file:///nonexistent: no such file');
  });

  it('over HTTP: repomd.xml.asc and the key come through the repos fetcher', async () => {
    const root = join(work, 'served');
    copyFileSync(pub.rsa!, join(work, 'served-key.asc'));
    makeRepo(root, [join(SHARED_DATA, 'rpms/hello-2.0-1.x86_64.rpm')]);
    const repomd = join(root, 'repodata/repomd.xml');
    await gpg.gpg('--armor', '--detach-sign', '--local-user', key.rsa!.fpr, '--output', `${repomd}.asc`, repomd);
    const server = await new FaultServer(work).start();
    try {
      const cfg = parseRepoFile(`[h]\nbaseurl=${server.url}/served\nrepo_gpgcheck=1\ngpgkey=${server.url}/served-key.asc\nretries=0\n`, 'h.repo', {});
      const set = new RepoSet(cfg, { cacheDir: join(work, 'http-cache'), backoffMs: 5 });
      await expect(set.refresh().finally(() => set.close())).resolves.toEqual([{ id: 'h', status: 'updated' }]);
      expect(server.requests).toEqual(expect.arrayContaining(['/served/repodata/repomd.xml', '/served/repodata/repomd.xml.asc', '/served-key.asc']));
    } finally {
      await server.stop();
    }
  });
});
