/**
 * Static deltas (store/delta, engine/sources/ostree-delta.ts) against Debian's ostree 2022.7,
 * served by nginx on 127.0.0.1:
 * (a) `ostree pull --require-static-deltas` takes layer's delta: same commit, fsck clean, the
 *     access log shows the index, superblock and parts fetched, ostree reports the delta parts;
 *     layer's own pull of it fetches no object at all;
 * (b) layer applies deltas made by `ostree static-delta generate` (separate parts, --inline,
 *     and ostree's default with bsdiff patches) from a repo made by `ostree commit`;
 * (c) a corrupted part is LAYER_REPO_CHECKSUM and the new commit is not in the store.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullFromRemote } from '../../src/engine/sources/ostree-remote.js';
import { silentReport } from '../../src/report.js';
import { deltaDir, generateDelta, indexPath } from '../../src/store/delta/index.js';
import { ArchiveRepo, Store, exportCommit, updateSummary, type Checksum } from '../../src/store/index.js';
import { makeSampleTree } from '../store/helpers.js';
import { ostree, ostreeFsck, requireTool } from '../support/tools.js';
import { fleetScope } from './nginx.js';

const { dir, serve } = fleetScope('delta');

/** Version 1 and 2 of a tree: 2 changes 20 files, adds 30, removes 5, adds a symlink. */
function trees(d: string): [string, string] {
  const v1 = join(d, 'v1');
  makeSampleTree(v1, { caps: true });
  for (let i = 0; i < 100; i++) writeFileSync(join(v1, 'sub/deeper', `f${i}`), `file ${i}\n`.repeat(50 + i));
  const v2 = join(d, 'v2');
  cpSync(v1, v2, { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(v2, 'sub/deeper', `f${i}`), `file ${i} v2\n`.repeat(50 + i));
  for (let i = 0; i < 30; i++) writeFileSync(join(v2, 'sub', `new${i}`), `new ${i}\n`.repeat(i + 1));
  for (let i = 95; i < 100; i++) rmSync(join(v2, 'sub/deeper', `f${i}`));
  writeFileSync(join(v2, 'big2.bin'), Buffer.alloc(200_000, 'q'));
  return [v1, v2];
}

/** layer's archive with v1 then v2 on `os/base` and the delta v1 → v2. */
async function layerArchive(d: string): Promise<{ archive: ArchiveRepo; c1: Checksum; c2: Checksum }> {
  const [v1, v2] = trees(d);
  const src = Store.init(join(d, 'src'), { mode: 'bare', fsync: false });
  const c1 = await src.commitTree(v1, { subject: 'v1' });
  const c2 = await src.commitTree(v2, { subject: 'v2', parent: c1 });
  const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
  exportCommit(src, c1, archive, { ref: 'os/base' });
  exportCommit(src, c2, archive);
  return { archive, c1, c2 };
}

/** Requests for objects other than detached metadata (ostree asks for .commitmeta either way). */
const objectRequests = (rs: { path: string }[]) => rs.filter((r) => r.path.includes('/objects/') && !r.path.endsWith('.commitmeta'));

describe('static deltas', () => {
  it('(a) Debian ostree pull --require-static-deltas applies layer\'s delta', async () => {
    requireTool('ostree');
    const d = dir('ostree-pull');
    const { archive, c1, c2 } = await layerArchive(d);
    updateSummary(archive);
    const web = await serve(archive.path, join(d, 'nginx'));
    const client = join(d, 'client');
    ostree(client, 'init', '--mode=bare-user');
    ostree(client, 'remote', 'add', '--no-gpg-verify', 'r', web.url);
    ostree(client, 'pull', 'r', 'os/base');
    expect(ostree(client, 'rev-parse', 'r:os/base').trim()).toBe(c1);

    const r = generateDelta(archive, c1, c2);
    expect(r).toMatchObject({ from: c1, to: c2, fallbacks: 0 });
    expect(r.parts).toBeGreaterThan(0);
    archive.setRef('os/base', c2);
    updateSummary(archive);
    // ostree reads layer's delta: `show` lists its parts and objects.
    expect(ostree(archive.path, 'static-delta', 'show', `${c1}-${c2}`)).toMatch(/Number of parts: 1/);
    const before = web.requests().length;
    const out = ostree(client, 'pull', '--require-static-deltas', 'r', 'os/base');
    // ostree's own summary line: the delta was used.
    expect(out).toMatch(new RegExp(`${r.parts} delta parts?, \\d+ loose fetched`));
    expect(ostree(client, 'rev-parse', 'r:os/base').trim()).toBe(c2);
    expect(ostreeFsck(client)).toContain('2 commit objects');
    const served = web.requests().slice(before);
    const dd = deltaDir(c1, c2);
    expect(served.filter((q) => q.status !== 200 && !/\.(commitmeta|sig)$/.test(q.path))).toEqual([]);
    expect(served.map((q) => q.path)).toEqual(expect.arrayContaining([`/repo/${indexPath(c2)}`, `/repo/${dd}/superblock`, `/repo/${dd}/0`]));
    // Debian's 2022.7 also scans the superblock's commit (written "partial") while the part is in
    // flight and fetches the loose objects it does not have yet (ostreedev/ostree#2053); it does
    // the same with deltas made by `ostree static-delta generate` (README "Static deltas").
    expect(ostree(client, 'ls', '-R', '-C', '-X', c2)).toBe(ostree(archive.path, 'ls', '-R', '-C', '-X', c2));
    const deltaBytes = served.reduce((n, q) => n + q.bytes, 0);
    console.log(`ostree pull through layer's delta: ${out.trim().split('\n').pop()}; ${served.length} requests, ${deltaBytes} bytes (delta ${r.bytes} bytes, ${r.objects} objects, ${objectRequests(served).length} loose objects also fetched by ostree)`);

    // layer's own pull of the same delta, from v1: same commit, ostree fsck clean.
    const mine = Store.init(join(d, 'mine'), { mode: 'bare-user', fsync: false });
    await pullFromRemote(mine, web.url, c1, { report: silentReport, deltas: false });
    const b2 = web.requests().length;
    const p = await pullFromRemote(mine, web.url, 'os/base', { report: silentReport });
    expect(p.commit).toBe(c2);
    expect(p.delta).toMatchObject({ from: c1, parts: r.parts });
    expect(objectRequests(web.requests().slice(b2))).toEqual([]);
    mine.setRef('os/base', c2);
    expect(ostreeFsck(mine.path)).toContain('2 commit objects');
    expect(ostree(mine.path, 'ls', '-R', '-C', '-X', c2)).toBe(ostree(archive.path, 'ls', '-R', '-C', '-X', c2));
  }, 120_000);

  it('(b) layer applies deltas made by ostree static-delta generate (parts, --inline, bsdiff)', async () => {
    requireTool('ostree');
    const d = dir('real-delta');
    const [v1, v2] = trees(d);
    const repo = join(d, 'served');
    ostree(repo, 'init', '--mode=archive');
    ostree(repo, 'commit', '-b', 'os/base', '--subject=v1', `--tree=dir=${v1}`);
    const c1 = ostree(repo, 'rev-parse', 'os/base').trim() as Checksum;
    ostree(repo, 'commit', '-b', 'os/base', '--subject=v2', `--tree=dir=${v2}`);
    const c2 = ostree(repo, 'rev-parse', 'os/base').trim() as Checksum;
    ostree(repo, 'static-delta', 'generate', '--disable-bsdiff', `--from=${c1}`, `--to=${c2}`);
    ostree(repo, 'summary', '-u');
    const web = await serve(repo, join(d, 'nginx'));
    const base = Store.init(join(d, 'base'), { mode: 'bare-user', fsync: false });
    await pullFromRemote(base, web.url, c1, { report: silentReport });

    const pullWithDelta = async (tag: string) => {
      const store = join(d, tag);
      // cp -a: a bare-user store keeps ownership and modes in user.ostreemeta xattrs.
      execFileSync('cp', ['-a', base.path, store]);
      const s = Store.open(store);
      const before = web.requests().length;
      const p = await pullFromRemote(s, web.url, 'os/base', { report: silentReport });
      expect(p.commit).toBe(c2);
      s.setRef('os/base', c2);
      expect(ostreeFsck(s.path)).toContain('2 commit objects');
      expect(ostree(s.path, 'ls', '-R', '-C', '-X', c2)).toBe(ostree(repo, 'ls', '-R', '-C', '-X', c2));
      return { p, served: web.requests().slice(before) };
    };
    const parts = await pullWithDelta('parts');
    expect(parts.p.delta).toMatchObject({ from: c1 });
    expect(parts.served.some((q) => q.path.endsWith(`${deltaDir(c1, c2)}/0`))).toBe(true);
    expect(objectRequests(parts.served)).toEqual([]);

    ostree(repo, 'static-delta', 'generate', '--disable-bsdiff', '--inline', `--from=${c1}`, `--to=${c2}`);
    ostree(repo, 'summary', '-u');
    const inline = await pullWithDelta('inline');
    expect(inline.p.delta).toMatchObject({ from: c1 });
    expect(inline.served.filter((q) => /\/deltas\/.*\/\d+$/.test(q.path))).toEqual([]);
    expect(objectRequests(inline.served)).toEqual([]);

    // ostree's default: bsdiff patches ('B') for the modified files, read from the old objects.
    ostree(repo, 'static-delta', 'generate', `--from=${c1}`, `--to=${c2}`);
    ostree(repo, 'summary', '-u');
    expect(ostree(repo, 'static-delta', 'show', `${c1}-${c2}`)).toMatch(/bspatch=[1-9]/);
    const bs = await pullWithDelta('bsdiff');
    expect(bs.p.delta).toMatchObject({ from: c1 });
    expect(objectRequests(bs.served)).toEqual([]);
    console.log(`real ostree deltas: parts ${parts.p.delta?.bytes} bytes; inline ${inline.p.delta?.bytes} bytes; with bsdiff ${bs.p.delta?.bytes} bytes`);
  }, 120_000);

  it('(c) a corrupted part is LAYER_REPO_CHECKSUM; the new commit is not stored; objects still pull', async () => {
    const d = dir('corrupt');
    const { archive, c1, c2 } = await layerArchive(d);
    generateDelta(archive, c1, c2, { compression: 'none' });
    archive.setRef('os/base', c2);
    updateSummary(archive);
    const part = join(archive.path, deltaDir(c1, c2), '0');
    const bytes = readFileSync(part);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(part, bytes);
    const web = await serve(archive.path, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare-user', fsync: false });
    await pullFromRemote(store, web.url, c1, { report: silentReport, deltas: false });
    const err = await pullFromRemote(store, web.url, 'os/base', { report: silentReport }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAYER_REPO_CHECKSUM' });
    expect(String((err as Error).message)).toMatch(/delta part 0 .* does not match its checksum/);
    expect((err as Error).message).not.toContain('\n');
    expect(store.hasObject(c2, 'commit')).toBe(false);
    // Without deltas the same server still serves the objects.
    const p = await pullFromRemote(store, web.url, 'os/base', { report: silentReport, deltas: false });
    expect(p.commit).toBe(c2);
    store.setRef('os/base', c2);
    expect(ostreeFsck(store.path)).toContain('2 commit objects');
  }, 120_000);
});
