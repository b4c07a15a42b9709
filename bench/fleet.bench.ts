/**
 * Fleet benchmark, loopback only: an archive repo of a base of BENCH_FILES (default 5,000)
 * files (v1) and its next version (v2: 50 files changed, 20 added) with the static delta
 * v1 → v2, served by Debian's nginx on 127.0.0.1. In the same run, BENCH_RUNS (default 3)
 * times each:
 *   full pull     v2 into an empty bare-user repo: layer (pullFromRemote, no deltas) and
 *                 Debian's `ostree pull --disable-static-deltas` of the same repo
 *   delta upgrade v1 → v2 of a repo holding v1: layer (through the delta) and `ostree pull`
 *                 (which takes the same delta)
 * Medians of wall time and of CPU time (user + system: layer's from this process, which runs
 * the pull, ostree's from the child; nginx's own CPU is in neither), each pull after a `sync`,
 * layer and ostree alternating going first; per-pair ratios of the full pulls; bytes served
 * per pull from nginx's access log. On 2 shared cores the CPU time decides the ratio under load.
 *
 * Run alone:  node --import tsx bench/fleet.bench.ts      (or: npm run bench -- fleet)
 * BENCH_ONLY=full runs only the full pulls (no delta fixtures, no delta rows).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullFromRemote } from '../src/engine/sources/ostree-remote.js';
import { silentReport } from '../src/report.js';
import { generateDelta } from '../src/store/delta/index.js';
import { ArchiveRepo, Store, exportCommit, updateSummary, type Checksum } from '../src/store/index.js';
import { startNginx, type Nginx } from '../test/fleet/nginx.js';
import { makeFleetTree, updateFleetTree } from '../test/support/fleet-trees.js';
import { formatTable, median, ratio, timeMsAsync, writeResult } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const FILES = Math.max(100, Number(process.env.BENCH_FILES ?? 5000));
const ONLY_FULL = process.env.BENCH_ONLY === 'full';

const ostree = (repo: string, ...args: string[]) => execFileSync('ostree', [`--repo=${repo}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Sample { ms: number; cpuMs: number; bytes: number }

/** CPU ms (user + system) of this process's threads and of its reaped children, from /proc. */
function cpuMs(): { self: number; children: number } {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const [utime, stime, cutime, cstime] = f.slice(f.lastIndexOf(')') + 2).split(' ').slice(11, 15).map(Number);
  const tick = 10; // USER_HZ is 100 on Linux
  return { self: ((utime ?? 0) + (stime ?? 0)) * tick, children: ((cutime ?? 0) + (cstime ?? 0)) * tick };
}

async function measure(web: Nginx, fn: () => Promise<void>, child = false): Promise<Sample> {
  // Flush dirty pages first: writeback of the fixtures (or of the previous pull) would otherwise
  // be charged to whichever pull runs next.
  execFileSync('sync');
  const before = web.requests().length;
  const c0 = cpuMs();
  const ms = await timeMsAsync(fn);
  const c1 = cpuMs();
  const cpu = child ? c1.children - c0.children : c1.self - c0.self;
  return { ms, cpuMs: cpu, bytes: web.requests().slice(before).reduce((n, q) => n + q.bytes, 0) };
}

