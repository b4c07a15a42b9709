/**
 * Package signatures through the CLI (issue 10), as an attacker with a mirror would try them:
 * with `gpgcheck=1` a package signed by the repo's key installs (the key imported as dnf shows
 * it, recorded so real `rpm -qa gpg-pubkey` lists it); a package whose payload was rewritten
 * with every digest recomputed, an unsigned one, one signed by another key, and a repo whose
 * gpgkey= does not exist are refused with the package and the reason named, and the old
 * default deployment stays the default.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm } from '../support/rpmbuild.js';
import { GpgHome, requireSigningTools, rewritePayloadKeepingDigests, signedCopy, type GpgKey } from '../support/signed.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, MAIN, removeTempDirs, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let base: string;
let gpg: GpgHome;
let trusted: GpgKey;
let other: GpgKey;
let keyFile: string;
let unsigned: string;

beforeAll(async () => {
  requireSigningTools();
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'trust');
  gpg = await GpgHome.create();
  trusted = await gpg.genKey('Layer Test Repo <repo@example.test>', 'rsa3072');
  other = await gpg.genKey('Someone Else <else@example.test>', 'rsa3072');
  keyFile = join(tempDir('trust-key'), 'RPM-GPG-KEY-test');
  writeFileSync(keyFile, await gpg.exportPublic(trusted.fpr));
  unsigned = await buildRpm({ name: 'signed-tool', files: [{ path: '/usr/share/signed-tool/README', content: 'signed-tool\n'.repeat(50) }] });
}, 300_000);

afterAll(async () => {
  await gpg?.close();
  removeTempDirs();
});

/** A repo holding `rpm` (as signed-tool-1.0-1.noarch.rpm) with gpgcheck=1 and `gpgkey`; a reposdir with it and the base repo. */
function repoWith(rpm: string, gpgkey: string): string {
  const dir = tempDir('trust-repo');
  mkdirSync(join(dir, 'in'));
  const file = join(dir, 'in', 'signed-tool-1.0-1.noarch.rpm');
  copyFileSync(rpm, file);
  makeRepo(join(dir, 'repo'), [file]);
  const reposdir = tempDir('trust-reposdir');
  writeFileSync(join(reposdir, 't.repo'), [
    `[base]\nname=base\nbaseurl=file://${f.base}\ngpgcheck=0\nmetadata_expire=-1\n`,
    `[signed]\nname=signed\nbaseurl=file://${join(dir, 'repo')}\ngpgcheck=1\ngpgkey=${gpgkey}\nmetadata_expire=-1\n`,
  ].join('\n'));
  return reposdir;
}

function refusedAndIntact(s: string, reposdir: string, reason: RegExp, code = 'LAYER_RPM_SIGNATURE'): void {
  const before = layerJson(['status', '--sysroot', s]).deployments[0].id;
  const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '-y', 'signed-tool']);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`signed-tool-1\\.0-1\\.noarch.*\\[${code}\\]`));
  expect(r.stderr).toMatch(reason);
  expect(layerJson(['status', '--sysroot', s]).deployments[0].id).toBe(before);
}

