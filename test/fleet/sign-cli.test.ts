/**
 * Signed fleet repos through the CLI: `layer compose --sign-key --gpg-homedir --sign-ed25519`
 * publishes a signed commit and summary behind Debian's nginx; `layer init --from-remote
 * --gpg-import --sign-verify ed25519=` deploys it, and Debian's ostree, reading the sysroot repo,
 * finds the remote's keyring where it keeps its own and calls the signature good. A host that
 * trusts another key gets LAYER_COMMIT_SIGNATURE and no deployment; an update signed by the wrong
 * key is refused by `layer upgrade` (and `layer rebase`) with the deployments untouched, and
 * taken once it carries a good signature.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCommit, signSummary } from '../../src/fleet/index.js';
import { ArchiveRepo, type Checksum } from '../../src/store/index.js';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, removeTempDirs, requireTool, tempDir, testFixtures, type Fixtures } from '../cli/helpers.js';
import { GpgHome, requireSigningTools, type GpgKey } from '../support/signed.js';
import { ostree } from '../support/tools.js';
import { startNginx, type Nginx } from './nginx.js';

const REF = 'demo/x86_64/base';
let f: Fixtures;
let nginx: Nginx | undefined;
let gpg: GpgHome;
let signer: GpgKey;
let other: GpgKey;

beforeAll(async () => {
  requireTool('ostree');
  requireSigningTools();
  ensureBuilt();
  f = await testFixtures();
  gpg = await GpgHome.create();
  signer = await gpg.genKey('Fleet signer <fleet@example.test>', 'ed25519');
  other = await gpg.genKey('Someone else <else@example.test>', 'ed25519');
}, 600_000);

afterAll(async () => {
  await nginx?.stop();
  await gpg?.close();
  removeTempDirs();
});

interface ComposeJson {
  outcome: string;
  commit: Checksum;
  version: string;
}

function ed25519Files(dir: string): { secret: string; pub: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const pub = Buffer.from(jwk.x ?? '', 'base64url');
  writeFileSync(join(dir, 'ed25519.secret'), `${Buffer.concat([seed, pub]).toString('base64')}\n`);
  writeFileSync(join(dir, 'ed25519.pub'), `${pub.toString('base64')}\n`);
  return { secret: join(dir, 'ed25519.secret'), pub: join(dir, 'ed25519.pub') };
}

const deployments = (sys: string) => readdirSync(join(sys, 'ostree/deploy/demo/deploy')).filter((n) => !n.endsWith('.origin')).sort();

describe('signed fleet repos through the CLI', () => {
  it('compose signs; init verifies and deploys; a wrong key is refused with nothing deployed; upgrade verifies', async () => {
    const dir = tempDir('fleet-sign');
    const repo = join(dir, 'srv/repo');
    mkdirSync(join(dir, 'recipe'), { recursive: true });
    writeFileSync(join(dir, 'recipe/test.repo'), readFileSync(join(f.reposdir, 'test.repo')));
    const recipe = join(dir, 'recipe/base.json');
    writeFileSync(recipe, JSON.stringify({ packages: BASE_PACKAGES, repos: ['test.repo'] }));
    const ed = ed25519Files(dir);
    const signerAsc = join(dir, 'signer.asc');
    const otherAsc = join(dir, 'other.asc');
    writeFileSync(signerAsc, await gpg.exportPublic(signer.fpr));
    writeFileSync(otherAsc, await gpg.exportPublic(other.fpr));
    const work = join(dir, 'work');
    const sign = ['--sign-key', signer.fpr, '--gpg-homedir', gpg.dir, '--sign-ed25519', ed.secret];

    // Bad signing keys fail before composing, and create nothing.
    const noKey = layer(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--sign-key', 'nobody@example.test', '--gpg-homedir', gpg.dir]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/gpg could not sign with key nobody@example.test.*\[LAYER_SIGN_KEY\]/);
    const noFile = layer(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--sign-ed25519', join(dir, 'absent')]);
    expect(noFile.stderr).toContain('LAYER_SIGN_KEY');
    expect(existsSync(repo)).toBe(false);
    expect(layer(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--gpg-homedir', gpg.dir]).code).toBe(2);

    // Published unsigned first; the same compose with keys signs it (unchanged), once only.
    const c1 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '1.0', '--workdir', work]);
    expect(c1.outcome).toBe('composed');
    const cm = join(repo, 'objects', c1.commit.slice(0, 2), `${c1.commit.slice(2)}.commitmeta`);
    expect([existsSync(cm), existsSync(join(repo, 'summary.sig'))]).toEqual([false, false]);
    const again = ['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '1.0', '--workdir', work, ...sign];
    expect(layerJson<ComposeJson>(again)).toMatchObject({ outcome: 'unchanged', commit: c1.commit });
    expect([existsSync(cm), existsSync(join(repo, 'summary.sig'))]).toEqual([true, true]);
    const signedOnce = readFileSync(cm);
    expect(layerJson<ComposeJson>(again).outcome).toBe('unchanged');
    expect(readFileSync(cm)).toEqual(signedOnce);
    nginx = await startNginx(repo, join(dir, 'nginx'));

    // A host that trusts another key: refused, nothing deployed.
    const wrongSys = join(dir, 'wrong');
    const wrong = layer(['init', '--sysroot', wrongSys, '--osname', 'demo', '--from-remote', nginx.url, '--ref', REF, '--gpg-import', otherAsc]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: summary of http:\/\/127\.0\.0\.1:\d+\/repo: signed with key .*not among the keys of remote demo \[LAYER_COMMIT_SIGNATURE\]$/m);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(wrongSys, 'ostree/deploy/demo/deploy')) ? deployments(wrongSys) : []).toEqual([]);

    // The right keys (GPG and ed25519): deployed; ostree finds the keyring where it keeps its own.
    const sys = join(dir, 'sysroot');
    layerJson(['init', '--sysroot', sys, '--osname', 'demo', '--from-remote', nginx.url, '--ref', REF, '--gpg-import', signerAsc, '--sign-verify', `ed25519=${ed.pub}`]);
    const sysRepo = join(sys, 'ostree/repo');
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toContain(c1.commit);
    const cfg = (k: string) => ostree(sysRepo, 'config', 'get', '--group=remote "demo"', k).trim();
    expect([cfg('gpg-verify'), cfg('gpg-verify-summary'), cfg('sign-verify')]).toEqual(['true', 'true', 'ed25519']);
    const shown = ostree(sysRepo, 'show', '--gpg-verify-remote=demo', c1.commit);
    expect(shown).toContain('Good signature from "Fleet signer <fleet@example.test>"');
    const before = deployments(sys);
    const status = JSON.stringify(layerJson(['status', '--sysroot', sys]));

    // An update signed by the wrong key: upgrade refuses it and the deployments stay as they were.
    writeFileSync(recipe, JSON.stringify({ packages: [...BASE_PACKAGES, 'dep-a'], repos: ['test.repo'] }));
    const c2 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '2.0', '--workdir', work,
      '--sign-key', other.fpr, '--gpg-homedir', gpg.dir]);
    const up = layer(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('[LAYER_COMMIT_SIGNATURE]');
    expect(deployments(sys)).toEqual(before);
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toBe(status);
    // So is a rebase onto the same server with a key that did not sign.
    const rb = layer(['rebase', '--sysroot', sys, '--reposdir', f.reposdir, '--from-remote', nginx.url, '--ref', REF, '--remote', 'mirror', '--gpg-import', signerAsc]);
    expect(rb.code).toBe(1);
    expect(rb.stderr).toContain('[LAYER_COMMIT_SIGNATURE]');
    expect(deployments(sys)).toEqual(before);

    // Signed by the right keys too (appended, as ostree gpg-sign does): the upgrade takes it.
    const archive = ArchiveRepo.open(repo, { fsync: false });
    signCommit(archive, c2.commit, { gpgKeyId: signer.fpr, gpgHomedir: gpg.dir, ed25519KeyFile: ed.secret });
    signSummary(archive, { gpgKeyId: signer.fpr, gpgHomedir: gpg.dir, ed25519KeyFile: ed.secret });
    layerJson(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toContain(c2.commit);
    expect(ostree(sysRepo, 'show', '--gpg-verify-remote=demo', c2.commit)).toContain('Good signature from "Fleet signer');
    const origin = execFileSync('sh', ['-c', `cat ${join(sys, 'ostree/deploy/demo/deploy')}/*.origin`], { encoding: 'utf8' });
    expect(origin).toContain(`baserefspec=demo:${REF}`);
    // Usage: --sign-verify takes TYPE=FILE; the key options need --from-remote.
    expect(layer(['init', '--sysroot', join(dir, 'x'), '--osname', 'x', '--from-remote', nginx.url, '--ref', REF, '--sign-verify', ed.pub]).code).toBe(2);
    expect(layer(['init', '--sysroot', join(dir, 'x'), '--osname', 'x', '--from-ostree', 'a:b', '--gpg-import', signerAsc]).code).toBe(2);
  }, 600_000);
});
