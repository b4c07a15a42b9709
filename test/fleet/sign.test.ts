/**
 * Commit and summary signatures of fleet repos (issue 14), against real tools:
 * (a) a repo signed by Debian's ostree 2022.7 (`ostree gpg-sign`, `ostree summary -u
 *     --gpg-sign`) served by nginx: layer's pull verifies it with the signer's key and refuses it
 *     with another key, before fetching any tree object;
 * (b) layer's signed archive served by nginx: `ostree pull` with gpg-verify and
 *     gpg-verify-summary accepts it, `ostree show` names the signer, and a tampered `.commitmeta`
 *     is refused by ostree and by layer alike;
 * (c) ed25519 (Debian's ostree cannot sign or verify it): layer's signer checked by node:crypto
 *     in the test, signatures made independently in the test checked by layer, a flipped byte
 *     refused, and the key files in `ostree sign`'s format.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign as edSign, verify as edVerify, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRemote, importRemoteTrust, ostreeRemoteSource, pullFromRemote, remoteVerification } from '../../src/engine/sources/index.js';
import { signCommit, signSummary } from '../../src/fleet/index.js';
import { silentReport } from '../../src/report.js';
import { ED25519SIGS, GPGSIGS, decodeDetached, detachedSignatures, encodeDetached } from '../../src/store/commitmeta.js';
import { ArchiveRepo, Store, Variant, exportCommit, updateSummary, type Checksum } from '../../src/store/index.js';
import { ed25519PublicKeys, ed25519SecretKey, verifyEd25519 } from '../../src/trust/index.js';
import { makeSampleTree } from '../store/helpers.js';
import { GpgHome, requireSigningTools, type GpgKey } from '../support/signed.js';
import { ostree, ostreeFsck, requireTool, tempDir } from '../support/tools.js';
import { startNginx, type Nginx } from './nginx.js';

const REF = 'fleet/x86_64/base';
const dirs: string[] = [];
const servers: Nginx[] = [];
let gpg: GpgHome;
let signer: GpgKey;
let other: GpgKey;
let signerPub: string;
let otherPub: string;

function dir(tag: string): string {
  const d = tempDir('fleet', tag);
  dirs.push(d);
  return d;
}

async function serve(root: string, d: string): Promise<Nginx> {
  const n = await startNginx(root, join(d, 'nginx'));
  servers.push(n);
  return n;
}

beforeAll(async () => {
  requireSigningTools();
  requireTool('ostree');
  gpg = await GpgHome.create();
  signer = await gpg.genKey('Fleet signer <fleet@example.test>', 'ed25519');
  other = await gpg.genKey('Someone else <else@example.test>', 'rsa2048');
  const d = dir('keys');
  signerPub = join(d, 'signer.asc');
  otherPub = join(d, 'other.asc');
  writeFileSync(signerPub, await gpg.exportPublic(signer.fpr));
  writeFileSync(otherPub, await gpg.exportPublic(other.fpr));
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await gpg?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A client store whose remote `r` at `url` trusts `trust` (as `layer init --gpg-import` records it). */
function client(d: string, url: string, trust: Parameters<typeof importRemoteTrust>[2], extra: Record<string, string> = {}): Store {
  const store = Store.init(join(d, `client-${Math.random().toString(36).slice(2, 8)}`), { mode: 'bare-user', fsync: false });
  addRemote(store, 'r', url, { ...importRemoteTrust(store, 'r', trust), ...extra });
  return store;
}

/** layer's archive of a sample tree, ref REF; returns the archive and the commit. */
async function layerArchive(d: string): Promise<{ archive: ArchiveRepo; commit: Checksum }> {
  const tree = join(d, 'tree');
  baseTree(tree);
  const src = Store.init(join(d, 'src'), { mode: 'bare-user', fsync: false });
  const commit = await src.commitTree(tree, { subject: 'signed' });
  const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
  exportCommit(src, commit, archive);
  return { archive, commit };
}

/** The sample tree with the directories a base needs (checkBaseLayout). */
function baseTree(tree: string): void {
  makeSampleTree(tree);
  mkdirSync(join(tree, 'usr'), { recursive: true });
  if (existsSync(join(tree, 'etc'))) renameSync(join(tree, 'etc'), join(tree, 'usr/etc'));
  for (const d of ['usr/etc', 'var']) mkdirSync(join(tree, d), { recursive: true });
}

function commitmetaPath(repo: string, c: Checksum): string {
  return join(repo, 'objects', c.slice(0, 2), `${c.slice(2)}.commitmeta`);
}

