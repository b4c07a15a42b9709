/**
 * The demo's fixture repos (fixtures/demo/build.ts): real Debian binaries repackaged with
 * rpmbuild, published with createrepo_c. Checked with the native tools: rpm queries and a
 * dependency check by rpm itself, and the repackaged openssl actually runs in bubblewrap.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoFixtures, BASE_DEBS, UPDATES_DEBS, type DemoFixtures } from '../fixtures/demo/build.js';
import { rpmEvr } from '../fixtures/demo/rpmspec.js';
import { parseObjdump } from '../fixtures/demo/elfdeps.js';
import { runPackageScriptlets } from '../src/compose/scriptlets.js';
import { openRpm } from '../src/rpm/index.js';
import { requireTool } from './support/tools.js';

const run = promisify(execFile);


let fx: DemoFixtures;
let work: string;

beforeAll(async () => {
  for (const [cmd, how] of [
    ['apt-get', 'apt'],
    ['dpkg-deb', 'dpkg'],
    ['objdump', 'binutils'],
    ['rpmbuild', 'rpm'],
    ['rpm2cpio', 'rpm2cpio'],
    ['cpio', 'cpio'],
    ['createrepo_c', 'createrepo-c'],
    ['bwrap', 'bubblewrap'],
  ] as const) requireTool(cmd, how);
  fx = await buildDemoFixtures();
  work = await mkdtemp(join(tmpdir(), 'layer-demo-fixtures-test-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const rpmsOf = async (repo: string) => (await readdir(repo)).filter((f) => f.endsWith('.rpm')).map((f) => join(repo, f));
const q = async (file: string, ...args: string[]) => (await run('rpm', ['-qp', ...args, file])).stdout;

/** Package names listed in a repo's primary.xml (via repomd.xml), as createrepo_c wrote them. */
function primaryNames(repo: string): string[] {
  const repomd = readFileSync(join(repo, 'repodata/repomd.xml'), 'utf8');
  const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1];
  expect(href).toBeDefined();
  const xml = gunzipSync(readFileSync(join(repo, href!))).toString('utf8');
  return [...xml.matchAll(/<package type="rpm">\s*<name>([^<]+)<\/name>/g)].map((m) => m[1]!).sort();
}

async function extract(rpms: string[], root: string): Promise<void> {
  for (const r of rpms) await run('sh', ['-c', 'rpm2cpio "$1" | (cd "$2" && cpio -idm --quiet)', 'x', r, root]);
}