describe('gpgcheck=1 through the CLI', () => {
  it('a package signed by the repo key installs; the key import is shown and recorded as rpm does', async () => {
    const good = await signedCopy(gpg, unsigned, join(tempDir('good'), 'signed-tool-1.0-1.noarch.rpm'), trusted);
    const s = cloneSysroot(base, 'trust-good');
    const r = layer(['install', '--sysroot', s, '--reposdir', repoWith(good, `file://${keyFile}`), '-y', 'signed-tool']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Importing GPG key 0x[0-9A-F]{8}:/);
    expect(r.stdout).toContain('Userid     : "Layer Test Repo <repo@example.test>"');
    expect(r.stdout.replace(/ /g, '')).toContain(trusted.fpr.toUpperCase());
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    const q = spawnSync('rpm', ['--root', d.path, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', 'gpg-pubkey'], { encoding: 'utf8' });
    expect(q.stdout.trim()).toBe(`gpg-pubkey-${trusted.fpr.slice(-8)}-${q.stdout.trim().split('-').at(-1)}`);
    // Real rpm trusts the package with the key layer recorded.
    const k = spawnSync('rpmkeys', ['--root', d.path, '--dbpath', '/usr/lib/sysimage/rpm', '-K', good], { encoding: 'utf8' });
    expect(k.stdout, k.stderr).toMatch(/signatures OK/);
  });

  it('a payload rewritten on the mirror (digests recomputed, signature now bad) is refused', async () => {
    const forged = await signedCopy(gpg, unsigned, join(tempDir('forged'), 'signed-tool-1.0-1.noarch.rpm'), trusted);
    await rewritePayloadKeepingDigests(forged);
    refusedAndIntact(cloneSysroot(base, 'trust-forged'), repoWith(forged, `file://${keyFile}`), /bad|BAD/);
  });

  it('an unsigned package is refused', () => {
    refusedAndIntact(cloneSysroot(base, 'trust-unsigned'), repoWith(unsigned, `file://${keyFile}`), /not signed|unsigned/i);
  });

  it('a package signed by another key is refused: its key is not the repo key', async () => {
    const alien = await signedCopy(gpg, unsigned, join(tempDir('alien'), 'signed-tool-1.0-1.noarch.rpm'), other);
    refusedAndIntact(cloneSysroot(base, 'trust-alien'), repoWith(alien, `file://${keyFile}`), /Public key for signed-tool-1\.0-1\.noarch\.rpm is not installed|not installed|not correct/);
  });

  it('a package imported before is taken from the store without its file, and checked against the keys trusted now', async () => {
    const good = await signedCopy(gpg, unsigned, join(tempDir('stored'), 'signed-tool-1.0-1.noarch.rpm'), trusted);
    const s = cloneSysroot(base, 'trust-stored');
    const reposdir = repoWith(good, `file://${keyFile}`);
    expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, '-y', 'signed-tool']).code).toBe(0);
    expect(layer(['uninstall', '--sysroot', s, '--reposdir', reposdir, '-y', 'signed-tool']).code).toBe(0);
    // The file is gone from the repo (its metadata still names it): only the import is left.
    const repoFile = join(reposdir, 't.repo');
    const repoDir = /baseurl=file:\/\/(\S*trust-repo\S*)/.exec(readFileSync(repoFile, 'utf8'))?.[1] ?? '';
    rmSync(join(repoDir, 'signed-tool-1.0-1.noarch.rpm'));
    // The repo's key is now another one: the stored headers are refused as the file would be.
    const otherKey = join(tempDir('trust-other-key'), 'RPM-GPG-KEY-other');
    writeFileSync(otherKey, await gpg.exportPublic(other.fpr));
    const text = readFileSync(repoFile, 'utf8');
    writeFileSync(repoFile, text.replace(`gpgkey=file://${keyFile}`, `gpgkey=file://${otherKey}`));
    refusedAndIntact(s, reposdir, /Public key for signed-tool-1\.0-1\.noarch\.rpm is not installed|not installed|not correct/);
    // With the repo's own key again it installs, from the store alone.
    writeFileSync(repoFile, text);
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '-y', 'signed-tool']);
    expect(r.code, r.stderr).toBe(0);
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    const q = spawnSync('rpm', ['--root', d.path, '--dbpath', '/usr/lib/sysimage/rpm', '-q', 'signed-tool'], { encoding: 'utf8' });
    expect(q.stdout.trim()).toBe('signed-tool-1.0-1.noarch');
  });

  it('gpgkey=file:///nonexistent is a clear error, not an install', async () => {
    const good = await signedCopy(gpg, unsigned, join(tempDir('good2'), 'signed-tool-1.0-1.noarch.rpm'), trusted);
    refusedAndIntact(cloneSysroot(base, 'trust-nokey'), repoWith(good, 'file:///nonexistent/RPM-GPG-KEY'), /nonexistent/, 'LAYER_GPG_KEY');
  });
});

describe('the key import question on a terminal', () => {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  /** `layer ARGS` on a pseudo-terminal (util-linux `script`), `answer` typed in. */
  const onTty = (args: string[], answer: string) => {
    const r = spawnSync('script', ['-qec', `node ${quote(MAIN)} ${args.map(quote).join(' ')}`, '/dev/null'], { input: answer, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout.replace(/\r/g, '') };
  };

  it('asks after showing the key; "n" refuses the package and deploys nothing, "y" imports it', async () => {
    const good = await signedCopy(gpg, unsigned, join(tempDir('tty-good'), 'signed-tool-1.0-1.noarch.rpm'), trusted);
    const reposdir = repoWith(good, `file://${keyFile}`);
    const s = cloneSysroot(base, 'trust-tty');
    const before = layerJson(['status', '--sysroot', s]).deployments[0].id;
    // First answer: the transaction ("Is this ok"); second: the key import.
    const no = onTty(['install', '--sysroot', s, '--reposdir', reposdir, 'signed-tool'], 'y\nn\n');
    expect(no.out).toMatch(/Importing GPG key 0x[0-9A-F]{8}:[\s\S]*Is this ok \[y\/N\]:/);
    expect(no.code).toBe(1);
    expect(no.out).toMatch(/\[LAYER_RPM_SIGNATURE\]|\[LAYER_GPG_KEY\]/);
    expect(layerJson(['status', '--sysroot', s]).deployments[0].id).toBe(before);
    const yes = onTty(['install', '--sysroot', s, '--reposdir', reposdir, 'signed-tool'], 'y\ny\n');
    expect(yes.code, yes.out).toBe(0);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['signed-tool']);
  });
});