describe('GPG: a repo signed by real ostree', () => {
  it('layer pulls and verifies it with the signer\'s key; refuses it with another key, fetching no tree', async () => {
    const d = dir('ostree-signed');
    const tree = join(d, 'tree');
    baseTree(tree);
    const repo = join(d, 'served');
    ostree(repo, 'init', '--mode=archive');
    ostree(repo, 'commit', '-b', REF, '--subject=real', `--tree=dir=${tree}`);
    ostree(repo, 'gpg-sign', `--gpg-homedir=${gpg.dir}`, REF, signer.fpr);
    ostree(repo, 'summary', '-u', `--gpg-sign=${signer.fpr}`, `--gpg-homedir=${gpg.dir}`);
    const commit = ostree(repo, 'rev-parse', REF).trim() as Checksum;
    const web = await serve(repo, d);

    const good = client(d, web.url, { gpgImport: [signerPub] });
    expect(readFileSync(join(good.path, 'config'), 'utf8')).toContain('gpg-verify=true\ngpg-verify-summary=true\n');
    expect(await ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: good, report: silentReport })).toBe(commit);
    good.setRef(REF, commit);
    expect(ostreeFsck(good.path)).toContain('1 commit objects');
    // The verified .commitmeta is kept, byte for byte: real ostree reads the signature from it.
    expect(readFileSync(commitmetaPath(good.path, commit))).toEqual(readFileSync(commitmetaPath(repo, commit)));
    writeFileSync(join(gpg.dir, 'trustedkeys.gpg'), await gpg.exportPublic(signer.fpr, false));
    expect(ostree(good.path, 'show', `--gpg-homedir=${gpg.dir}`, commit)).toContain('Good signature from "Fleet signer <fleet@example.test>"');
    rmSync(join(gpg.dir, 'trustedkeys.gpg'));

    // Another key: the summary is refused first (nothing but config, summary and its .sig fetched).
    const wrong = client(d, web.url, { gpgImport: [otherPub] });
    const before = web.requests().length;
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: wrong, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', category: 'key-missing', message: expect.stringContaining(`summary of ${web.url}`) });
    expect(web.requests().slice(before).map((q) => q.path)).toEqual(['/repo/config', '/repo/summary', '/repo/summary.sig']);
    // The commit alone (summary not required): refused on its .commitmeta, before any tree object.
    const commitOnly = client(d, web.url, { gpgImport: [otherPub] }, { 'gpg-verify-summary': 'false' });
    const before2 = web.requests().length;
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: commitOnly, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', message: expect.stringMatching(/^commit [0-9a-f]{64} from .*not among the keys of remote r/) });
    const fetched = web.requests().slice(before2).map((q) => q.path);
    expect(fetched.filter((p) => /\.(filez|dirtree|dirmeta)$/.test(p))).toEqual([]);
    expect(fetched.some((p) => p.endsWith('.commitmeta'))).toBe(true);
    expect(commitOnly.hasObject(commit, 'commit')).toBe(false);
  }, 120_000);

  it('an unsigned repo is refused when the remote requires signatures, accepted when it does not', async () => {
    const d = dir('ostree-unsigned');
    const tree = join(d, 'tree');
    baseTree(tree);
    const repo = join(d, 'served');
    ostree(repo, 'init', '--mode=archive');
    ostree(repo, 'commit', '-b', REF, '--subject=unsigned', `--tree=dir=${tree}`);
    ostree(repo, 'summary', '-u');
    const web = await serve(repo, d);
    const strict = client(d, web.url, { gpgImport: [signerPub] }, { 'gpg-verify-summary': 'false' });
    await expect(pullFromRemote(strict, web.url, REF, { report: silentReport, verify: remoteVerification(strict, 'r') ?? { remote: 'r' } }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', category: 'not-signed', message: expect.stringContaining('no .commitmeta') });
    const withSummary = client(d, web.url, { gpgImport: [signerPub] });
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: withSummary, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', message: expect.stringContaining('no summary.sig') });
    const open = client(d, web.url, {});
    expect(remoteVerification(open, 'r')).toBeUndefined();
    expect(await ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: open, report: silentReport })).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});

