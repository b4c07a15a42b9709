/**
 * Composing with a partial tree (src/compose/apply/partial.ts) against the full checkout: when
 * all the scriptlets step runs is ldconfig, only what ldconfig reads is checked out, and for
 * the same plan the commit must be the full checkout's (SOURCE_DATE_EPOCH fixes the
 * timestamp): the ld.so.cache real ldconfig writes, the soname links it makes, the rpmdb,
 * every file never checked out. Fixtures: a real shared library from the host (libbz2, not in
 * the demo base) shipped without its soname link, the same with `%post -p /usr/sbin/ldconfig`, a
 * whole base composed from nothing (the demo base's packages have no scriptlets, and its
 * libraries make ldconfig run: a recipe upgrade's base compose), and what must take the full
 * checkout (a shell scriptlet, a file owned by another user). Then ldconfig's output taken
 * from an earlier compose with the same inputs (src/compose/apply/ldconfig-memo.ts).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, plan, type ComposeResult } from '../../src/compose/index.js';
import { RecordingReport } from '../../src/report.js';
import type { Checksum } from '../../src/store/index.js';
import type { FixtureSpec } from '../support/rpmbuild.js';
import { applyBothWays, ARCH, demoBaseWorkspace, fixedSourceDateEpoch, ostreeFsck, repoSetOf, requireTools, rpmNames, type Workspace } from './helpers.js';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
const HOST_LIB = '/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4';
const HOST_ZLIB = '/usr/lib/x86_64-linux-gnu/libz.so.1';

let ws: Workspace;
let repos: Record<string, string>;
let base: ComposeResult;
let baseNames: string[];

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['rpmbuild', 'rpm'], ['ostree', 'ostree'], ['createrepo_c', 'createrepo-c'], ['bwrap', 'bubblewrap']]);
  if (!existsSync(HOST_LIB)) throw new Error(`${HOST_LIB} is missing: apt-get install -y libbz2-1.0 (bash scripts/setup.sh installs bzip2, which needs it)`);
  const lib = readFileSync(HOST_LIB);
  const fixtures: FixtureSpec[] = [
    { name: 'p-lib', files: [{ path: `${LIBDIR}/libbz2.so.1.0.4`, content: lib, mode: 0o644 }] },
    // A setgid directory on the rpmdb's way: a note's objects go into the partial tree, not the union.
    { name: 'p-sgid-sysimage', files: [{ path: '/usr/lib/sysimage', type: 'dir', mode: 0o2755 }] },
    // The same path with another library behind it (zlib: Debian's essential zlib1g ships it).
    { name: 'p-lib-z', files: [{ path: `${LIBDIR}/libbz2.so.1.0.4`, content: readFileSync(HOST_ZLIB), mode: 0o644 }] },
    { name: 'p-lib-post', scripts: { post: { interpreter: '/usr/sbin/ldconfig' } }, files: [{ path: `${LIBDIR}/p-post/libbz2.so.1.0.4`, content: lib }, { path: '/etc/ld.so.conf.d/p-post.conf', content: `${LIBDIR}/p-post\n` }] },
    // A library-named link to a file ldconfig would not pick by name, through the base's lib -> usr/lib link.
    { name: 'p-lib-link', files: [{ path: `${LIBDIR}/p-link/bz2-real`, content: lib }, { path: `${LIBDIR}/libpbz.so.1`, type: 'symlink', target: '/lib/x86_64-linux-gnu/p-link/bz2-real' }] },
    { name: 'p-lib-shell', scripts: { post: 'echo post ran\n' }, files: [{ path: `${LIBDIR}/p-shell/libbz2.so.1.0.4`, content: lib }] },
    { name: 'p-lib-owned', files: [{ path: `${LIBDIR}/p-owned/libbz2.so.1.0.4`, content: lib, user: 'daemon', group: 'daemon' }] },
  ];
  ({ ws, repos, base, baseNames } = await demoBaseWorkspace('layer-partial-', fixtures));
}, 240_000);

afterAll(async () => {
  await ws?.cleanup();
});

fixedSourceDateEpoch();

const both = (install: string[], baseCommit: Checksum | '') => applyBothWays(ws, repos, install, baseCommit);
const rpmQa = (commit: Checksum) => rpmNames(ws, commit);
/** Composed both ways: the full checkout with no error, the engine's way by a partial tree, one commit. */
async function partialCommit(install: string[], baseCommit: Checksum | ''): Promise<Checksum> {
  // No note of an earlier compose's ldconfig (the last describe's subject): the partial tree runs.
  rmSync(notes(), { recursive: true, force: true });
  const [full, part] = await both(install, baseCommit);
  expect(full.error).toBeUndefined();
  expect(full.partial).toBeUndefined();
  expect(part.partial).toBe(true);
  expect(part.commit).toBe(full.commit);
  return part.commit as Checksum;
}

