/**
 * RPM import against real packages from ../shared/data/rpms: the checkout of each package's
 * commit equals `rpm2cpio | cpio -idm` modulo the documented path translations
 * (src/import/rpm-paths.ts), computed here independently.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as xattr from 'fs-xattr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { PKG_KEYS, importRpm, packageRef } from '../../src/import/index.js';
import { Store, commitMetadata, unbox, type RepoMode } from '../../src/store/index.js';
import { buildRpm, ostree, requireShared, requireTool, tempDir } from '../store/helpers.js';

const RPMS = '/work/shared/data/rpms';
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeAll(() => {
  requireShared(RPMS);
  for (const t of ['rpm2cpio', 'cpio', 'rpmbuild', 'ostree']) requireTool(t, t === 'rpm2cpio' || t === 'rpmbuild' ? 'rpm' : t);
  if (process.getuid?.() !== 0) throw new Error('import tests need root (bare mode keeps owners and security.capability)');
});

interface Node { kind: 'file' | 'dir' | 'symlink'; perms: number; data: string }

function scan(dir: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const visit = (rel: string) => {
    for (const name of readdirSync(rel ? join(dir, rel) : dir)) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, r));
      if (st.isDirectory()) {
        out.set(r, { kind: 'dir', perms: st.mode & 0o7777, data: '' });
        visit(r);
      } else if (st.isSymbolicLink()) out.set(r, { kind: 'symlink', perms: 0, data: readlinkSync(join(dir, r)) });
      else out.set(r, { kind: 'file', perms: st.mode & 0o7777, data: createHash('sha256').update(readFileSync(join(dir, r))).digest('hex') });
    }
  };
  visit('');
  return out;
}

/** The documented translation, written out again here rather than imported. */
function expectedPath(p: string, kind: Node['kind']): { tree?: string; tmpfiles?: string } {
  if (p === 'etc' || p.startsWith('etc/')) return { tree: `usr/${p}` };
  if (p === 'boot' || p.startsWith('boot/')) return { tree: `usr/lib/ostree-boot${p.slice(4)}` };
  if (/^(var|run|tmp)(\/|$)/.test(p)) return kind === 'file' ? { tree: `usr/share/factory/${p}`, tmpfiles: `C /${p}` } : { tmpfiles: `${kind === 'dir' ? 'd' : 'L'} /${p}` };
  return { tree: p };
}

function cpioExtract(rpm: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `rpm2cpio "${rpm}" | cpio -idm --quiet`], { cwd: dir });
}

