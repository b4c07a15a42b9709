/**
 * Compose benchmark: layering LAYER_COUNT (default 20) packages on a base of the demo repo's
 * real Debian binaries plus BASE_COUNT (default 300) synthetic packages, split into the stages
 * composeTree reports (solve, download, import, checkout, scriptlets, rpmdb, commit), so the
 * slow stage is visible.
 *
 * Run alone:  node --import tsx bench/compose.bench.ts      (or: npm run bench -- compose)
 * Env: BENCH_RUNS (default 3), BENCH_BASE (300), BENCH_LAYER (20). Needs root (bare store,
 * overlay for scriptlets), rpmbuild, createrepo_c, bwrap (`bash scripts/setup.sh`).
 *
 * Runs, on one fresh bare store (fsync off):
 *   init          compose the base from nothing (every base package imported: cold)
 *   layer-cold    the first layering: the 20 packages are downloaded (file://) and imported
 *   layer-warm    BENCH_RUNS more layerings of the same set: downloads verified from the
 *                 package cache, imports reused; medians per stage
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemoFixtures } from '../fixtures/demo/build.js';
import { composeTree, type ComposeResult } from '../src/compose/index.js';
import { parseRepoFile, RepoSet } from '../src/repos/index.js';
import { silentReport } from '../src/report.js';
import { Store } from '../src/store/index.js';
import { buildBenchRepos } from './compose-fixtures.js';
import { formatTable, median, writeResult } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const BASE = Math.max(10, Number(process.env.BENCH_BASE ?? 300));
const LAYER = Math.max(1, Number(process.env.BENCH_LAYER ?? 20));
const STAGES = ['solve', 'download', 'import', 'checkout', 'scriptlets', 'rpmdb', 'commit'];

const t0 = performance.now();
const demo = await buildDemoFixtures();
const bench = await buildBenchRepos(BASE, LAYER);
const fixtureMs = performance.now() - t0;
const work = await mkdtemp(join(tmpdir(), 'layer-compose-bench-'));
try {
  const store = Store.init(join(work, 'repo'), { fsync: false, mode: 'bare' });
  const repos = (ids: Record<string, string>, md: string) =>
    new RepoSet(parseRepoFile(Object.entries(ids).map(([id, d]) => `[${id}]\nbaseurl=file://${d}\ngpgcheck=0\n`).join('\n'), 'bench.repo', {}), { cacheDir: join(work, md) });
  const demoNames = demo.packages.filter((p) => p.repo === 'base').map((p) => p.name);
  const common = { store, localRpms: [], remove: [], arch: 'x86_64', cacheDir: join(work, 'cache'), options: {}, report: silentReport };

  const timedCompose = async (req: Parameters<typeof composeTree>[0]): Promise<{ r: ComposeResult; total: number }> => {
    const s = performance.now();
    const r = await composeTree(req);
    return { r, total: performance.now() - s };
  };
  const init = await timedCompose({ ...common, base: null, install: [...demoNames, ...bench.baseNames], repos: repos({ demo: demo.base, bench: bench.base }, 'md-init') });
  const layerReq = () => ({ ...common, base: { commit: init.r.commit! }, install: bench.layerNames, repos: repos({ demo: demo.base, bench: bench.base, layer: bench.layer }, 'md-layer') });
  const cold = await timedCompose(layerReq());
  const warm: { r: ComposeResult; total: number }[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await timedCompose(layerReq()));

  const row = (label: string, x: { r: ComposeResult; total: number }[]) => [
    label,
    ...STAGES.map((s) => median(x.map((y) => y.r.timings[s] ?? 0)).toFixed(0)),
    median(x.map((y) => y.total)).toFixed(0),
  ];
  console.log(`base: ${init.r.packages.length} packages; layered: ${cold.r.layered.length} packages; fixtures ready in ${fixtureMs.toFixed(0)} ms`);
  console.log(formatTable(['run (ms)', ...STAGES, 'total'], [row('init (base)', [init]), row('layer-cold', [cold]), row(`layer-warm x${RUNS}`, warm)]));
  const slowest = (x: ComposeResult) => STAGES.reduce((a, b) => ((x.timings[a] ?? 0) >= (x.timings[b] ?? 0) ? a : b));
  console.log(`slowest stage: init ${slowest(init.r)}, layer-cold ${slowest(cold.r)}, layer-warm ${slowest(warm[0]!.r)}`);
  const out = writeResult('compose', {
    basePackages: init.r.packages.length,
    layeredPackages: cold.r.layered.length,
    runs: RUNS,
    init: { ...init.r.timings, total: init.total },
    layerCold: { ...cold.r.timings, total: cold.total },
    layerWarmMedian: Object.fromEntries([...STAGES.map((s) => [s, median(warm.map((w) => w.r.timings[s] ?? 0))]), ['total', median(warm.map((w) => w.total))]]),
  });
  console.log(`wrote ${out}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