const cacheOf = (commit: Checksum) => ws.store.readFile(commit, 'usr/etc/ld.so.cache');

describe('composing with only what ldconfig needs checked out', () => {
  it('a library layered on a base: the full checkout\'s commit, with the soname link and cache real ldconfig makes', async () => {
    const commit = await partialCommit(['p-lib'], base.commit as Checksum);
    expect(ws.store.stat(commit, `${LIBDIR.slice(1)}/libbz2.so.1.0`)?.target).toBe('libbz2.so.1.0.4');
    expect(cacheOf(commit).includes(Buffer.from('libbz2.so.1.0'))).toBe(true);
    expect(cacheOf(base.commit as Checksum).includes(Buffer.from('libbz2.so.1.0'))).toBe(false);
    // What was never checked out is still there: the base's binaries and documentation.
    expect(ws.store.stat(commit, 'usr/bin/bash')?.checksum).toBe(ws.store.stat(base.commit as Checksum, 'usr/bin/bash')?.checksum);
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
    expect(await rpmQa(commit)).toEqual(expect.arrayContaining(['p-lib', 'bash', 'coreutils']));
  }, 120_000);

  it('`%post -p /usr/sbin/ldconfig` and a new ld.so.conf.d file: the same commit both ways', async () => {
    const commit = await partialCommit(['p-lib-post'], base.commit as Checksum);
    expect(ws.store.stat(commit, `${LIBDIR.slice(1)}/p-post/libbz2.so.1.0`)?.target).toBe('libbz2.so.1.0.4');
    expect(cacheOf(commit).includes(Buffer.from(`${LIBDIR}/p-post/libbz2.so.1.0`))).toBe(true);
  }, 120_000);

  it('a library-named link through the lib -> usr/lib link: its target is checked out, same commit both ways', async () => {
    const commit = await partialCommit(['p-lib-link'], base.commit as Checksum);
    // ldconfig read the ELF behind the link: the soname it found is in the cache, as in the full tree.
    expect(cacheOf(commit).includes(Buffer.from('libbz2.so.1.0'))).toBe(true);
  }, 120_000);

  it('a base composed from nothing (no scriptlets, libraries): the same commit both ways', async () => {
    await partialCommit(baseNames, '');
  }, 120_000);

  it('takes the full checkout for a shell scriptlet or a file of another owner', async () => {
    for (const pkg of ['p-lib-shell', 'p-lib-owned']) {
      const [full, part] = await both([pkg], base.commit as Checksum);
      expect(full.error).toBeUndefined();
      expect(part.partial).toBeUndefined();
      expect(part.direct).toBeUndefined();
      expect(part.commit).toBe(full.commit);
    }
  }, 120_000);
});

/**
 * The engine's way with a recording report: its commit, whether ldconfig ran or was taken from
 * a note, and how: a partial tree, or no tree at all (objects only, `direct`).
 */
async function composePartial(install: string[], baseCommit: Checksum | ''): Promise<{ commit: Checksum; reused: boolean; ran: number; how: string }> {
  const report = new RecordingReport();
  const repoSet = repoSetOf(repos, join(ws.dir, 'md'));
  const p = await plan(
    { baseRef: 'both-ways', baseCommit: baseCommit as Checksum, requested: install, requestedLocal: [], removed: [] },
    { store: ws.store, repos: repoSet, arch: ARCH, cacheDir: ws.cacheDir, options: {}, report },
  );
  const r = await apply(p, { store: ws.store, repos: repoSet, cacheDir: ws.cacheDir, report });
  const reused = report.events.some((e) => e.code === 'scriptlet.ldconfig-reused');
  const how = r.direct ? 'objects' : r.partial ? 'partial tree' : 'full tree';
  return { commit: r.commit as Checksum, reused, ran: report.records('scriptlet.ran').length, how };
}

const notes = () => join(ws.cacheDir, 'ldconfig');
const noteFiles = () => (existsSync(notes()) ? readdirSync(notes()).filter((n) => !n.startsWith('.')) : []);