describe.each<RepoMode>(['bare', 'bare-user'])('importRpm (%s)', (mode) => {
  const work = tempDir(`imp-${mode}`);
  temps.push(work);
  const store = Store.init(join(work, 'repo'), { mode, fsync: false });
  const names = ['hello-2.0-1.x86_64.rpm', 'hlinktest-1.0-1.noarch.rpm', 'capstest-1.0-1.noarch.rpm', 'foo-1.0-1.noarch.rpm',
    'ngircd-22-2.fc22.x86_64.rpm', 'xrootd-devel-5.5.4-1.fc37.x86_64.rpm', 'sendmail-8.16.1-7.1.x86_64.rpm', 'mc-4.8.15-10.3.1.x86_64.rpm'];

  it.each(names)('%s: checkout equals rpm2cpio | cpio -idm after translation', async (name) => {
    const rpm = join(RPMS, name);
    const r = await importRpm(store, rpm);
    expect(store.resolveRef(r.ref)).toBe(r.commit);
    const co = join(work, `co-${name}`);
    await store.checkout(r.commit, co, { hardlink: mode === 'bare' });
    const ref = join(work, `cpio-${name}`);
    cpioExtract(rpm, ref);
    const got = scan(co);
    const want = scan(ref);
    const pkgName = name.replace(/-[^-]+-[^-]+$/, '');
    const conf = got.has(`usr/lib/tmpfiles.d/pkg-${pkgName}.conf`) ? store.readFile(r.commit, `usr/lib/tmpfiles.d/pkg-${pkgName}.conf`).toString() : '';
    const accounted = new Set<string>();
    // Directories cpio creates for parents the package does not own get no tmpfiles line.
    const owned = new Set(execFileSync('rpm', ['-qpl', rpm], { encoding: 'utf8' }).split('\n').map((l) => l.slice(1)));
    for (const [p, node] of want) {
      const e = expectedPath(p, node.kind);
      if (e.tmpfiles && owned.has(p)) expect(conf, `${p} in tmpfiles`).toContain(e.tmpfiles);
      if (!e.tree) continue;
      accounted.add(e.tree);
      const g = got.get(e.tree);
      expect(g, `${p} → ${e.tree}`).toBeDefined();
      expect({ ...g, perms: g!.kind === 'file' && mode === 'bare-user' ? g!.perms & 0o775 : g!.perms }, e.tree)
        .toEqual({ ...node, perms: node.kind === 'file' && mode === 'bare-user' ? (node.perms & 0o775) | 0o400 : node.perms });
    }
    // Nothing extra except the tmpfiles.d file and directories created to hold things.
    const extra = [...got].filter(([p, n]) => n.kind !== 'dir' && !accounted.has(p)).map(([p]) => p);
    expect(extra).toEqual(conf ? [`usr/lib/tmpfiles.d/pkg-${pkgName}.conf`] : []);
    // Re-import is a cache hit.
    const again = await importRpm(store, rpm);
    expect(again).toMatchObject({ reused: true, commit: r.commit });
  });

  it('passes ostree fsck and keeps the header and NEVRA in commit metadata', () => {
    expect(ostree(store.path, 'fsck')).toMatch(/no errors found/);
    const c = store.readCommit(packageRef({ name: 'ngircd', epoch: 0, version: '22', release: '2.fc22', arch: 'x86_64' }));
    expect(commitMetadata(c, PKG_KEYS.nevra)?.value).toBe('ngircd-22-2.fc22.x86_64');
    const blob = commitMetadata(c, PKG_KEYS.header)?.value as Uint8Array;
    // The stored blob is the main header without magic: with the magic it hashes to the
    // package's own SHA1HEADER digest, as rpm reports it.
    const digest = execFileSync('rpm', ['-qp', '--qf', '%{SHA1HEADER}', join(RPMS, 'ngircd-22-2.fc22.x86_64.rpm')], { encoding: 'utf8' }).trim();
    expect(createHash('sha1').update(Buffer.from('8eade80100000000', 'hex')).update(blob).digest('hex')).toBe(digest);
    expect(unbox(commitMetadata(c, PKG_KEYS.owners)!)).toEqual([['usr/etc/ngircd.conf', 'root', 'ngircd'], ['usr/etc/pam.d/ngircd', 'root', 'ngircd']]);
  });

  it('keeps file capabilities as security.capability', async () => {
    const c = store.resolveRef('layer/pkg/capstest/1.0-1.noarch');
    expect(store.stat(c, 'a/emptyCaps1')?.xattrs.map(([n]) => n)).toEqual(['security.capability']);
    expect(store.stat(c, 'a/noCaps')?.xattrs).toEqual([]);
    if (mode === 'bare') {
      const co = join(work, 'caps-co');
      await store.checkout(c, co);
      expect(xattr.listAttributesSync(join(co, 'a/emptyCaps1'))).toContain('security.capability');
      expect(xattr.getAttributeSync(join(co, 'a/emptyCaps1'), 'security.capability').readUInt32LE(0)).toBe(0x02000000);
    }
  });
});

