/**
 * Solver benchmark: the wasm libsolv behind our API vs native `testsolv` on the same .solv
 * files and the same install jobs, in one run (target: wasm within 1.3x native).
 *
 * Method, identical on both sides so the ratio is fair:
 *   total      = load the .solv file(s) + solve the job (testsolv: one process, timed by bash's
 *                `time`; wasm: new Pool + addRepo({kind:'solv'}) + solve + free)
 *   load-only  = the same with no job (testsolv: testcase without `job` lines; wasm: solve([]))
 *   solve      = median(total) - median(load-only)
 * plus the wasm `pool.solve()` call timed directly, which has no native equivalent because
 * testsolv reports no internal timings. Every figure is a median of RUNS runs after one
 * warm-up, as CPU time (user+system: steady on a shared machine) and wall time. The wasm
 * module's one-time instantiation is reported separately.
 *
 * usage: npm run bench -- solver     (env BENCH_RUNS=N to change the run count, default 9)
 * output: tables on stdout and bench/out/solver.json; exit 1 if wasm and native disagree
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSolver, Pool } from '../src/solver/index.js';
import type { Job } from '../src/solver/types.js';
import { dataset, type DatasetName } from '../test/solver/support/datasets.js';
import { solveNative, solvForRepoDir, testcaseText, type NativeCase } from '../test/solver/support/native.js';
import { outcomeOf } from '../test/solver/support/wasm.js';
import { formatTable, medianTiming, ratio, sampleTimings, timeIt, timeMsAsync, writeResult, type Cell, type Timing } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 9));
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

interface Side {
  /** Median load + solve. */
  total: Timing;
  /** Median total minus median load-only (clamped at 0). */
  solve: Timing;
  samples: Timing[];
}

interface Row {
  scenario: string;
  job: string;
  outcome: string;
  agree: boolean;
  native: Side;
  wasm: Side & { solveCall: Timing; solveCallSamples: Timing[] };
  ratio: { totalCpu: number; solveCpu: number; totalWall: number; solveWall: number };
}

/**
 * One testsolv run timed by bash's `time` builtin: the child's own wall (%R) and CPU (%U+%S)
 * time, without node's spawn overhead. The result itself is checked once, elsewhere.
 */