/**
 * Composed with no note (a partial tree, ldconfig runs), then again with the note that left,
 * `how` the second goes: it runs nothing and commits what the first and the full checkout
 * (where ldconfig always runs) commit. The second compose's result.
 */
async function composedTwice(install: string[], baseCommit: Checksum | '', how: string): Promise<Awaited<ReturnType<typeof composePartial>>> {
  rmSync(notes(), { recursive: true, force: true });
  const first = await composePartial(install, baseCommit);
  expect(first).toMatchObject({ reused: false, how: 'partial tree' });
  expect(first.ran).toBeGreaterThan(0);
  expect(noteFiles()).toHaveLength(1);
  const second = await composePartial(install, baseCommit);
  expect(second).toMatchObject({ reused: true, ran: 0, how });
  expect(second.commit).toBe(first.commit);
  const [full] = await both(install, baseCommit);
  expect(full.commit).toBe(second.commit);
  return second;
}

describe('ldconfig\'s output from an earlier compose with the same inputs', () => {
  it('the second compose of the same tree checks nothing out, runs nothing, and commits what running ldconfig gives', async () => {
    const second = await composedTwice(['p-lib'], base.commit as Checksum, 'objects');
    expect(cacheOf(second.commit).includes(Buffer.from('libbz2.so.1.0'))).toBe(true);
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
  }, 120_000);

  it('a base composed from nothing: the second compose makes the rpmdb\'s directories as the tree did, same commit', async () => {
    const second = await composedTwice(baseNames, '', 'objects');
    // Made by no package: the rpmdb writer's directories and rpm-ostree's link, as in the tree.
    expect(ws.store.stat(second.commit, 'usr/lib/sysimage/rpm/rpmdb.sqlite')).toBeDefined();
    expect(ws.store.stat(second.commit, 'usr/share/rpm')?.target).toBe('../lib/sysimage/rpm');
    expect(await rpmQa(second.commit)).toEqual(expect.arrayContaining(['bash', 'coreutils']));
  }, 120_000);

  it('a setgid directory above the rpmdb: the note is linked into the partial tree instead, same commit', async () => {
    const second = await composedTwice([...baseNames, 'p-sgid-sysimage'], '', 'partial tree');
    // The rpmdb writer's directory took the setgid bit from its parent, in every way of composing.
    expect((ws.store.stat(second.commit, 'usr/lib/sysimage/rpm')?.mode ?? 0) & 0o2000).toBe(0o2000);
  }, 120_000);

  it('other inputs (another library) run ldconfig: the note of the first is not theirs', async () => {
    rmSync(notes(), { recursive: true, force: true });
    const lib = await composePartial(['p-lib'], base.commit as Checksum);
    const post = await composePartial(['p-lib-post'], base.commit as Checksum);
    expect(post.reused).toBe(false);
    expect(post.commit).not.toBe(lib.commit);
    expect(cacheOf(post.commit).includes(Buffer.from(`${LIBDIR}/p-post/libbz2.so.1.0`))).toBe(true);
    expect(noteFiles()).toHaveLength(2);
    // The same paths, other content: zlib's soname in the cache, not what the first note says.
    const z = await composePartial(['p-lib-z'], base.commit as Checksum);
    expect(z.reused).toBe(false);
    expect(cacheOf(z.commit).includes(Buffer.from('libz.so.1'))).toBe(true);
    expect(cacheOf(z.commit).includes(Buffer.from('libbz2.so.1.0'))).toBe(false);
  }, 120_000);

  it('a damaged note, or one naming an object the store lost, is dropped and ldconfig runs', async () => {
    rmSync(notes(), { recursive: true, force: true });
    const first = await composePartial(['p-lib'], base.commit as Checksum);
    const [name] = noteFiles();
    const note = join(notes(), name as string);
    const text = readFileSync(note, 'utf8');
    for (const bad of ['not a note\n', text.replace(/ usr\//, ' ../usr/'), `${'0'.repeat(64)} usr/etc/ld.so.cache\n`]) {
      writeFileSync(note, bad);
      const again = await composePartial(['p-lib'], base.commit as Checksum);
      expect(again.reused).toBe(false);
      expect(again.ran).toBeGreaterThan(0);
      expect(again.commit).toBe(first.commit);
      // Noted anew by the run.
      expect(readFileSync(note, 'utf8')).toBe(text);
    }
  }, 120_000);
});
