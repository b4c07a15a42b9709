/**
 * The gpgcheck decision for a transaction (checkPackageSignatures), dnf's key-import text, keys
 * read from a base rpmdb that real `rpmkeys --import` wrote, and the gpg-pubkey entries layer
 * writes for imported keys, checked with real `rpm -qa gpg-pubkey` / `rpm -qi` / `rpmkeys -K`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fetcher } from '../../src/net/index.js';
import { RecordingReport } from '../../src/report.js';
import { openRpm, type RpmPackage } from '../../src/rpm/index.js';
import { openRpmdb, writeRpmdb } from '../../src/rpmdb/index.js';
import { pubkeyEntry, pubkeyNevr } from '../../src/rpmdb/pubkey.js';
import type { PackageVerifier } from '../../src/compose/index.js';
import { parseRepoFile } from '../../src/repos/index.js';
import { checkPackageSignatures, createPackageVerifier, formatKeyImport, Keyring, keysFromRpmdb, parseArmoredKeys, SignatureError } from '../../src/trust/index.js';
import { FaultServer } from '../support/http-server.js';
import { GpgHome, requireSigningTools, signedCopy, type GpgKey } from '../support/signed.js';

const exec = promisify(execFile);
const SHARED = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/data');
const HELLO = join(SHARED, 'rpms/hello-2.0-1.x86_64.rpm');
const RSA_TEST = join(SHARED, 'keys/rpm.org-rsa-2048-test.pub');

let gpg: GpgHome;
let work: string;
const key: Record<string, GpgKey> = {};
const pub: Record<string, string> = {};
const pkg: Record<string, RpmPackage> = {};

const repo = (gpgkeys: string[], gpgcheck = true, id = 'fedora') => ({ id, name: `Fedora ${id}`, gpgcheck, gpgkeys });
const dbArgs = (root: string) => ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm'];

beforeAll(async () => {
  requireSigningTools();
  gpg = await GpgHome.create();
  work = mkdtempSync(join(tmpdir(), 'layer-trust-check-'));
  key.rsa = await gpg.genKey('Layer Test Key <keys@layer.test>', 'rsa2048');
  key.other = await gpg.genKey('Other Key <other@layer.test>', 'ed25519');
  key.sub = await gpg.addSubkey(await gpg.genKey('Cert Only <cert@layer.test>', 'ed25519', 'cert'), 'ed25519', 'sign');
  for (const [n, k] of Object.entries(key)) {
    pub[n] = join(work, `${n}.asc`);
    writeFileSync(pub[n]!, await gpg.exportPublic(k.fpr));
    pkg[n] = await openRpm(await signedCopy(gpg, HELLO, join(work, `hello-${n}.rpm`), k));
  }
  pkg.unsigned = await openRpm(HELLO);
});

afterAll(async () => {
  await gpg?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('checkPackageSignatures', () => {
  it("imports the repo's key when a package needs it, telling it as dnf does", async () => {
    const report = new RecordingReport();
    const r = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.rsa}`]) }], { report });
    expect(r.verified.map((v) => v.fingerprint)).toEqual([key.rsa!.fpr]);
    expect(r.imported).toHaveLength(1);
    const fpr = key.rsa!.fpr.toUpperCase();
    expect(formatKeyImport(r.imported[0]!)).toBe(
      `Importing GPG key 0x${fpr.slice(-8)}:\n Userid     : "Layer Test Key <keys@layer.test>"\n Fingerprint: ${fpr.match(/.{4}/g)!.join(' ')}\n From       : ${pub.rsa}`,
    );
    expect(JSON.stringify(report.messages)).toContain('Key imported successfully');
  });

  it('names the signing subkey as dnf (gpgme) does when the primary key cannot sign', async () => {
    const r = await checkPackageSignatures([{ pkg: pkg.sub!, repo: repo([`file://${pub.sub}`]) }]);
    expect(r.imported[0]).toMatchObject({ shortId: key.sub!.signFpr.slice(-8).toUpperCase(), signingFingerprint: key.sub!.signFpr.toUpperCase(), fingerprint: key.sub!.fpr });
  });

  it('keys already trusted by the base are not imported again', async () => {
    const base = new Keyring();
    base.addKeys(readFileSync(pub.rsa!), 'base');
    const r = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.rsa}`]) }], { baseKeys: base });
    expect(r.imported).toEqual([]);
    expect(r.verified).toHaveLength(1);
  });

  it('asks before importing; a "no" fails the package as dnf does', async () => {
    const asked: string[] = [];
    const e = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.rsa}`]) }], {
      confirmImport: async (k) => {
        asked.push(formatKeyImport(k));
        return false;
      },
    }).catch((x: unknown) => x);
    expect(asked).toHaveLength(1);
    expect(e).toBeInstanceOf(SignatureError);
    expect((e as Error).message).toMatch(/^Didn't install any keys/);
  });

  it('gpgcheck=0 and local packages (localpkg_gpgcheck off by default) are not checked', async () => {
    const r = await checkPackageSignatures([{ pkg: pkg.unsigned!, repo: repo([], false) }, { pkg: pkg.unsigned! }]);
    expect(r.unchecked.map((u) => u.why)).toEqual(['gpgcheck=0 in repo fedora', 'local package (localpkg_gpgcheck is off)']);
  });

  it('localpkg_gpgcheck=1: a local package must be signed by an already trusted key', async () => {
    const e = await checkPackageSignatures([{ pkg: pkg.rsa! }], { localGpgcheck: true }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_RPM_SIGNATURE', category: 'key-missing' });
    const base = new Keyring();
    base.addKeys(readFileSync(pub.rsa!), 'base');
    await expect(checkPackageSignatures([{ pkg: pkg.rsa! }], { localGpgcheck: true, baseKeys: base })).resolves.toMatchObject({ verified: [{ pkg: pkg.rsa! }] });
  });

  it('gpgcheck=1 and an unsigned package: "Package … is not signed"', async () => {
    const e = await checkPackageSignatures([{ pkg: pkg.unsigned!, repo: repo([`file://${pub.rsa}`]) }]).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_RPM_SIGNATURE', category: 'not-signed', message: 'Package hello-2.0-1.x86_64.rpm is not signed' });
  });

  it("the repo's key did not sign it: imported, then refused (dnf's \"Import of key(s) didn't help\")", async () => {
    const e = await checkPackageSignatures([{ pkg: pkg.other!, repo: repo([`file://${pub.rsa}`]) }]).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_RPM_SIGNATURE', category: 'key-missing' });
    expect((e as SignatureError).message).toContain('Public key for hello-other.rpm is not installed');
    expect((e as SignatureError).hint).toContain("Import of key(s) didn't help");
  });

  it('the repo keys are installed already but are the wrong ones', async () => {
    const base = new Keyring();
    base.addKeys(readFileSync(pub.rsa!), 'base');
    const e = await checkPackageSignatures([{ pkg: pkg.other!, repo: repo([`file://${pub.rsa}`]) }], { baseKeys: base }).catch((x: unknown) => x);
    expect((e as Error).message).toContain('The GPG keys listed for the "Fedora fedora" repository are already installed but they are not correct for this package.');
  });

  it('gpgkey=file:///nonexistent: LAYER_GPG_KEY naming the URL, the repo and the package', async () => {
    const e = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo(['file:///nonexistent']) }]).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LAYER_GPG_KEY' });
    expect((e as Error).message).toBe('repo fedora: cannot retrieve GPG key from file:///nonexistent: no such file (needed for hello-2.0-1.x86_64)');
  });

  it('several gpgkey URLs, one over http: all are read, the one that signed verifies', async () => {
    const server = await new FaultServer(work).start();
    // The repos' own client (bounded small-file fetch), as the verify step passes it.
    const fetcher = new Fetcher({ backoffMs: 5 });
    try {
      const fetch = (u: string) => fetcher.bytes(u, { timeout: 5, retries: 0 });
      const r = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.other}`, `${server.url}/rsa.asc`]) }], { fetch });
      expect(r.imported.map((k) => k.fingerprint)).toEqual([key.other!.fpr, key.rsa!.fpr]);
      expect(server.requests).toEqual(['/rsa.asc']);
    } finally {
      await fetcher.close();
      await server.stop();
    }
  });
});

describe("createPackageVerifier: compose's verify step", () => {
  it('verifies with RepoConfigs from .repo files, fetches an http gpgkey with the repo settings, keeps the imported keys', async () => {
    const server = await new FaultServer(work).start();
    try {
      const configs = parseRepoFile(`[web]\nbaseurl=${server.url}/repo\ngpgcheck=1\ngpgkey=${server.url}/rsa.asc\ntimeout=5\nretries=0\n[off]\nbaseurl=${server.url}/off\ngpgcheck=0\n`, 'web.repo', {});
      const handle = createPackageVerifier(configs);
      const verify: PackageVerifier = handle.verify;
      await verify([
        { rpm: pkg.rsa!, path: pkg.rsa!.path, repo: 'web', local: false },
        { rpm: pkg.unsigned!, path: pkg.unsigned!.path, repo: 'off', local: false },
        { rpm: pkg.unsigned!, path: pkg.unsigned!.path, repo: '@commandline', local: true },
      ], new RecordingReport());
      expect(handle.result()!.imported.map((k) => k.fingerprint)).toEqual([key.rsa!.fpr]);
      expect(handle.result()!.unchecked).toHaveLength(2);
      expect(server.requests).toEqual(['/rsa.asc']);
      const e = await handle.verify([{ rpm: pkg.other!, path: pkg.other!.path, repo: 'web', local: false }], new RecordingReport()).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'LAYER_RPM_SIGNATURE', category: 'key-missing' });
    } finally {
      await server.stop();
    }
  });
});

describe('base rpmdb keys and gpg-pubkey entries (real rpm)', () => {
  it('keys rpmkeys --import wrote into a tree are read back and trusted', async () => {
    const root = mkdtempSync(join(work, 'base-'));
    await exec('rpmkeys', [...dbArgs(root), '--import', pub.rsa!]);
    const db = openRpmdb(root);
    const certs = keysFromRpmdb(db.packages());
    db.close();
    expect(certs.map((c) => c.primary.fingerprint)).toEqual([key.rsa!.fpr]);
    const r = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.rsa}`]) }], { baseKeys: certs });
    expect(r.imported).toEqual([]);
  });

  it("layer's gpg-pubkey entry is rpm's: same header region, same rpm -qa/-qi, and rpmkeys -K trusts it", async () => {
    const ref = mkdtempSync(join(work, 'ref-'));
    await exec('rpmkeys', [...dbArgs(ref), '--import', RSA_TEST]);
    const refDb = openRpmdb(ref);
    const [refPkg] = refDb.packages();
    refDb.close();

    const [cert] = parseArmoredKeys(readFileSync(RSA_TEST), RSA_TEST);
    const entry = pubkeyEntry(cert!, { installTime: refPkg!.header.number(1008)! });
    expect(Buffer.from(entry.header.regionBlob()).equals(Buffer.from(refPkg!.header.regionBlob()))).toBe(true);
    expect(pubkeyNevr(cert!)).toBe('gpg-pubkey-1964c5fc-58e63918');

    const tree = mkdtempSync(join(work, 'tree-'));
    writeRpmdb(tree, [entry], { installTid: refPkg!.header.number(1128)! });
    const q = async (root: string, ...a: string[]) => (await exec('rpm', [...dbArgs(root), ...a])).stdout;
    expect(await q(tree, '-qa', 'gpg-pubkey')).toBe('gpg-pubkey-1964c5fc-58e63918\n');
    expect(await q(tree, '-qi', 'gpg-pubkey')).toBe(await q(ref, '-qi', 'gpg-pubkey'));
    expect(await q(tree, '-q', '--provides', 'gpg-pubkey')).toBe(await q(ref, '-q', '--provides', 'gpg-pubkey'));
    const k = await exec('rpmkeys', [...dbArgs(tree), '-K', join(SHARED, 'rpms/hello-2.0-1.x86_64-signed.rpm')]);
    expect(k.stdout).toMatch(/signatures OK/);
  });

  it('a key imported by checkPackageSignatures, written as a gpg-pubkey entry, is what rpm -qa lists', async () => {
    const r = await checkPackageSignatures([{ pkg: pkg.rsa!, repo: repo([`file://${pub.rsa}`]) }]);
    const tree = mkdtempSync(join(work, 'tree2-'));
    writeRpmdb(tree, r.imported.map((k) => pubkeyEntry(k.cert, { installTime: 1700000000 })), { installTid: 1700000000 });
    const { stdout } = await exec('rpm', [...dbArgs(tree), '-qa', 'gpg-pubkey']);
    expect(stdout.trim()).toBe(pubkeyNevr(r.imported[0]!.cert));
    const { stdout: k } = await exec('rpmkeys', [...dbArgs(tree), '-K', pkg.rsa!.path]);
    expect(k).toMatch(/signatures OK/);
  });
});