describe('demo fixture repos', () => {
  it('publishes base and updates with createrepo_c, every package in primary.xml', () => {
    for (const repo of [fx.base, fx.updates]) expect(existsSync(join(repo, 'repodata/repomd.xml')), repo).toBe(true);
    expect(primaryNames(fx.base)).toEqual(['demo-release', 'filesystem', 'setup', ...BASE_DEBS].sort());
    expect(primaryNames(fx.updates)).toEqual([...UPDATES_DEBS].sort());
  });

  it('carries library Provides/Requires computed from the ELF files', async () => {
    const [libssl] = (await rpmsOf(fx.updates)).filter((f) => f.includes('/libssl3-'));
    const [openssl] = (await rpmsOf(fx.updates)).filter((f) => f.includes('/openssl-'));
    const [bash] = (await rpmsOf(fx.base)).filter((f) => f.includes('/bash-'));
    const [libc] = (await rpmsOf(fx.base)).filter((f) => f.includes('/libc6-'));
    const provides = (await q(libssl!, '--provides')).split('\n');
    expect(provides).toEqual(expect.arrayContaining(['libssl.so.3()(64bit)', 'libcrypto.so.3()(64bit)', 'libssl.so.3(OPENSSL_3.0.0)(64bit)']));
    const requires = (await q(openssl!, '--requires')).split('\n');
    expect(requires).toEqual(expect.arrayContaining(['libssl.so.3()(64bit)', 'libcrypto.so.3()(64bit)', 'libc.so.6()(64bit)', 'filesystem']));
    expect((await q(libc!, '--provides')).split('\n')).toEqual(
      expect.arrayContaining(['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.34)(64bit)', 'ld-linux-x86-64.so.2()(64bit)']),
    );
    expect((await q(bash!, '--provides')).split('\n')).toContain('/bin/sh');
    // merged /usr: nothing outside /usr, /etc, /var except filesystem's compat symlinks
    const files = (await q(openssl!, '--list')).trim().split('\n');
    expect(files).toContain('/usr/bin/openssl');
    expect(files.filter((f) => !/^\/(usr|etc|var)\//.test(f))).toEqual([]);
    expect(await q(openssl!, '--qf', '%{VERSION}')).toMatch(/^3\./);
  });

  it("rpm's own dependency check: base is closed, updates needs base", async () => {
    const root = join(work, 'rpmroot');
    const rpm = (...a: string[]) => run('rpm', ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm', ...a]);
    await rpm('--initdb');
    await rpm('-i', '--test', ...(await rpmsOf(fx.base)));
    await rpm('-i', '--test', ...(await rpmsOf(fx.base)), ...(await rpmsOf(fx.updates)));
    const alone = await rpm('-i', '--test', ...(await rpmsOf(fx.updates))).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(alone).toContain('libc.so.6()(64bit) is needed by');
  });

  it('the repackaged openssl runs in bubblewrap on a tree extracted from base + updates', async () => {
    const root = join(work, 'tree');
    await run('mkdir', ['-p', root]);
    await extract(await rpmsOf(fx.base), root);
    expect(existsSync(join(root, 'usr/bin/openssl'))).toBe(false);
    await extract(await rpmsOf(fx.updates), root);
    const bwrap = (...argv: string[]) =>
      run('bwrap', ['--unshare-all', '--die-with-parent', '--ro-bind', root, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--clearenv', '--setenv', 'PATH', '/usr/bin', '--', ...argv]);
    const { stdout } = await bwrap('/usr/bin/openssl', 'version');
    expect(stdout).toMatch(/^OpenSSL 3\.\d+\.\d+/);
    // Real crypto, not just a banner: SHA-256("abc") from FIPS 180-2.
    const dgst = await bwrap('/bin/sh', '-c', 'printf abc | openssl dgst -sha256 -r');
    expect(dgst.stdout).toMatch(/^ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad /);
    const osr = await bwrap('/bin/sh', '-c', '. /etc/os-release && echo "$ID"');
    expect(osr.stdout.trim()).toBe('layer-demo');
  });

  it("libssl3's real %post (-p /usr/sbin/ldconfig) runs in layer's scriptlet sandbox on the extracted tree", async () => {
    const root = join(work, 'post-tree');
    await run('mkdir', ['-p', root]);
    await extract([...(await rpmsOf(fx.base)), ...(await rpmsOf(fx.updates))], root);
    const [libssl] = (await rpmsOf(fx.updates)).filter((f) => f.includes('/libssl3-'));
    const pkg = await openRpm(libssl!);
    expect(pkg.scriptlets.map((s) => [s.kind, s.interpreter, s.body])).toEqual([['post', '/usr/sbin/ldconfig', undefined]]);
    expect(existsSync(join(root, 'etc/ld.so.cache'))).toBe(false);
    const [outcome] = await runPackageScriptlets(root, pkg, 'post');
    expect(outcome?.status).toBe('ran');
    const cache = readFileSync(join(root, 'etc/ld.so.cache'));
    expect(cache.includes(Buffer.from('libssl.so.3'))).toBe(true);
  });

  it('maps Debian versions to rpm EVRs and parses objdump output', () => {
    expect(rpmEvr('1:4.13+dfsg1-1+deb12u2')).toEqual({ epoch: 1, version: '4.13+dfsg1', release: '1+deb12u2' });
    expect(rpmEvr('3.0.17-1~deb12u3')).toEqual({ version: '3.0.17', release: '1~deb12u3' });
    expect(rpmEvr('12.4+deb12u5')).toEqual({ version: '12.4+deb12u5', release: '1' });
    expect(rpmEvr('1.2-rc1-3')).toEqual({ version: '1.2_rc1', release: '3' });
    const d = parseObjdump(
      [
        'Dynamic Section:', '  NEEDED               libc.so.6', '  SONAME               libz.so.1', '',
        'Version definitions:', '1 0x01 0x0d1a4a01 libz.so.1', '2 0x00 0x0827e5c0 ZLIB_1.2.0', '\tZLIB_1.2.0', '',
        'Version References:', '  required from libc.so.6:', '    0x09691a75 0x00 03 GLIBC_2.2.5', '',
      ].join('\n'),
      '(64bit)',
    );
    expect([...d.provides].sort()).toEqual(['libz.so.1()(64bit)', 'libz.so.1(ZLIB_1.2.0)(64bit)']);
    expect([...d.requires].sort()).toEqual(['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.2.5)(64bit)']);
  });
});
