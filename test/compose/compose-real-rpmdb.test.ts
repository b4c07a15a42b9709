/**
 * Composing on a base whose rpmdb is the real CBL-Mariner 2.0 sample in ../shared/data/rpmdb
 * (129 packages written by real rpm): the installed set is read from it, base packages stay
 * locked against real dependency data, and the new tree's rpmdb lists the same 129 NEVRAs
 * rpm lists for the sample, plus the layered package.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTree } from '../../src/compose/index.js';
import { LayerError } from '../../src/errors.js';
import { requirePath, SHARED_DATA } from '../support/createrepo.js';
import { fixtureRepo, ostreeFsck, repoSetOf, request, requireTools, rpmq, run, workspace, type Workspace } from './helpers.js';

const SAMPLE = join(SHARED_DATA, 'rpmdb/cbl-mariner-2.0');
const QF = '%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n';

let ws: Workspace;
let baseCommit: string;
let sampleNevras: string[];
let repo: string;

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['rpmbuild', 'rpm'], ['ostree', 'ostree'], ['createrepo_c', 'createrepo-c']]);
  requirePath(join(SAMPLE, 'rpmdb.sqlite'));
  ws = await workspace();
  const tree = join(ws.dir, 'base-tree');
  await mkdir(join(tree, 'usr/lib/sysimage/rpm'), { recursive: true });
  await copyFile(join(SAMPLE, 'rpmdb.sqlite'), join(tree, 'usr/lib/sysimage/rpm/rpmdb.sqlite'));
  baseCommit = await ws.store.commitTree(tree, { parent: null, subject: 'mariner rpmdb sample' });
  const { stdout } = await run('rpm', ['--dbpath', SAMPLE, '-qa', '--qf', QF], { maxBuffer: 16 << 20 });
  sampleNevras = stdout.trim().split('\n').filter((n) => !n.startsWith('gpg-pubkey')).sort();
  repo = await fixtureRepo(join(ws.dir, 'addons'), [
    { name: 'mariner-addon', requires: ['bash', 'glibc >= 2.34', '/bin/sh'], files: [{ path: '/usr/share/mariner-addon/README', content: 'addon\n' }] },
    // A newer bash that would satisfy every base package (same provides as the sample's bash).
    { name: 'bash', version: '6.0', release: '1.cm2', arch: 'x86_64', provides: ['/bin/bash', '/bin/sh', '/usr/bin/bash', '/usr/bin/sh'], files: [{ path: '/usr/share/bash-6/README', content: 'new\n' }] },
    { name: 'wants-new-bash', requires: ['bash >= 6.0'], files: [{ path: '/usr/share/wants-new-bash/x', content: 'x\n' }] },
  ]);
}, 240_000);

afterAll(async () => ws?.cleanup());

describe('compose on the real Mariner rpmdb', () => {
  it('layers a package whose dependencies the sample provides; rpm -qa is the 129 + 1', async () => {
    const r = await composeTree(request(ws, repoSetOf({ addons: repo }, join(ws.dir, 'md')), { base: { commit: baseCommit }, install: ['mariner-addon', 'bash'] }));
    expect(r.layered).toEqual(['mariner-addon-1.0-1.noarch']);
    expect(r.alreadyProvided).toEqual([{ spec: 'bash', by: 'bash-5.1.8-1.cm2.x86_64', newer: 'bash-6.0-1.cm2.x86_64' }]);
    const view = join(ws.dir, 'view');
    await ws.store.checkout(r.commit!, view, { hardlink: false });
    const qa = (await rpmq(view, ['-qa', '--qf', QF])).trim().split('\n').filter((n) => !n.startsWith('gpg-pubkey')).sort();
    expect(qa).toEqual([...sampleNevras, 'mariner-addon-1.0-1.noarch'].sort());
    expect((await rpmq(view, ['-q', '--whatprovides', '/bin/sh', '--qf', '%{NAME}\\n'])).trim()).toBe('bash');
    await rpmq(view, ['--rebuilddb']);
    expect((await rpmq(view, ['-qa'])).trim().split('\n')).toHaveLength(qa.length + (await rpmq(view, ['-qa', 'gpg-pubkey*'])).trim().split('\n').filter(Boolean).length);
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
  });

  it("keeps a base's rpm-ostree location (usr/share/rpm) and links usr/lib/sysimage/rpm to it", async () => {
    const tree = join(ws.dir, 'ostree-layout');
    await mkdir(join(tree, 'usr/share/rpm'), { recursive: true });
    await copyFile(join(SAMPLE, 'rpmdb.sqlite'), join(tree, 'usr/share/rpm/rpmdb.sqlite'));
    const old = await ws.store.commitTree(tree, { parent: null, subject: 'rpm-ostree layout' });
    const r = await composeTree(request(ws, repoSetOf({ addons: repo }, join(ws.dir, 'md')), { base: { commit: old }, install: ['mariner-addon'] }));
    expect(ws.store.stat(r.commit!, 'usr/share/rpm')?.type).toBe('dir');
    expect(ws.store.stat(r.commit!, 'usr/share/rpm/rpmdb.sqlite')?.type).toBe('file');
    expect(ws.store.stat(r.commit!, 'usr/lib/sysimage/rpm')).toMatchObject({ type: 'symlink', target: '../../share/rpm' });
    const view = join(ws.dir, 'ostree-view');
    await ws.store.checkout(r.commit!, view, { hardlink: false });
    for (const dbpath of ['/usr/share/rpm', '/usr/lib/sysimage/rpm']) {
      const { stdout } = await run('rpm', ['--root', view, '--dbpath', dbpath, '-q', 'mariner-addon', 'bash']);
      expect(stdout.trim().split('\n')).toEqual(['mariner-addon-1.0-1.noarch', 'bash-5.1.8-1.cm2.x86_64']);
    }
  });

  it('a request that needs a newer bash fails naming bash-5.1.8-1.cm2.x86_64 and the requested package', async () => {
    const err = await composeTree(request(ws, repoSetOf({ addons: repo }, join(ws.dir, 'md')), { base: { commit: baseCommit }, install: ['wants-new-bash'], options: { dryRun: true } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_BASE_LOCKED');
    expect((err as LayerError).message).toMatch(/installing wants-new-bash would upgrade base package bash-5\.1\.8-1\.cm2\.x86_64 with bash-6\.0-1\.cm2\.x86_64/);
  });
});
