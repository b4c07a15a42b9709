/**
 * Fleet scale on loopback: one archive repo with v1, v2 and the static delta v1 → v2, served by
 * Debian's nginx on 127.0.0.1; 50 hosts (each a bare-user repo holding v1, as a sysroot's
 * ostree/repo does after `layer init --from-remote`) upgrade concurrently in this process.
 * Every host ends with v2 and its tree complete; `ostree fsck` checks a sample of 10 (50 fscks
 * take longer than the upgrades); nginx's access log shows the bytes served are about 50 ×
 * the delta, far from 50 × the tree. Time per host is printed.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fetcher } from '../../src/net/index.js';
import { pullFromRemote } from '../../src/engine/sources/ostree-remote.js';
import { silentReport } from '../../src/report.js';
import { generateDelta } from '../../src/store/delta/index.js';
import { ArchiveRepo, Store, exportCommit, updateSummary } from '../../src/store/index.js';
import { makeFleetTree, updateFleetTree } from '../support/fleet-trees.js';
import { ostree, ostreeFsck, tempDir } from '../support/tools.js';
import { startNginx, type Nginx } from './nginx.js';

const HOSTS = 50;
const FILES = 1000;
let web: Nginx | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await web?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a fleet of 50 hosts upgrades through one delta', () => {
  it('every host ends on the new commit; nginx serves ≈ 50 × the delta', async () => {
    const d = tempDir('fleet', 'scale');
    dirs.push(d);
    const tSetup = performance.now();
    const tree = join(d, 'tree');
    makeFleetTree(tree, FILES);
    const src = Store.init(join(d, 'src'), { mode: 'bare', fsync: false });
    const c1 = await src.commitTree(tree, { subject: 'v1' });
    updateFleetTree(tree, FILES, { changed: 20, added: 10 });
    const c2 = await src.commitTree(tree, { subject: 'v2', parent: c1 });
    const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
    const full = exportCommit(src, c1, archive, { ref: 'fleet/base' });
    exportCommit(src, c2, archive, { ref: 'fleet/base' });
    const delta = generateDelta(archive, c1, c2);
    updateSummary(archive);
    web = await startNginx(archive.path, join(d, 'nginx'));

    // One host pulls v1; the others are hard-linked copies of it (objects are immutable).
    const seed = Store.init(join(d, 'hosts/h0'), { mode: 'bare-user', fsync: false });
    await pullFromRemote(seed, web.url, c1, { report: silentReport, deltas: false });
    seed.setRef('fleet/base', c1);
    for (let h = 1; h < HOSTS; h++) execFileSync('cp', ['-al', seed.path, join(d, `hosts/h${h}`)]);
    const before = web.requests().length;

    console.log(`setup ${Math.round(performance.now() - tSetup)} ms`);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: HOSTS }, async (_, h) => {
      const store = Store.open(join(d, `hosts/h${h}`), { fsync: false });
      const start = performance.now();
      const r = await pullFromRemote(store, web?.url ?? '', 'fleet/base', { report: silentReport, fetcher: new Fetcher({ concurrency: 4 }) });
      store.setRef('fleet/base', r.commit);
      return { r, ms: performance.now() - start, path: store.path };
    }));
    const wall = performance.now() - t0;

    const tCheck = performance.now();
    for (const { r } of results) expect(r).toMatchObject({ commit: c2, delta: { from: c1, parts: delta.parts } });
    for (const { path } of results.filter((_, i) => i % 5 === 0)) {
      expect(ostreeFsck(path)).toContain('2 commit objects');
      expect(ostree(path, 'rev-parse', 'fleet/base').trim()).toBe(c2);
    }
    console.log(`fsck of 10 hosts ${Math.round(performance.now() - tCheck)} ms`);
    const served = web.requests().slice(before);
    expect(served.filter((q) => q.status !== 200)).toEqual([]);
    expect(served.filter((q) => q.path.includes('/objects/'))).toEqual([]);
    const bytes = served.reduce((n, q) => n + q.bytes, 0);
    // Per host: config and summary, then the delta index, superblock and parts; nothing else.
    const refBytes = served.filter((q) => /\/(config|summary)$/.test(q.path)).reduce((n, q) => n + q.bytes, 0);
    const perHost = results[0]?.r.delta?.bytes ?? 0;
    expect(bytes - refBytes).toBe(HOSTS * perHost);
    expect(perHost).toBeLessThan(full.bytes / 20);
    const ms = results.map((x) => x.ms).sort((a, b) => a - b);
    console.log(`${HOSTS} hosts: tree ${FILES} files, ${full.bytes} bytes as .filez; delta ${delta.bytes} bytes in ${delta.parts} part(s) ` +
      `(${delta.objects} objects); nginx served ${bytes} bytes in ${served.length} requests = ${HOSTS} × ${perHost} ` +
      `(${(bytes / (HOSTS * full.bytes) * 100).toFixed(2)}% of ${HOSTS} full pulls); wall ${Math.round(wall)} ms; ` +
      `per host median ${Math.round(ms[HOSTS >> 1] ?? 0)} ms, max ${Math.round(ms[HOSTS - 1] ?? 0)} ms`);
  }, 300_000);
});