const work = await mkdtemp(join(tmpdir(), 'layer-fleet-bench-'));
let web: Nginx | undefined;
try {
  const t0 = performance.now();
  const tree = join(work, 'tree');
  makeFleetTree(tree, FILES);
  const src = Store.init(join(work, 'src'), { mode: 'bare', fsync: false });
  const c1 = await src.commitTree(tree, { subject: 'v1' });
  updateFleetTree(tree, FILES, { changed: 50, added: 20 });
  const c2 = await src.commitTree(tree, { subject: 'v2', parent: c1 });
  const archive = ArchiveRepo.init(join(work, 'served'), { fsync: false });
  const full = exportCommit(src, c1, archive, { ref: 'fleet/base' });
  exportCommit(src, c2, archive, { ref: 'fleet/base' });
  const delta = ONLY_FULL ? undefined : generateDelta(archive, c1, c2);
  updateSummary(archive);
  const server = await startNginx(archive.path, join(work, 'nginx'));
  web = server;
  // Seeds holding v1, copied (hard links) before each delta upgrade.
  const layerSeed = join(work, 'seed-layer');
  const ostreeSeed = join(work, 'seed-ostree');
  if (!ONLY_FULL) {
    await pullFromRemote(Store.init(layerSeed, { mode: 'bare-user', fsync: false }), server.url, c1, { report: silentReport, deltas: false });
    ostree(ostreeSeed, 'init', '--mode=bare-user');
    ostree(ostreeSeed, 'remote', 'add', '--no-gpg-verify', 'r', server.url);
    ostree(ostreeSeed, 'pull', '--disable-static-deltas', 'r', `fleet/base@${c1}`);
  }
  const deltaNote = delta ? `delta v1→v2: ${delta.bytes} bytes, ${delta.parts} part(s), ${delta.objects} objects` : 'no delta (BENCH_ONLY=full)';
  console.log(`base v1: ${FILES} files, ${full.written} objects, ${full.bytes} bytes as .filez; ${deltaNote}; fixtures ${Math.round(performance.now() - t0)} ms`);

  const s: Record<'layerFull' | 'ostreeFull' | 'layerDelta' | 'ostreeDelta', Sample[]> = { layerFull: [], ostreeFull: [], layerDelta: [], ostreeDelta: [] };
  for (let i = 0; i < RUNS; i++) {
    const dir = join(work, `run${i}`);
    const lf = Store.init(join(dir, 'layer-full'), { mode: 'bare-user', fsync: false });
    const layerFull = async () => { s.layerFull.push(await measure(server, async () => { await pullFromRemote(lf, server.url, 'fleet/base', { report: silentReport, deltas: false }); })); };
    const of = join(dir, 'ostree-full');
    ostree(of, 'init', '--mode=bare-user');
    ostree(of, 'remote', 'add', '--no-gpg-verify', 'r', server.url);
    const ostreeFull = async () => { s.ostreeFull.push(await measure(server, async () => { ostree(of, 'pull', '--disable-static-deltas', 'r', 'fleet/base'); }, true)); };
    // Alternate which goes first, so neither always pays for a cold cache.
    if (i % 2 === 0) { await layerFull(); await ostreeFull(); } else { await ostreeFull(); await layerFull(); }
    if (!ONLY_FULL) {
      execFileSync('cp', ['-al', layerSeed, join(dir, 'layer-delta')]);
      const ld = Store.open(join(dir, 'layer-delta'), { fsync: false });
      s.layerDelta.push(await measure(server, async () => {
        const r = await pullFromRemote(ld, server.url, 'fleet/base', { report: silentReport });
        if (r.commit !== c2 || !r.delta) throw new Error('the delta was not used');
      }));
      execFileSync('cp', ['-al', ostreeSeed, join(dir, 'ostree-delta')]);
      s.ostreeDelta.push(await measure(server, async () => { ostree(join(dir, 'ostree-delta'), 'pull', 'r', 'fleet/base'); }, true));
    }
    if (ostree(join(dir, 'ostree-full'), 'rev-parse', 'r:fleet/base').trim() !== (c2 as Checksum)) throw new Error('ostree did not pull v2');
    // Not deleted here: on a disk without a journal (this machine's ext4) the next run's file
    // creations would scan past every inode freed in the last 60 s, and whichever pull goes
    // first would pay for it (the pairs' ratios then mostly showed who went first). All runs
    // are removed with the work directory at the end.
  }
  const m = (xs: Sample[]) => (xs.length === 0 ? { ms: NaN, cpuMs: NaN, bytes: NaN }
    : { ms: median(xs.map((x) => x.ms)), cpuMs: median(xs.map((x) => x.cpuMs)), bytes: median(xs.map((x) => x.bytes)) });
  const r = { layerFull: m(s.layerFull), ostreeFull: m(s.ostreeFull), layerDelta: m(s.layerDelta), ostreeDelta: m(s.ostreeDelta) };
  const rows: [string, typeof r.layerFull][] = [['layer full pull', r.layerFull], ['ostree full pull', r.ostreeFull]];
  if (!ONLY_FULL) rows.push(['layer delta upgrade', r.layerDelta], ['ostree delta upgrade', r.ostreeDelta]);
  console.log(formatTable(['pull (median of ' + RUNS + ')', 'wall ms', 'cpu ms', 'bytes served'], rows.map(([n, x]) => [n, x.ms, x.cpuMs, x.bytes])));
  // Per pair (the runs of one iteration): how often layer is at or under ostree, not only by medians.
  const pairs = s.layerFull.map((l, i) => {
    const o = s.ostreeFull[i] ?? l;
    return { wall: l.ms / o.ms, cpu: l.cpuMs / o.cpuMs };
  });
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(`per pair, layer / ostree full pull: wall ${fmt(pairs.map((p) => p.wall))} (${pairs.filter((p) => p.wall <= 1).length}/${pairs.length} <= 1.0); ` +
    `cpu ${fmt(pairs.map((p) => p.cpu))} (${pairs.filter((p) => p.cpu <= 1).length}/${pairs.length} <= 1.0)`);
  const fullRatio = ratio(r.layerFull.ms, r.ostreeFull.ms);
  const cpuRatio = ratio(r.layerFull.cpuMs, r.ostreeFull.cpuMs);
  console.log(`layer / ostree full pull: ${fullRatio.toFixed(2)}x wall, ${cpuRatio.toFixed(2)}x cpu (target <= 1.0)` + (ONLY_FULL ? '' : `; delta upgrade vs full pull (layer): ` +
    `${(r.layerDelta.bytes / r.layerFull.bytes * 100).toFixed(2)}% of the bytes, ${ratio(r.layerDelta.ms, r.layerFull.ms).toFixed(3)}x the time`));
  console.log(`wrote ${writeResult('fleet', { files: FILES, runs: RUNS, onlyFull: ONLY_FULL, treeBytes: full.bytes, delta, medians: r, fullRatio, cpuRatio, pairs, samples: s })}`);
} finally {
  await web?.stop();
  await rm(work, { recursive: true, force: true });
}
