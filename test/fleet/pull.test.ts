/**
 * layer's HTTP pull of an archive repo (engine/sources/ostree-remote.ts), served by Debian's
 * nginx on 127.0.0.1: from a repo made by real `ostree init --mode=archive` + `ostree commit` +
 * `ostree summary -u`, and from layer's own export (no summary: refs/heads). Checked by Debian's
 * ostree: same commit, `ostree fsck` clean on the pulled store, the same tree checked out. An
 * interrupted pull resumes fetching only what is missing; a corrupt object is refused.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullFromRemote } from '../../src/engine/sources/ostree-remote.js';
import { silentReport } from '../../src/report.js';
import { ArchiveRepo, Store, exportCommit, type Checksum } from '../../src/store/index.js';
import { makeSampleTree, snapshot } from '../store/helpers.js';
import { ostree, ostreeFsck, requireTool } from '../support/tools.js';
import { fleetScope } from './nginx.js';

const { dir, serve } = fleetScope('fleet');

/** A real ostree archive repo of the sample tree (plus many small files), ref `os/base`, with a summary. */
function realArchive(d: string): { repo: string; tree: string; commit: Checksum } {
  requireTool('ostree');
  const tree = join(d, 'tree');
  makeSampleTree(tree, { caps: true });
  for (let i = 0; i < 200; i++) writeFileSync(join(tree, 'sub/deeper', `f${i}`), `file ${i}\n`.repeat(i + 1));
  const repo = join(d, 'served');
  ostree(repo, 'init', '--mode=archive');
  ostree(repo, 'commit', '-b', 'os/base', '--subject=real', '--add-metadata-string=version=7', `--tree=dir=${tree}`);
  ostree(repo, 'summary', '-u');
  return { repo, tree, commit: ostree(repo, 'rev-parse', 'os/base').trim() as Checksum };
}

