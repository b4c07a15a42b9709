/**
 * Composing from objects (src/compose/apply/direct.ts) against the checkout path: for the same
 * plan both must give the same commit checksum (SOURCE_DATE_EPOCH fixes the timestamp), the
 * same conflicts, and a tree that real `ostree fsck` and real `rpm -qa --root` accept. Fixture
 * packages cover what the union must keep: new directories with their own modes, a package
 * directory the base already has (the base's metadata wins), /etc files (→ usr/etc), symlinks,
 * hardlinks, an identical file in two packages, differing ones (conflicts, --replace-files),
 * a file against a base directory, and a base without rpm-ostree's usr/share/rpm link.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComposeResult } from '../../src/compose/index.js';
import type { ComposeOptions } from '../../src/compose/types.js';
import type { Checksum } from '../../src/store/index.js';
import type { FixtureSpec } from '../support/rpmbuild.js';
import { applyBothWays, demoBaseWorkspace, fixedSourceDateEpoch, ostreeFsck, requireTools, rpmNames, type Workspace } from './helpers.js';

const fixtures: FixtureSpec[] = [
  {
    name: 'd-tree',
    files: [
      { path: '/usr/lib/d-tree', type: 'dir', mode: 0o750 },
      { path: '/usr/lib/d-tree/private', type: 'dir', mode: 0o700 },
      { path: '/usr/lib/d-tree/private/key', content: 'secret\n', mode: 0o600 },
      { path: '/usr/lib/d-tree/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { path: '/usr/lib/d-tree/run-link', type: 'symlink', target: 'run.sh' },
      { path: '/usr/lib/d-tree/copy.sh', hardlinkOf: '/usr/lib/d-tree/run.sh' },
      { path: '/etc/d-tree.conf', content: 'option = 1\n', config: 'noreplace' },
      { path: '/usr/share', type: 'dir', mode: 0o700 },
      { path: '/usr/share/doc/d-tree/README', content: 'read me\n' },
    ],
  },
  { name: 'd-dep', files: [{ path: '/usr/share/d-shared/common.txt', content: 'same bytes\n' }, { path: '/usr/bin/d-dep', content: 'bin\n', mode: 0o755 }] },
  { name: 'd-twin', files: [{ path: '/usr/share/d-shared/common.txt', content: 'same bytes\n' }, { path: '/usr/share/d-twin/x', content: 'x\n' }] },
  { name: 'd-clash', files: [{ path: '/usr/share/d-shared/common.txt', content: 'other bytes\n' }] },
  { name: 'd-on-base-dir', files: [{ path: '/usr/share/doc', content: 'a file where the base has a directory\n' }] },
  { name: 'd-post', scripts: { post: 'echo post ran\n' }, files: [{ path: '/usr/share/d-post/x', content: 'x\n' }] },
];

let ws: Workspace;
let repos: Record<string, string>;
let base: ComposeResult;

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['rpmbuild', 'rpm'], ['ostree', 'ostree'], ['createrepo_c', 'createrepo-c'], ['bwrap', 'bubblewrap']]);
  ({ ws, repos, base } = await demoBaseWorkspace('layer-direct-', fixtures));
}, 240_000);

afterAll(async () => {
  await ws?.cleanup();
});

fixedSourceDateEpoch();

const both = (install: string[], baseCommit: Checksum, options: ComposeOptions = {}) =>
  applyBothWays(ws, repos, install, baseCommit, options);
const rpmQa = (commit: Checksum) => rpmNames(ws, commit);

const baseCommit = (): Checksum => base.commit as Checksum;

describe('composing from objects', () => {
  it('gives the checkout path\'s commit for new trees, /etc, symlinks, hardlinks and a shared identical file', async () => {
    const [slow, fast] = await both(['d-tree', 'd-dep', 'd-twin'], baseCommit());
    expect(slow.error).toBeUndefined();
    expect(fast.direct).toBe(true);
    expect(slow.direct).toBeUndefined();
    expect(fast.commit).toBe(slow.commit);
    const commit = fast.commit as Checksum;
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
    const names = await rpmQa(commit);
    expect(names).toEqual(expect.arrayContaining(['d-tree', 'd-dep', 'd-twin', 'bash']));
    expect(ws.store.readFile(commit, 'usr/etc/d-tree.conf').toString()).toBe('option = 1\n');
    expect(ws.store.stat(commit, 'usr/lib/d-tree/private')?.mode).toBe(0o40700);
    expect(ws.store.stat(commit, 'usr/share')?.mode).toBe(ws.store.stat(baseCommit(), 'usr/share')?.mode);
    expect(ws.store.stat(commit, 'usr/lib/d-tree/run-link')?.target).toBe('run.sh');
  }, 120_000);

  it('reports the same conflict as the checkout, and --replace-files gives the same commit', async () => {
    const [slow, fast] = await both(['d-dep', 'd-clash'], baseCommit());
    expect(slow.error).toMatch(/^LAYER_FILE_CONFLICT: file conflict at \/usr\/share\/d-shared\/common.txt/);
    expect(fast.error).toBe(slow.error);
    const [slowR, fastR] = await both(['d-dep', 'd-clash'], baseCommit(), { replaceFiles: true });
    expect(fastR.direct).toBe(true);
    expect(fastR.commit).toBe(slowR.commit);
    expect(ws.store.readFile(fastR.commit as Checksum, 'usr/share/d-shared/common.txt').toString()).toBe('other bytes\n');
    const [slowD, fastD] = await both(['d-on-base-dir'], baseCommit());
    expect(slowD.error).toMatch(/^LAYER_FILE_CONFLICT: file conflict at \/usr\/share\/doc/);
    expect(fastD.error).toBe(slowD.error);
  }, 120_000);

  it('links usr/share/rpm as the checkout path does when the base lacks it', async () => {
    const dir = join(ws.dir, 'nolink');
    await ws.store.checkout(baseCommit(), dir);
    await rm(join(dir, 'usr/share/rpm'));
    const bare = await ws.store.commitTree(dir, { parent: null, subject: 'base without usr/share/rpm' });
    await rm(dir, { recursive: true, force: true });
    expect(ws.store.stat(bare, 'usr/share/rpm')).toBeUndefined();
    const [slow, fast] = await both(['d-dep'], bare);
    expect(fast.direct).toBe(true);
    expect(fast.commit).toBe(slow.commit);
    expect(ws.store.stat(fast.commit as Checksum, 'usr/share/rpm')?.target).toBe('../lib/sysimage/rpm');
    expect(await rpmQa(fast.commit as Checksum)).toContain('d-dep');
  }, 120_000);

  it('takes the checkout path when a scriptlet runs', async () => {
    const [slow, fast] = await both(['d-post'], baseCommit());
    expect(fast.direct).toBeUndefined();
    expect(fast.commit).toBe(slow.commit);
    expect(await rpmQa(fast.commit as Checksum)).toContain('d-post');
  }, 120_000);
});