describe('GPG: layer\'s signed archive, pulled by real ostree', () => {
  it('ostree pull with gpg-verify accepts it and names the key; a tampered .commitmeta is refused by ostree and layer', async () => {
    const d = dir('layer-signed');
    const { archive, commit } = await layerArchive(d);
    const edKeys = ed25519Files(d);
    const sign = { gpgKeyId: signer.fpr, gpgHomedir: gpg.dir, ed25519KeyFile: edKeys.secret };
    signCommit(archive, commit, sign);
    archive.setRef(REF, commit);
    updateSummary(archive);
    signSummary(archive, sign);
    const meta = decodeDetached(readFileSync(commitmetaPath(archive.path, commit)), 'commitmeta');
    expect(meta.map(([k, v]) => [k, v.type])).toEqual([[GPGSIGS, 'aay'], [ED25519SIGS, 'aay']]);
    expect(ostreeFsck(archive.path)).toContain('1 commit objects');
    const web = await serve(archive.path, d);

    const oc = join(d, 'ostree-client');
    ostree(oc, 'init', '--mode=bare-user');
    ostree(oc, 'remote', 'add', '--set=gpg-verify=true', '--set=gpg-verify-summary=true', 'r', web.url);
    ostree(oc, 'remote', 'gpg-import', 'r', '-k', signerPub);
    ostree(oc, 'pull', 'r', REF);
    expect(ostree(oc, 'rev-parse', `r:${REF}`).trim()).toBe(commit);
    expect(ostreeFsck(oc)).toContain('1 commit objects');
    const shown = ostree(oc, 'show', '--gpg-verify-remote=r', commit);
    expect(shown).toContain('Good signature from "Fleet signer <fleet@example.test>"');
    expect(shown).toContain(signer.fpr.slice(-16).toUpperCase());

    // A second signature by another key is appended (key rotation): both keys' hosts accept it.
    signCommit(archive, commit, { gpgKeyId: other.fpr, gpgHomedir: gpg.dir });
    expect(detachedSignatures(decodeDetached(readFileSync(commitmetaPath(archive.path, commit)), 'x'), GPGSIGS)).toHaveLength(2);
    const rotated = client(d, web.url, { gpgImport: [otherPub], ed25519: [edKeys.pub] }, { 'gpg-verify-summary': 'false', 'sign-verify-summary': 'false' });
    expect(await ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: rotated, report: silentReport })).toBe(commit);

    // Tamper: one byte of the (first) GPG signature flipped on the server.
    const cm = commitmetaPath(archive.path, commit);
    const tampered = decodeDetached(readFileSync(cm), 'x');
    const sigs = detachedSignatures(tampered, GPGSIGS).map((s) => Buffer.from(s));
    const victim = sigs[0];
    if (!victim) throw new Error('no signature to tamper with');
    victim[victim.length - 3] = (victim[victim.length - 3] ?? 0) ^ 0x01;
    writeFileSync(cm, encodeDetached([[GPGSIGS, new Variant('aay', [victim])], ...tampered.filter(([key]) => key !== GPGSIGS)]));
    const oc2 = join(d, 'ostree-client2');
    ostree(oc2, 'init', '--mode=bare-user');
    ostree(oc2, 'remote', 'add', '--set=gpg-verify=true', 'r', web.url);
    ostree(oc2, 'remote', 'gpg-import', 'r', '-k', signerPub);
    const refused = spawnSync('ostree', [`--repo=${oc2}`, 'pull', 'r', REF], { encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/signature/i);
    expect(spawnSync('ostree', [`--repo=${oc2}`, 'rev-parse', `r:${REF}`]).status).not.toBe(0);
    const mine = client(d, web.url, { gpgImport: [signerPub] });
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: mine, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', category: 'bad-signature' });
    expect(mine.hasObject(commit, 'commit')).toBe(false);
  }, 120_000);
});

/** An ed25519 key pair made by node:crypto in the test, written in `ostree sign`'s key file formats. */
function ed25519Files(d: string, tag = 'ed'): { secret: string; pub: string; seed: Buffer; raw: Buffer } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  const secret = join(d, `${tag}.secret`);
  const pub = join(d, `${tag}.pub`);
  writeFileSync(secret, `${Buffer.concat([seed, raw]).toString('base64')}\n`);
  writeFileSync(pub, `${raw.toString('base64')}\n`);
  return { secret, pub, seed, raw };
}

const pubKeyObject = (raw: Buffer) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });

