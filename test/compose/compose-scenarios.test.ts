/**
 * composeTree scenarios on a base composed from the demo repos plus rpmbuild fixture packages
 * named for what they test: users created by %pre own their files, failing and networking
 * %post abort with their output, conflicts with the base name both owners, locked base
 * packages name the culprit, removal, and the real ngircd RPM with its %pre. After each
 * composition — failed ones included — the store must pass `ostree fsck`.
 */
import { createServer, type Server } from 'node:net';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTree, type ComposeResult } from '../../src/compose/index.js';
import { LayerError } from '../../src/errors.js';
import { RecordingReport } from '../../src/report.js';
import { requirePath, SHARED_DATA } from '../support/createrepo.js';
import type { FixtureSpec } from '../support/rpmbuild.js';
import { demoRepos, fixtureRepo, ostreeFsck, repoSetOf, request, requireTools, rpmq, workspace, type Workspace } from './helpers.js';

const NET_PORT = 47391;
const SHARED = '/usr/share/layer-test/shared.txt';

const fixtures: FixtureSpec[] = [
  { name: 'base-owned', files: [{ path: SHARED, content: 'base\n' }] },
  { name: 'locked-lib', version: '1.0', files: [{ path: '/usr/share/locked-lib/version', content: '1\n' }] },
  {
    name: 'base-dirs',
    files: [
      { path: '/usr/share/base-dirs/gone', content: 'to be deleted\n' },
      { path: '/usr/share/base-dirs/cache/old-a', content: 'a\n' },
      { path: '/usr/share/base-dirs/cache/old-b', content: 'b\n' },
      { path: '/usr/share/base-dirs/mode', content: 'chmod me\n', mode: 0o644 },
    ],
  },
  {
    name: 'base-trigger',
    triggers: [{ kind: 'transfiletriggerin', on: '/usr/lib/trig', body: 'while read f; do echo "trigger saw $f" >> /etc/trig.log; done\n', priority: 100 }],
    files: [{ path: '/usr/share/base-trigger/README', content: 'x\n' }],
  },
  {
    name: 'ngircd-deps',
    summary: 'stands in for the Fedora libraries and tools ngircd needs',
    provides: [
      'libgnutls.so.28()(64bit)', 'libgnutls.so.28(GNUTLS_1_4)(64bit)', 'libident.so.0()(64bit)', 'libpam.so.0()(64bit)',
      'libpam.so.0(LIBPAM_1.0)(64bit)', 'libwrap.so.0()(64bit)', 'libz.so.1()(64bit)', 'shadow-utils', 'systemd', 'rtld(GNU_HASH)',
    ],
    files: [{ path: '/usr/share/ngircd-deps/README', content: 'stub\n' }],
  },
];
const extra: FixtureSpec[] = [
  { name: 'conflicts-with-base', files: [{ path: SHARED, content: 'other\n' }] },
  {
    name: 'pre-adds-user',
    scripts: { pre: 'getent group svc >/dev/null || groupadd -r svc\ngetent passwd svc >/dev/null || useradd -r -g svc -d /var/lib/svc -s /sbin/nologin svc\nexit 0\n' },
    files: [
      { path: '/usr/lib/svc', type: 'dir', user: 'svc', group: 'svc', mode: 0o750 },
      { path: '/usr/lib/svc/data', content: 'svc data\n', user: 'svc', group: 'svc', mode: 0o640 },
    ],
  },
  { name: 'post-fails', scripts: { post: 'echo "about to fail"\necho "boom from post" >&2\nexit 3\n' }, files: [{ path: '/usr/share/post-fails/x', content: 'x\n' }] },
  {
    name: 'post-network',
    scripts: { post: { interpreter: '/bin/bash', body: `exec 3<>/dev/tcp/127.0.0.1/${NET_PORT} && echo "reached the host network"\n` } },
    files: [{ path: '/usr/share/post-network/x', content: 'x\n' }],
  },
  {
    name: 'post-edits-base-file',
    scripts: { post: `echo appended >> ${SHARED}\n` },
    files: [{ path: '/usr/share/post-edits/x', content: 'x\n' }],
  },
  {
    name: 'post-reshapes-tree',
    summary: 'a %post that deletes, replaces a directory, chmods and creates: every overlay case',
    scripts: {
      post: [
        'rm /usr/share/base-dirs/gone',
        'rm -rf /usr/share/base-dirs/cache && mkdir /usr/share/base-dirs/cache && echo fresh > /usr/share/base-dirs/cache/new',
        'chmod 0600 /usr/share/base-dirs/mode',
        'mkdir -p /usr/lib/reshaped/sub && echo made > /usr/lib/reshaped/sub/file',
        '',
      ].join('\n'),
    },
    files: [{ path: '/usr/share/post-reshapes/x', content: 'x\n' }],
  },
  { name: 'ships-b-one', files: [{ path: '/usr/share/layer-test/b.txt', content: 'one\n' }] },
  { name: 'ships-b-two', files: [{ path: '/usr/share/layer-test/b.txt', content: 'two\n' }] },
  { name: 'post-lua', scripts: { post: { interpreter: '<lua>', body: 'print("hello from lua")\n' } }, files: [{ path: '/usr/share/post-lua/x', content: 'x\n' }] },
  { name: 'pretrans-fails', scripts: { pretrans: 'exit 1\n', preun: 'exit 1\n' }, files: [{ path: '/usr/share/pretrans-fails/x', content: 'x\n' }] },
  { name: 'post-hangs', scripts: { post: 'echo going to sleep\nsleep 120\n' }, files: [{ path: '/usr/share/post-hangs/x', content: 'x\n' }] },
  { name: 'trig-target', files: [{ path: '/usr/lib/trig/hello', content: 'hi\n' }, { path: '/usr/share/trig-target/other', content: 'no\n' }] },
  { name: 'locked-lib', version: '2.0', files: [{ path: '/usr/share/locked-lib/version', content: '2\n' }] },
  { name: 'needs-new-lib', requires: ['locked-lib >= 2.0'], files: [{ path: '/usr/share/needs-new-lib/x', content: 'x\n' }] },
];

