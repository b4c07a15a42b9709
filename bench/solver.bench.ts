/**
 * Solver benchmark: the wasm libsolv behind our API vs native `testsolv` on the same .solv
 * files and the same install jobs, in one run (target: wasm within 1.3x native).
 *
 * Method, identical on both sides so the ratio is fair:
 *   total      = load the .solv file(s) + solve the job (testsolv: one process wall time;
 *                wasm: new Pool + addRepo({kind:'solv'}) + solve)
 *   load-only  = the same with no job (testsolv: testcase without `job` lines; wasm: solve([]))
 *   solve      = median(total) - median(load-only)
 * plus the wasm `pool.solve()` call timed directly ("solve call"), which has no native
 * equivalent because testsolv only reports wall time. Each figure is the median of RUNS runs
 * after one warm-up. The wasm module's one-time instantiation is reported separately.
 *
 * usage: npm run bench -- solver     (env BENCH_RUNS=N to change the run count)
 * output: a table on stdout and bench/out/solver.json
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadSolver, Pool } from '../src/solver/index.js';
import type { Job } from '../src/solver/types.js';
import { dataset, type DatasetName } from '../test/solver/support/datasets.js';
import { runTestsolv, solveNative, solvForRepoDir, testcaseText, type NativeCase } from '../test/solver/support/native.js';
import { outcomeOf } from '../test/solver/support/wasm.js';
import { formatTable, median, ratio, sample, timeMsAsync, writeResult, type Cell } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const TARGET_RATIO = 1.3;

interface Scenario {
  name: string;
  repos: Array<{ name: string; data: DatasetName }>;
  jobs: string[][];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'cs9',
    repos: [{ name: 'baseos', data: 'cs9-baseos-2022' }, { name: 'appstream', data: 'cs9-appstream-2025' }],
    jobs: [['dnf'], ['httpd'], ['podman'], ['emacs'], ['gcc'], ['httpd', 'mod_ssl', 'php']],
  },
  {
    name: 'deb63k',
    repos: [{ name: 'deb', data: 'deb63k' }],
    jobs: [['python3'], ['libreoffice'], ['xfce4'], ['apache2'], ['nginx', 'python3', 'git']],
  },
];

const installJobs = (names: string[]): Job[] => names.map((name) => ({ action: 'install', select: { by: 'name', name } }));

interface Row {
  scenario: string;
  job: string;
  outcome: string;
  agree: boolean;
  native: { totalMs: number; solveMs: number; samples: number[] };
  wasm: { totalMs: number; solveMs: number; solveCallMs: number; samples: number[]; solveCallSamples: number[] };
  ratioTotal: number;
  ratioSolve: number;
}

function testsolvWall(text: string): number {
  const t0 = process.hrtime.bigint();
  runTestsolv(text);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const instantiateMs = await timeMsAsync(async () => { await loadSolver(); });
  const testsolvVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libsolv-tools'], { encoding: 'utf8' });
  const rows: Row[] = [];
  const loads: Array<{ scenario: string; packages: number; nativeMs: number; wasmMs: number; ratio: number }> = [];

  for (const sc of SCENARIOS) {
    const repos = sc.repos.map((r) => {
      const d = dataset(r.data);
      const solvPath = solvForRepoDir(d.dir);
      return { name: r.name, solvPath, bytes: new Uint8Array(readFileSync(solvPath)) };
    });
    const nativeCase = (install: string[]): NativeCase => ({ available: repos.map(({ name, solvPath }) => ({ name, solvPath })), install });

    const openPool = (): Pool => {
      const pool = new Pool({ arch: 'x86_64' });
      for (const r of repos) pool.addRepo(r.name, { kind: 'solv', bytes: r.bytes }, { priority: 0 });
      return pool;
    };

    // load-only baselines
    const emptyText = testcaseText(nativeCase([]));
    const nativeLoad = median(sample(RUNS, () => void testsolvWall(emptyText)));
    let packages = 0;
    const wasmLoad = median(sample(RUNS, () => {
      const pool = openPool();
      const res = pool.solve([], {});
      if (!res.ok) throw new Error(`${sc.name}: empty job list reported problems`);
      pool.free();
    }));
    // The count from <metadata packages="N">: parsing 63k records just to count them is slow.
    for (const r of sc.repos) packages += Number(/packages="(\d+)"/.exec(dataset(r.data).primaryXml().subarray(0, 4096).toString())?.[1] ?? NaN);
    loads.push({ scenario: sc.name, packages, nativeMs: nativeLoad, wasmMs: wasmLoad, ratio: ratio(wasmLoad, nativeLoad) });

    for (const names of sc.jobs) {
      const c = nativeCase(names);
      const text = testcaseText(c);
      const native = solveNative(c);
      const nativeSamples = sample(RUNS, () => void testsolvWall(text));
      const jobs = installJobs(names);
      const callSamples: number[] = [];
      let last: ReturnType<Pool['solve']> | undefined;
      const wasmSamples = sample(RUNS, () => {
        const pool = openPool();
        const t0 = process.hrtime.bigint();
        last = pool.solve(jobs, {});
        callSamples.push(Number(process.hrtime.bigint() - t0) / 1e6);
        pool.free();
      });
      callSamples.splice(0, callSamples.length - RUNS); // drop the warm-up run's figure
      const wasm = outcomeOf(last!);
      const agree = native.ok
        ? wasm.ok && JSON.stringify(wasm.incoming) === JSON.stringify(native.incoming)
        : !wasm.ok && wasm.problemCount === native.problemCount;
      const nTotal = median(nativeSamples);
      const wTotal = median(wasmSamples);
      const nSolve = Math.max(0, nTotal - nativeLoad);
      const wSolve = Math.max(0, wTotal - wasmLoad);
      rows.push({
        scenario: sc.name,
        job: names.join(' '),
        outcome: native.ok ? `${native.incoming.length} pkgs` : `${native.problemCount} problem(s)`,
        agree,
        native: { totalMs: nTotal, solveMs: nSolve, samples: nativeSamples },
        wasm: { totalMs: wTotal, solveMs: wSolve, solveCallMs: median(callSamples), samples: wasmSamples, solveCallSamples: callSamples },
        ratioTotal: ratio(wTotal, nTotal),
        ratioSolve: ratio(wSolve, nSolve),
      });
    }
  }

  console.log(`solver: wasm vs native testsolv ${testsolvVersion}, median of ${RUNS} runs, times in ms`);
  console.log(`wasm module instantiation (once per process): ${instantiateMs.toFixed(1)} ms\n`);
  console.log(formatTable(
    ['load .solv (no job)', 'packages', 'native', 'wasm', 'wasm/native'],
    loads.map((l): Cell[] => [l.scenario, l.packages, l.nativeMs, l.wasmMs, l.ratio]),
  ));
  console.log('');
  console.log(formatTable(
    ['scenario: install', 'native result', 'same?', 'native total', 'wasm total', 'ratio', 'native solve', 'wasm solve', 'ratio', 'wasm solve call'],
    rows.map((r): Cell[] => [
      `${r.scenario}: ${r.job}`, r.outcome, r.agree ? 'yes' : 'NO', r.native.totalMs, r.wasm.totalMs, r.ratioTotal,
      r.native.solveMs, r.wasm.solveMs, r.ratioSolve, r.wasm.solveCallMs,
    ]),
  ));
  const allTotal = median(rows.map((r) => r.ratioTotal));
  const sumNativeSolve = rows.reduce((a, r) => a + r.native.solveMs, 0);
  const sumWasmSolve = rows.reduce((a, r) => a + r.wasm.solveMs, 0);
  const solveRatio = ratio(sumWasmSolve, sumNativeSolve);
  console.log(`\nmedian total ratio (load+solve) wasm/native: ${allTotal.toFixed(2)}x; ` +
    `summed solve-only ratio: ${solveRatio.toFixed(2)}x; target <= ${TARGET_RATIO}x: ` +
    `${allTotal <= TARGET_RATIO ? 'met' : 'NOT met'} (total), ${solveRatio <= TARGET_RATIO ? 'met' : 'NOT met'} (solve)`);
  const disagree = rows.filter((r) => !r.agree);
  if (disagree.length) console.log(`WARNING: wasm and native disagree on: ${disagree.map((r) => `${r.scenario}: ${r.job}`).join(', ')}`);
  const out = writeResult('solver', {
    date: new Date().toISOString(),
    runs: RUNS,
    testsolv: testsolvVersion,
    node: process.version,
    instantiateMs,
    targetRatio: TARGET_RATIO,
    medianTotalRatio: allTotal,
    summedSolveRatio: solveRatio,
    loads,
    rows,
  });
  console.log(`wrote ${out}`);
}

await main();