describe('ed25519 (ostree.sign.ed25519)', () => {
  it('layer\'s signatures verify with node:crypto; independent signatures verify with layer; a flipped byte does not', async () => {
    const d = dir('ed25519');
    const { archive, commit } = await layerArchive(d);
    const k = ed25519Files(d);
    signCommit(archive, commit, { ed25519KeyFile: k.secret });
    archive.setRef(REF, commit);
    updateSummary(archive);
    signSummary(archive, { ed25519KeyFile: k.secret });
    const commitBytes = readFileSync(join(archive.path, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commit`));
    const [sig] = detachedSignatures(decodeDetached(readFileSync(commitmetaPath(archive.path, commit)), 'x'), ED25519SIGS);
    expect(sig).toHaveLength(64);
    // Independent check of layer's signer: node:crypto with the raw public key.
    expect(edVerify(null, commitBytes, pubKeyObject(k.raw), sig ?? new Uint8Array(64))).toBe(true);
    const [ssig] = detachedSignatures(decodeDetached(readFileSync(join(archive.path, 'summary.sig')), 'x'), ED25519SIGS);
    expect(edVerify(null, readFileSync(join(archive.path, 'summary')), pubKeyObject(k.raw), ssig ?? new Uint8Array(64))).toBe(true);

    // A test vector signed in the test (not by layer's signer) verifies with layer's verifier.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const vecKey = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const data = Buffer.from('the commit object bytes');
    const vec = edSign(null, data, privateKey);
    expect(verifyEd25519(data, [vec], [vecKey])).toMatchObject({ ok: true });
    const flipped = Buffer.from(vec);
    flipped[10] = (flipped[10] ?? 0) ^ 0x80;
    expect(verifyEd25519(data, [flipped], [vecKey])).toMatchObject({ ok: false });
    expect(verifyEd25519(Buffer.from('the commit object byteS'), [vec], [vecKey])).toMatchObject({ ok: false });
    expect(verifyEd25519(data, [vec.subarray(0, 63)], [vecKey])).toMatchObject({ ok: false, reason: expect.stringContaining('63 bytes') });
    expect(verifyEd25519(data, [vec], [k.raw])).toMatchObject({ ok: false });
    expect(verifyEd25519(data, Array.from({ length: 65 }, () => vec), [vecKey])).toMatchObject({ ok: false, reason: expect.stringContaining('more than 64') });
    expect(verifyEd25519(data, [flipped, vec], [k.raw, vecKey])).toMatchObject({ ok: true, key: vecKey.toString('base64') });

    // Over HTTP: the right public key pulls; a wrong key or a flipped signature byte is refused.
    const web = await serve(archive.path, d);
    const good = client(d, web.url, { ed25519: [k.pub] });
    expect(readFileSync(join(good.path, 'config'), 'utf8')).toContain('sign-verify=ed25519\n');
    expect(await ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: good, report: silentReport })).toBe(commit);
    const wrongKey = ed25519Files(d, 'wrong');
    const wrong = client(d, web.url, { ed25519: [wrongKey.pub] });
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: wrong, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', message: expect.stringContaining('summary of') });
    const cm = commitmetaPath(archive.path, commit);
    const bytes = readFileSync(cm);
    const at = bytes.indexOf(Buffer.from(sig ?? []));
    bytes[at + 5] = (bytes[at + 5] ?? 0) ^ 0x01;
    writeFileSync(cm, bytes);
    const fresh = client(d, web.url, { ed25519: [k.pub] });
    await expect(ostreeRemoteSource({ name: 'r', url: web.url }, REF).fetch({ store: fresh, report: silentReport }))
      .rejects.toMatchObject({ code: 'LAYER_COMMIT_SIGNATURE', message: expect.stringMatching(/^commit .*none of 1 ed25519 signature/) });
    expect(fresh.hasObject(commit, 'commit')).toBe(false);
  }, 120_000);

  it('reads ostree sign\'s key files; refuses a secret key whose halves disagree, a short key, a non-key', () => {
    const d = dir('ed25519-keys');
    const k = ed25519Files(d);
    expect(ed25519SecretKey(k.secret).publicBase64).toBe(k.raw.toString('base64'));
    expect(ed25519PublicKeys(k.pub)).toEqual([k.raw]);
    const other = ed25519Files(d, 'other');
    const mixed = join(d, 'mixed');
    writeFileSync(mixed, `${Buffer.concat([k.seed, other.raw]).toString('base64')}\n`);
    expect(() => ed25519SecretKey(mixed)).toThrow(expect.objectContaining({ code: 'LAYER_SIGN_KEY', message: expect.stringContaining('does not match its seed') }));
    writeFileSync(mixed, `${k.seed.toString('base64')}\n`);
    expect(() => ed25519SecretKey(mixed)).toThrow(expect.objectContaining({ code: 'LAYER_SIGN_KEY', message: expect.stringContaining('this one is 32') }));
    writeFileSync(mixed, 'not base64 at all!\n');
    expect(() => ed25519PublicKeys(mixed)).toThrow(expect.objectContaining({ code: 'LAYER_SIGN_KEY' }));
    expect(() => ed25519PublicKeys(join(d, 'absent'))).toThrow(expect.objectContaining({ code: 'LAYER_SIGN_KEY' }));
    // Two keys in one public key file, one per line, as ostree's verification files hold them.
    writeFileSync(mixed, `${k.raw.toString('base64')}\n\n${other.raw.toString('base64')}\n`);
    expect(ed25519PublicKeys(mixed)).toEqual([k.raw, other.raw]);
    expect(existsSync(k.secret)).toBe(true);
    expect(execFileSync('base64', ['-d', k.pub]).length).toBe(32);
  });
});