let ws: Workspace;
let repos: Record<string, string>;
let base: ComposeResult;
let server: Server;
let connections = 0;

const compose = (over: Parameters<typeof request>[2]) =>
  composeTree(request(ws, repoSetOf(repos, join(ws.dir, 'md')), { base: { commit: base.commit! }, ...over }));

async function failure(p: Promise<unknown>): Promise<LayerError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LayerError);
  return err as LayerError;
}

async function expectFsckClean(): Promise<void> {
  expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
  expect(ws.store.fsck().problems).toEqual([]);
}

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['rpmbuild', 'rpm'], ['ostree', 'ostree'], ['bwrap', 'bubblewrap'], ['createrepo_c', 'createrepo-c']]);
  const demo = await demoRepos();
  ws = await workspace();
  const fx = await fixtureRepo(join(ws.dir, 'fixtures'), fixtures);
  const ex = await fixtureRepo(join(ws.dir, 'extra'), extra);
  repos = { base: demo.base, fixtures: fx, extra: ex };
  const baseNames = demo.packages.filter((p) => p.repo === 'base').map((p) => p.name);
  base = await composeTree(request(ws, repoSetOf({ base: demo.base, fixtures: fx }, join(ws.dir, 'md0')), {
    install: [...baseNames, 'base-owned', 'locked-lib', 'ngircd-deps', 'base-dirs', 'base-trigger'],
  }));
  server = createServer((s) => {
    connections++;
    s.end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(NET_PORT, '127.0.0.1', resolve));
}, 240_000);

afterAll(async () => {
  server?.close();
  await ws?.cleanup();
});

