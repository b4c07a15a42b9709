/**
 * Progress events of pulls (engine/sources/pull-progress.ts), checked against what Debian's
 * nginx on 127.0.0.1 logged as served: a full object pull ends with a `pull.progress` whose
 * counts equal the result and whose bytes equal the object bytes nginx sent, with every event
 * counting up; a delta pull announces the delta (`pull.delta`: parts, bytes as the superblock
 * lists them) and reports each part (`pull.delta.part`) with the bytes nginx sent for it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullFromRemote } from '../../src/engine/sources/ostree-remote.js';
import { RecordingReport, type EventData } from '../../src/report.js';
import { generateDelta } from '../../src/store/delta/index.js';
import { ArchiveRepo, Store, exportCommit, updateSummary } from '../../src/store/index.js';
import { makeFleetTree, updateFleetTree } from '../support/fleet-trees.js';
import { ostreeFsck } from '../support/tools.js';
import { fleetScope } from './nginx.js';

const { dir, serve } = fleetScope('pull-progress');
const FILES = 300;

/** v1 and v2 (30 changed, 10 added) of a fleet tree in an archive repo with the delta v1 → v2 in parts of ≤ 64 KiB. */
async function served(d: string) {
  const tree = join(d, 'tree');
  makeFleetTree(tree, FILES);
  const src = Store.init(join(d, 'src'), { mode: 'bare', fsync: false });
  const c1 = await src.commitTree(tree, { subject: 'v1' });
  updateFleetTree(tree, FILES, { changed: 30, added: 10 });
  writeFileSync(join(tree, 'usr/etc/motd'), 'v2\n');
  const c2 = await src.commitTree(tree, { subject: 'v2', parent: c1 });
  const archive = ArchiveRepo.init(join(d, 'served'), { fsync: false });
  exportCommit(src, c1, archive, { ref: 'fleet/base' });
  exportCommit(src, c2, archive, { ref: 'fleet/base' });
  const delta = generateDelta(archive, c1, c2, { maxPartBytes: 64 << 10 });
  updateSummary(archive);
  return { archive, c1, c2, delta };
}

const progress = (r: RecordingReport) => r.records('pull.progress');

/** Every count in a sequence of `pull.progress` events only grows; the last one says done. */
function expectCountingUp(events: EventData[]): void {
  for (const k of ['fetched', 'present', 'known', 'bytes']) {
    const xs = events.map((e) => Number(e[k]));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
  }
  expect(events.at(-1)?.done).toBe(true);
  expect(events.filter((e) => e.done)).toHaveLength(1);
}

describe('pull progress events', () => {
  it('a full pull: counts up to the result, bytes as nginx served them', async () => {
    const d = dir('full');
    const { archive, c1 } = await served(d);
    const web = await serve(archive.path, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare-user', fsync: false });
    const report = new RecordingReport();
    const r = await pullFromRemote(store, web.url, c1, { report, deltas: false });
    const events = progress(report);
    expectCountingUp(events);
    const last = events.at(-1) ?? {};
    expect(last).toMatchObject({ url: web.url, fetched: r.fetched, bytes: r.bytes, present: 0 });
    // Every object of the commit, each once: FILES files, os-release, the dirtrees and dirmetas, the commit.
    expect(r.fetched).toBeGreaterThan(FILES);
    expect(last.known).toBe(r.fetched);
    const objects = web.requests().filter((q) => q.path.includes('/objects/') && q.status === 200);
    expect(objects).toHaveLength(r.fetched);
    expect(objects.reduce((n, q) => n + q.bytes, 0)).toBe(last.bytes);
    expect(report.records('pull.delta')).toEqual([]);
    store.setRef('fleet/base', c1);
    expect(ostreeFsck(store.path)).toContain('1 commit objects');
  }, 120_000);

  it('a delta pull: the delta, each part with the bytes nginx served, then the objects it lacked', async () => {
    const d = dir('delta');
    const { archive, c1, c2, delta } = await served(d);
    expect(delta.parts).toBeGreaterThan(1);
    const web = await serve(archive.path, join(d, 'nginx'));
    const store = Store.init(join(d, 'store'), { mode: 'bare-user', fsync: false });
    await pullFromRemote(store, web.url, c1, { report: new RecordingReport(), deltas: false });
    const before = web.requests().length;
    const report = new RecordingReport();
    const r = await pullFromRemote(store, web.url, 'fleet/base', { report });
    expect(r.delta).toMatchObject({ from: c1, parts: delta.parts, skipped: 0 });
    const sent = web.requests().slice(before);
    const partReqs = sent.filter((q) => /\/deltas\/.*\/\d+$/.test(q.path));
    expect(report.records('pull.delta')).toEqual([{
      url: web.url, from: c1, to: c2, parts: delta.parts, bytes: partReqs.reduce((n, q) => n + q.bytes, 0),
    }]);
    const parts = report.records('pull.delta.part');
    expect(parts.map((p) => p.part)).toEqual([...Array(delta.parts).keys()]);
    expect(parts.map((p) => p.bytes)).toEqual(partReqs.map((q) => q.bytes));
    expect(parts.every((p) => p.parts === delta.parts && p.skipped === false && Number(p.objects) > 0)).toBe(true);
    // The delta came before any object progress; the walk then fetched nothing the delta carried.
    const codes = report.events.map((e) => e.code).filter((c) => c.startsWith('pull.'));
    expect(codes.indexOf('pull.delta.part')).toBeLessThan(codes.indexOf('pull.progress'));
    const events = progress(report);
    expectCountingUp(events);
    expect(events.at(-1)).toMatchObject({ fetched: r.fetched, bytes: r.bytes - (r.delta?.bytes ?? 0) });
    expect(sent.filter((q) => q.path.includes('/objects/'))).toHaveLength(r.fetched);
    store.setRef('fleet/base', c2);
    expect(ostreeFsck(store.path)).toContain('2 commit objects');
  }, 120_000);
});