function timeTestsolv(file: string): Timing {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3R %3U %3S"; time testsolv -r "$1" >/dev/null 2>&1', '_', file], { encoding: 'utf8' });
  const m = /^([\d.]+) ([\d.]+) ([\d.]+)\s*$/m.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`timing testsolv ${file} failed: ${r.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}

function minus(a: Timing, b: Timing): Timing {
  return { wallMs: Math.max(0, a.wallMs - b.wallMs), cpuMs: Math.max(0, a.cpuMs - b.cpuMs) };
}

async function main(): Promise<void> {
  const instantiateMs = await timeMsAsync(async () => { await loadSolver(); });
  const testsolvVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libsolv-tools'], { encoding: 'utf8' });
  const tmp = mkdtempSync(join(tmpdir(), 'layer-bench-'));
  const rows: Row[] = [];
  const loads: Array<{ scenario: string; packages: number; native: Timing; wasm: Timing; ratioCpu: number; ratioWall: number }> = [];

  for (const sc of SCENARIOS) {
    const repos = sc.repos.map((r) => {
      const d = dataset(r.data);
      const solvPath = solvForRepoDir(d.dir);
      return { name: r.name, solvPath, bytes: new Uint8Array(readFileSync(solvPath)) };
    });
    const nativeCase = (install: string[]): NativeCase => ({ available: repos.map(({ name, solvPath }) => ({ name, solvPath })), install });
    const testcaseFile = (install: string[]): string => {
      const file = join(tmp, `${sc.name}-${install.join('_') || 'load-only'}.t`);
      writeFileSync(file, testcaseText(nativeCase(install), tmp));
      return file;
    };
    const openPool = (): Pool => {
      const pool = new Pool({ arch: 'x86_64' });
      for (const r of repos) pool.addRepo(r.name, { kind: 'solv', bytes: r.bytes }, { priority: 0 });
      return pool;
    };

    // load-only baselines: the same work minus the job
    const emptyFile = testcaseFile([]);
    const nativeLoad = medianTiming(sampleTimings(RUNS, () => timeTestsolv(emptyFile)));
    const wasmLoad = medianTiming(sampleTimings(RUNS, () => {
      const pool = openPool();
      const res = pool.solve([], {});
      pool.free();
      if (!res.ok) throw new Error(`${sc.name}: an empty job list reported problems`);
    }));
    // The count from <metadata packages="N">: parsing 63k records just to count them is slow.
    let packages = 0;
    for (const r of sc.repos) packages += Number(/packages="(\d+)"/.exec(dataset(r.data).primaryXml().subarray(0, 4096).toString())?.[1] ?? NaN);
    loads.push({
      scenario: sc.name, packages, native: nativeLoad, wasm: wasmLoad,
      ratioCpu: ratio(wasmLoad.cpuMs, nativeLoad.cpuMs), ratioWall: ratio(wasmLoad.wallMs, nativeLoad.wallMs),
    });

    for (const names of sc.jobs) {
      const native = solveNative(nativeCase(names));
      const file = testcaseFile(names);
      const nativeSamples = sampleTimings(RUNS, () => timeTestsolv(file));
      const jobs = installJobs(names);
      const callSamples: Timing[] = [];
      let last: ReturnType<Pool['solve']> | undefined;
      const wasmSamples = sampleTimings(RUNS, () => {
        const pool = openPool();
        callSamples.push(timeIt(() => { last = pool.solve(jobs, {}); }));
        pool.free();
      });
      callSamples.splice(0, callSamples.length - RUNS); // drop the warm-up run's figure
      const wasm = outcomeOf(last!);
      const agree = native.ok
        ? wasm.ok && JSON.stringify(wasm.incoming) === JSON.stringify(native.incoming)
        : !wasm.ok && wasm.problemCount === native.problemCount;
      const nTotal = medianTiming(nativeSamples);
      const wTotal = medianTiming(wasmSamples);
      const nSolve = minus(nTotal, nativeLoad);
      const wSolve = minus(wTotal, wasmLoad);
      rows.push({
        scenario: sc.name,
        job: names.join(' '),
        outcome: native.ok ? `${native.incoming.length} pkgs` : `${native.problemCount} problem(s)`,
        agree,
        native: { total: nTotal, solve: nSolve, samples: nativeSamples },
        wasm: { total: wTotal, solve: wSolve, samples: wasmSamples, solveCall: medianTiming(callSamples), solveCallSamples: callSamples },
        ratio: {
          totalCpu: ratio(wTotal.cpuMs, nTotal.cpuMs), solveCpu: ratio(wSolve.cpuMs, nSolve.cpuMs),
          totalWall: ratio(wTotal.wallMs, nTotal.wallMs), solveWall: ratio(wSolve.wallMs, nSolve.wallMs),
        },
      });
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  console.log(`solver: wasm (our API, kind 'solv') vs native testsolv ${testsolvVersion}; median of ${RUNS} runs; ms`);
  console.log(`wasm module instantiation (once per process, not in any figure below): ${instantiateMs.toFixed(1)} ms`);
  console.log('cpu = user+system time (steady under load); wall = elapsed; solve = total - load-only\n');
  console.log(formatTable(
    ['load .solv, empty job', 'packages', 'native cpu', 'wasm cpu', 'ratio', 'native wall', 'wasm wall', 'ratio'],
    loads.map((l): Cell[] => [l.scenario, l.packages, l.native.cpuMs, l.wasm.cpuMs, l.ratioCpu, l.native.wallMs, l.wasm.wallMs, l.ratioWall]),
  ));
  console.log('');
  console.log(formatTable(
    ['install', 'native result', 'same?', 'native cpu', 'wasm cpu', 'ratio', 'native solve', 'wasm solve', 'ratio',
      'wasm solve() call', 'native wall', 'wasm wall', 'ratio'],
    rows.map((r): Cell[] => [
      `${r.scenario}: ${r.job}`, r.outcome, r.agree ? 'yes' : 'NO',
      r.native.total.cpuMs, r.wasm.total.cpuMs, r.ratio.totalCpu,
      r.native.solve.cpuMs, r.wasm.solve.cpuMs, r.ratio.solveCpu,
      r.wasm.solveCall.cpuMs, r.native.total.wallMs, r.wasm.total.wallMs, r.ratio.totalWall,
    ]),
  ));
  const sum = (f: (r: Row) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const totalRatio = ratio(sum((r) => r.wasm.total.cpuMs), sum((r) => r.native.total.cpuMs));
  const solveRatio = ratio(sum((r) => r.wasm.solve.cpuMs), sum((r) => r.native.solve.cpuMs));
  const wallRatio = ratio(sum((r) => r.wasm.total.wallMs), sum((r) => r.native.total.wallMs));
  const verdict = (x: number): string => (x <= TARGET_RATIO ? 'met' : 'NOT met');
  console.log(`\nover all jobs, wasm/native: load+solve cpu ${totalRatio.toFixed(2)}x (${verdict(totalRatio)}), ` +
    `solve-only cpu ${solveRatio.toFixed(2)}x (${verdict(solveRatio)}), load+solve wall ${wallRatio.toFixed(2)}x; target <= ${TARGET_RATIO}x`);
  const disagree = rows.filter((r) => !r.agree);
  if (disagree.length) console.log(`WARNING: wasm and native disagree on: ${disagree.map((r) => `${r.scenario}: ${r.job}`).join(', ')}`);
  const out = writeResult('solver', {
    date: new Date().toISOString(),
    runs: RUNS,
    testsolv: testsolvVersion,
    node: process.version,
    instantiateMs,
    targetRatio: TARGET_RATIO,
    ratios: { totalCpu: totalRatio, solveCpu: solveRatio, totalWall: wallRatio },
    loads,
    rows,
  });
  console.log(`wrote ${out}`);
  if (disagree.length) process.exitCode = 1;
}

await main();