describe('compose scenarios', () => {
  it("a %pre that adds a user: the package's files are owned by that user's ids from the new tree", async () => {
    const r = await compose({ install: ['pre-adds-user'] });
    const passwd = ws.store.readFile(r.commit!, 'usr/etc/passwd').toString();
    const svc = passwd.split('\n').find((l) => l.startsWith('svc:'));
    expect(svc).toBeDefined();
    const uid = Number(svc!.split(':')[2]);
    const gid = Number(ws.store.readFile(r.commit!, 'usr/etc/group').toString().split('\n').find((l) => l.startsWith('svc:'))!.split(':')[2]);
    expect(uid).toBeGreaterThan(0);
    expect(ws.store.stat(r.commit!, 'usr/lib/svc/data')).toMatchObject({ uid, gid });
    expect(ws.store.stat(r.commit!, 'usr/lib/svc')).toMatchObject({ uid, gid });
    // The base's passwd is unchanged.
    expect(ws.store.readFile(base.commit!, 'usr/etc/passwd').toString()).not.toMatch(/^svc:/m);
    // rpm itself agrees: owners resolve through the tree's passwd/group; only mtime differs.
    const view = join(ws.dir, 'svc-view');
    await ws.store.checkout(r.commit!, view, { hardlink: false });
    await cp(join(view, 'usr/etc'), join(view, 'etc'), { recursive: true, verbatimSymlinks: true });
    const v = await rpmq(view, ['-V', 'pre-adds-user']).catch((e: { stdout: string }) => e.stdout);
    for (const line of v.split('\n').filter(Boolean)) expect(line).toMatch(/^\.+T\.*\s/);
    await expectFsckClean();
  });

  it('a failing %post aborts the composition with the package, the scriptlet and its output', async () => {
    // Package imports (layer/pkg/...) are a cache and may be added; no other ref may change.
    const userRefs = () => [...ws.store.listRefs().keys()].filter((r) => !r.startsWith('layer/pkg/')).sort();
    const refs = userRefs();
    const err = await failure(compose({ install: ['post-fails'], ref: 'test/should-not-exist' }));
    expect(err.code).toBe('LAYER_SCRIPTLET');
    expect(err.message).toMatch(/post-fails-1\.0-1\.noarch: %post scriptlet failed with exit status 3/);
    expect(err.message).toContain('about to fail');
    expect(err.message).toContain('boom from post');
    expect(ws.store.readRef('test/should-not-exist')).toBeFalsy();
    expect(userRefs()).toEqual(refs);
    await expectFsckClean();
  });

  it('a %post that tries to reach the network fails (the sandbox has only its own loopback)', async () => {
    const before = connections;
    const err = await failure(compose({ install: ['post-network'] }));
    expect(err.code).toBe('LAYER_SCRIPTLET');
    expect(err.message).toMatch(/post-network.*%post/);
    expect(err.message).toMatch(/Connection refused|No such file|connect/i);
    expect(connections).toBe(before);
  });

  it('a %post writing into a hardlinked base file changes the new tree only, never the store objects', async () => {
    const r = await compose({ install: ['post-edits-base-file'] });
    expect(ws.store.readFile(r.commit!, SHARED).toString()).toBe('base\nappended\n');
    expect(ws.store.readFile(base.commit!, SHARED).toString()).toBe('base\n');
    await expectFsckClean();
  });

  it('deletions, replaced directories, mode changes and new files of a %post all reach the commit, and only it', async () => {
    const r = await compose({ install: ['post-reshapes-tree'] });
    expect(ws.store.stat(r.commit!, 'usr/share/base-dirs/gone')).toBeUndefined();
    const cache = [...ws.store.walk(r.commit!)].filter((e) => e.path.startsWith('usr/share/base-dirs/cache/')).map((e) => e.path);
    expect(cache).toEqual(['usr/share/base-dirs/cache/new']);
    expect(ws.store.readFile(r.commit!, 'usr/share/base-dirs/cache/new').toString()).toBe('fresh\n');
    expect(ws.store.stat(r.commit!, 'usr/share/base-dirs/mode')!.mode & 0o7777).toBe(0o600);
    expect(ws.store.readFile(r.commit!, 'usr/lib/reshaped/sub/file').toString()).toBe('made\n');
    // No overlay bookkeeping leaks into the commit.
    for (const e of ws.store.walk(r.commit!)) expect(e.xattrs.filter(([n]) => n.startsWith('trusted.overlay.'))).toEqual([]);
    // The base is untouched.
    expect(ws.store.readFile(base.commit!, 'usr/share/base-dirs/gone').toString()).toBe('to be deleted\n');
    expect(ws.store.stat(base.commit!, 'usr/share/base-dirs/mode')!.mode & 0o7777).toBe(0o644);
    await expectFsckClean();
  });

  it('a Lua scriptlet not on the allow-list is rejected naming the package', async () => {
    const err = await failure(compose({ install: ['post-lua'] }));
    expect(err.code).toBe('LAYER_SCRIPTLET');
    expect(err.message).toMatch(/post-lua-1\.0-1\.noarch: %post scriptlet is written in Lua/);
  });

  it('%pretrans and uninstall scriptlets are not run (a failing one does not matter) and the report says so', async () => {
    const report = new RecordingReport();
    const r = await compose({ install: ['pretrans-fails'], report });
    expect(r.commit).toBeDefined();
    expect(report.messages.some((m) => /not running %pretrans/.test(m.message))).toBe(true);
    expect(report.messages.some((m) => /not running %preun/.test(m.message))).toBe(true);
  });

  it('a %post over its time limit is killed and the composition fails with its output', async () => {
    const t0 = Date.now();
    const err = await failure(compose({ install: ['post-hangs'], options: { scriptletTimeoutMs: 1500 } }));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(err.code).toBe('LAYER_SCRIPTLET');
    expect(err.message).toMatch(/post-hangs.*%post scriptlet timed out/);
    expect(err.message).toContain('going to sleep');
    await expectFsckClean();
  });

  it("a base package's %transfiletriggerin fires for layered files under its prefix", async () => {
    const r = await compose({ install: ['trig-target'] });
    expect(ws.store.readFile(r.commit!, 'usr/etc/trig.log').toString()).toBe('trigger saw /usr/lib/trig/hello\n');
    expect(ws.store.stat(base.commit!, 'usr/etc/trig.log')).toBeUndefined();
  });

  it('a layered file that differs from a base file fails naming both owners; replaceFiles lets it win', async () => {
    const err = await failure(compose({ install: ['conflicts-with-base'] }));
    expect(err.code).toBe('LAYER_FILE_CONFLICT');
    expect(err.message).toContain(SHARED);
    expect(err.message).toMatch(/base package base-owned-1\.0-1\.noarch/);
    expect(err.message).toMatch(/package conflicts-with-base-1\.0-1\.noarch/);
    const r = await compose({ install: ['conflicts-with-base'], options: { replaceFiles: true } });
    expect(ws.store.readFile(r.commit!, SHARED).toString()).toBe('other\n');
    await expectFsckClean();
  });

  it('two layered packages shipping one path with different content: both named', async () => {
    const err = await failure(compose({ install: ['ships-b-one', 'ships-b-two'] }));
    expect(err.code).toBe('LAYER_FILE_CONFLICT');
    expect(err.message).toMatch(/\/usr\/share\/layer-test\/b\.txt: package ships-b-(one|two)-1\.0-1\.noarch and package ships-b-(one|two)-1\.0-1\.noarch/);
    expect(err.message).toContain('ships-b-one');
    expect(err.message).toContain('ships-b-two');
    await expectFsckClean();
  });

  it('base packages are locked: the error names the base package and the requested package forcing it', async () => {
    const err = await failure(compose({ install: ['needs-new-lib'] }));
    expect(err.code).toBe('LAYER_BASE_LOCKED');
    expect(err.message).toContain('needs-new-lib');
    expect(err.message).toContain('locked-lib-1.0-1.noarch');
    const r = await compose({ install: ['needs-new-lib'], options: { allowBaseChanges: true } });
    expect(r.packages).toContain('locked-lib-2.0-1.noarch');
    expect(r.packages).not.toContain('locked-lib-1.0-1.noarch');
    expect(ws.store.readFile(r.commit!, 'usr/share/locked-lib/version').toString()).toBe('2\n');
  });

  it('removing a base package drops it from the rpmdb and its files from the tree', async () => {
    const r = await compose({ remove: ['base-owned'] });
    expect(r.packages.some((n) => n.startsWith('base-owned-'))).toBe(false);
    expect(ws.store.stat(r.commit!, SHARED)).toBeUndefined();
    const view = join(ws.dir, 'removed-view');
    await ws.store.checkout(r.commit!, view, { hardlink: false });
    expect(await rpmq(view, ['-q', 'base-owned']).catch((e: { stdout: string }) => e.stdout)).toMatch(/not installed/);
    await expectFsckClean();
  });

  it('the real ngircd RPM installs as a local package with its %pre creating ngircd', async () => {
    const ngircd = requirePath(join(SHARED_DATA, 'rpms/ngircd-22-2.fc22.x86_64.rpm'));
    const report = new RecordingReport();
    const r = await compose({ localRpms: [ngircd], report });
    expect(r.layered).toEqual(['ngircd-22-2.fc22.x86_64']);
    const group = ws.store.readFile(r.commit!, 'usr/etc/group').toString();
    const gid = Number(group.split('\n').find((l) => l.startsWith('ngircd:'))?.split(':')[2]);
    expect(gid).toBeGreaterThan(0);
    expect(ws.store.readFile(r.commit!, 'usr/etc/passwd').toString()).toMatch(/^ngircd:/m);
    expect(ws.store.stat(r.commit!, 'usr/etc/ngircd.conf')).toMatchObject({ uid: 0, gid });
    const view = join(ws.dir, 'ngircd-view');
    await ws.store.checkout(r.commit!, view, { hardlink: false });
    expect((await rpmq(view, ['-qf', '/usr/sbin/ngircd', '--qf', '%{NAME}\\n'])).trim()).toBe('ngircd');
    await expectFsckClean();
  });

  it('a request nothing provides fails with LAYER_NO_MATCH naming it', async () => {
    const err = await failure(compose({ install: ['no-such-package-xyz'] }));
    expect(err.code).toBe('LAYER_NO_MATCH');
    expect(err.message).toContain('no-such-package-xyz');
  });
});