describe('importRpm rejects what it must', () => {
  const work = tempDir('imp-bad');
  temps.push(work);

  it('a corrupted package fails with a LayerError and leaves no ref', async () => {
    const store = Store.init(join(work, 'repo1'), { fsync: false });
    const err = await importRpm(store, join(RPMS, 'hello-2.0-1.x86_64-corrupted.rpm')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as Error).message).toMatch(/hello-2\.0-1\.x86_64/);
    expect(store.listRefs().size).toBe(0);
  });

  it('files under /opt are rejected naming package and path; /var, /etc, /boot are translated', async () => {
    const store = Store.init(join(work, 'repo2'), { fsync: false });
    const opt = buildRpm(work, 'opttest', 'mkdir -p %{buildroot}/opt/opttest && echo x > %{buildroot}/opt/opttest/x', '/opt/opttest');
    await expect(importRpm(store, opt)).rejects.toThrow(/opttest-1\.0-1\.noarch.*\/opt\/opttest\/x.*not supported/);
    expect(store.listRefs().size).toBe(0);

    const paths = buildRpm(work, 'pathtest', [
      'mkdir -p %{buildroot}/etc %{buildroot}/boot %{buildroot}/var/lib/pathtest/sub %{buildroot}/usr/bin',
      'echo conf > %{buildroot}/etc/pathtest.conf',
      'echo kernel > %{buildroot}/boot/pathtest.img',
      'echo state > %{buildroot}/var/lib/pathtest/state',
      'ln -s ../state %{buildroot}/var/lib/pathtest/sub/link',
      'echo bin > %{buildroot}/usr/bin/pathtest',
    ].join('\n'), [
      '/etc/pathtest.conf', '/boot/pathtest.img', '%dir %attr(0750,nobody,nogroup) /var/lib/pathtest',
      '/var/lib/pathtest/state', '/var/lib/pathtest/sub', '/usr/bin/pathtest',
    ].join('\n'));
    const r = await importRpm(store, paths);
    expect(store.readFile(r.commit, 'usr/etc/pathtest.conf').toString()).toBe('conf\n');
    expect(store.readFile(r.commit, 'usr/lib/ostree-boot/pathtest.img').toString()).toBe('kernel\n');
    expect(store.readFile(r.commit, 'usr/share/factory/var/lib/pathtest/state').toString()).toBe('state\n');
    expect(store.stat(r.commit, 'var')).toBeUndefined();
    expect(store.stat(r.commit, 'etc')).toBeUndefined();
    expect(store.readFile(r.commit, 'usr/lib/tmpfiles.d/pkg-pathtest.conf').toString().split('\n').slice(1)).toEqual([
      'd /var/lib/pathtest 0750 nobody nogroup - -',
      'C /var/lib/pathtest/state - - - - /usr/share/factory/var/lib/pathtest/state',
      'd /var/lib/pathtest/sub 0755 root root - -',
      'L /var/lib/pathtest/sub/link - - - - ../state',
      '',
    ]);
  });

  it('escapes refs the way rpm-ostree does', () => {
    expect(packageRef({ name: 'vim-common', epoch: 2, version: '7.4.160', release: '1.el7_3.1', arch: 'x86_64' }))
      .toBe('layer/pkg/vim-common/2_3A7.4.160-1.el7__3.1.x86__64');
    expect(packageRef({ name: 'gtk+', epoch: 0, version: '1.0', release: '1', arch: 'noarch' })).toBe('layer/pkg/gtk_2B/1.0-1.noarch');
  });
});

describe('union of imported packages', () => {
  it('layers real packages, and names both packages when two ship different files at one path', async () => {
    const work = tempDir('imp-union');
    temps.push(work);
    const store = Store.init(join(work, 'repo'), { fsync: false });
    const layers = [];
    for (const name of ['hello-2.0-1.x86_64.rpm', 'foo-1.0-1.noarch.rpm', 'ngircd-22-2.fc22.x86_64.rpm', 'mc-4.8.15-10.3.1.x86_64.rpm']) {
      const r = await importRpm(store, join(RPMS, name));
      layers.push({ commit: r.commit, owner: r.nevra });
    }
    await store.checkoutUnion(layers, join(work, 'all'));
    expect(readFileSync(join(work, 'all/usr/bin/hello')).equals(store.readFile(layers[0]!.commit, 'usr/bin/hello'))).toBe(true);
    expect(lstatSync(join(work, 'all/usr/bin/mc')).isFile()).toBe(true);

    const fake = buildRpm(work, 'fakehello', 'mkdir -p %{buildroot}/usr/bin && echo impostor > %{buildroot}/usr/bin/hello', '/usr/bin/hello');
    const f = await importRpm(store, fake);
    const err = await store.checkoutUnion([...layers, { commit: f.commit, owner: f.nevra }], join(work, 'conflict')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAYER_FILE_CONFLICT', conflict: { path: 'usr/bin/hello', owners: ['hello-2.0-1.x86_64', 'fakehello-1.0-1.noarch'] } });
    await store.checkoutUnion([...layers, { commit: f.commit, owner: f.nevra }], join(work, 'replaced'), { replaceFiles: true });
    expect(readFileSync(join(work, 'replaced/usr/bin/hello'), 'utf8')).toBe('impostor\n');
  });
});