describe('pull from an archive repo over HTTP', () => {
  it('pulls a real ostree archive repo: same commit, fsck clean, same tree', async () => {
    const d = dir('pull-real');
    const { repo, tree, commit } = realArchive(d);
    const web = await serve(repo, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare', fsync: false });
    const t = performance.now();
    const r = await pullFromRemote(store, web.url, 'os/base', { report: silentReport });
    const ms = performance.now() - t;
    expect(r.commit).toBe(commit);
    store.setRef('os/base', r.commit);
    expect(ostreeFsck(store.path)).toContain('1 commit objects');
    ostree(store.path, 'checkout', commit, join(d, 'co'));
    expect(snapshot(join(d, 'co'))).toEqual(snapshot(tree));
    // Only the delta index may be missing (no delta here: the pull falls back to objects, as ostree's does).
    expect(web.requests().filter((q) => q.status !== 200 && !q.path.startsWith('/repo/delta-indexes/'))).toEqual([]);
    console.log(`pull of a real archive: ${r.fetched} objects, ${r.bytes} bytes in ${Math.round(ms)} ms`);
    // Again: nothing to fetch.
    const before = web.requests().length;
    const again = await pullFromRemote(store, web.url, 'os/base', { report: silentReport });
    expect(again).toMatchObject({ commit, fetched: 0 });
    expect(web.requests().slice(before).filter((q) => q.path.includes('/objects/'))).toEqual([]);
  }, 120_000);

  it('pulls layer\'s own archive export (no summary: refs/heads) and ostree checks the result', async () => {
    const d = dir('pull-own');
    const tree = join(d, 'tree');
    makeSampleTree(tree);
    const src = Store.init(join(d, 'src'), { mode: 'bare', fsync: false });
    const commit = await src.commitTree(tree, { subject: 'own' });
    const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
    exportCommit(src, commit, archive, { ref: 'fleet/base' });
    const web = await serve(archive.path, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare-user', fsync: false });
    const r = await pullFromRemote(store, web.url, 'fleet/base', { report: silentReport });
    expect(r.commit).toBe(commit);
    expect(web.requests().some((q) => q.path === '/repo/summary' && q.status === 404)).toBe(true);
    store.setRef('fleet/base', commit);
    expect(ostreeFsck(store.path)).toContain('1 commit objects');
    // Modes, owners, sizes, xattrs and checksums of every entry, as ostree lists them.
    expect(ostree(store.path, 'ls', '-R', '-C', '-X', commit)).toBe(ostree(src.path, 'ls', '-R', '-C', '-X', commit));
    ostree(store.path, 'checkout', '-U', commit, join(d, 'co'));
    // -U checks out as the user (owners and setuid bits dropped): compare the content.
    const content = (p: string) => snapshot(p, { noOwner: true, noXattrs: true }).map((e) => [e.path, e.data]);
    expect(content(join(d, 'co'))).toEqual(content(tree));
  }, 120_000);

  it('objects past the big-object bound: a bounded GET, then again unbounded and alone; the tree intact', async () => {
    const d = dir('pull-big');
    const tree = join(d, 'tree');
    makeSampleTree(tree);
    // Incompressible files (their .filez is past the bound: the first GET stops at the
    // Content-Length, the second is unbounded) and a compressible one (its .filez is small, its
    // declared content past the bound: fetched once, decoded alone).
    mkdirSync(join(tree, 'big'), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(tree, 'big', `noise${i}`), randomBytes(200_000 + i));
    writeFileSync(join(tree, 'big', 'zeros'), Buffer.alloc(1_000_000));
    const src = Store.init(join(d, 'src'), { mode: 'bare', fsync: false });
    const commit = await src.commitTree(tree, { subject: 'big' });
    const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
    exportCommit(src, commit, archive, { ref: 'fleet/base' });
    const web = await serve(archive.path, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare-user', fsync: false });
    const r = await pullFromRemote(store, web.url, 'fleet/base', { report: silentReport, bigObject: 64 << 10 });
    expect(r.commit).toBe(commit);
    store.setRef('fleet/base', commit);
    expect(ostreeFsck(store.path)).toContain('1 commit objects');
    expect(ostree(store.path, 'ls', '-R', '-C', '-X', commit)).toBe(ostree(src.path, 'ls', '-R', '-C', '-X', commit));
    // Each object GET once, except the four whose .filez is past the bound: twice.
    const gets = new Map<string, number>();
    for (const q of web.requests()) if (q.path.endsWith('.filez')) gets.set(q.path, (gets.get(q.path) ?? 0) + 1);
    const noise = [0, 1, 2, 3].map((i) => ostree(src.path, 'ls', '-C', commit, `/big/noise${i}`).trim().split(/\s+/)[4] ?? '');
    const twice = [...gets].filter(([, n]) => n === 2).map(([p]) => p.replace(/^.*objects\/(..)\/(.*)\.filez$/, '$1$2')).sort();
    expect(twice).toEqual([...noise].sort());
    expect([...gets.values()].every((n) => n <= 2)).toBe(true);
  }, 120_000);

  it('resumes an interrupted pull fetching only the missing objects; refuses a corrupt object', async () => {
    const d = dir('pull-resume');
    const { repo, commit } = realArchive(d);
    const web = await serve(repo, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare', fsync: false });
    // Hide one content object: the first pull fails after fetching the others.
    const victim = ostree(repo, 'ls', '-C', commit, '/sub/deeper/f150').trim().split(/\s+/)[4] ?? '';
    expect(victim).toMatch(/^[0-9a-f]{64}$/);
    const vpath = join(repo, 'objects', victim.slice(0, 2), `${victim.slice(2)}.filez`);
    renameSync(vpath, `${vpath}.hidden`);
    await expect(pullFromRemote(store, web.url, 'os/base', { report: silentReport })).rejects.toMatchObject({ code: 'LAYER_REPO_UNREACHABLE' });
    expect(store.hasObject(commit, 'commit')).toBe(false);
    const first = web.requests();
    const firstOk = new Set(first.filter((q) => q.status === 200 && q.path.endsWith('.filez')).map((q) => q.path));
    expect(firstOk.size).toBeGreaterThan(150);

    renameSync(`${vpath}.hidden`, vpath);
    const r = await pullFromRemote(store, web.url, 'os/base', { report: silentReport });
    expect(r.commit).toBe(commit);
    const second = web.requests().slice(first.length).filter((q) => q.path.endsWith('.filez'));
    // Only what the first pull did not get: never an object fetched before.
    expect(second.filter((q) => firstOk.has(q.path))).toEqual([]);
    expect(second.length).toBeLessThan(10);
    store.setRef('os/base', commit);
    expect(ostreeFsck(store.path)).toContain('1 commit objects');
    console.log(`resume: first pull got ${firstOk.size} .filez before failing, the second fetched ${second.length}`);

    // A corrupted .filez on the server: refused by checksum, nothing stored under its name.
    const bad = join(d, 'bad');
    cpSync(repo, bad, { recursive: true });
    const bpath = join(bad, 'objects', victim.slice(0, 2), `${victim.slice(2)}.filez`);
    const other = ostree(repo, 'ls', '-C', commit, '/sub/deeper/f151').trim().split(/\s+/)[4] ?? '';
    copyFileSync(join(bad, 'objects', other.slice(0, 2), `${other.slice(2)}.filez`), bpath);
    const badWeb = await serve(bad, join(d, 'nginx-bad'));
    const store2 = Store.init(join(d, 'store2'), { mode: 'bare', fsync: false });
    await expect(pullFromRemote(store2, badWeb.url, 'os/base', { report: silentReport })).rejects.toMatchObject({ code: 'LAYER_REPO_CHECKSUM' });
    expect(store2.hasObject(victim as Checksum, 'file')).toBe(false);
    expect(store2.hasObject(commit, 'commit')).toBe(false);
  }, 120_000);
});
