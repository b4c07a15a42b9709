/**
 * wasm vs native libsolv speed on one testcase: `npx tsx wasm/bench.ts <file.t> [rounds]`.
 * Compares CPU time (user+sys) of `pool.runTestcase` in this process with `testsolv -r` as a
 * child, best of N rounds each, so other load on a shared machine distorts it less than wall time.
 * Prints one JSON line; the build target is ratio <= 1.3.
 */
import { spawnSync } from 'node:child_process';
import { loadSolver, runTestcase } from '../src/solver/index.js';

const file = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
if (!file) {
  console.error('usage: npx tsx wasm/bench.ts <testcase.t> [rounds]');
  process.exit(2);
}
await loadSolver();
const warm = runTestcase(file).result; // first run includes wasm tier-up
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let wasmBest = Infinity;
let nativeBest = Infinity;
for (let i = 0; i < rounds; i++) {
  const t0 = cpu();
  runTestcase(file);
  wasmBest = Math.min(wasmBest, cpu() - t0);
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; { time testsolv -r "$1" >/dev/null; } 2>&1', '_', file], { encoding: 'utf8' });
  const [u = NaN, s = NaN] = r.stdout.trim().split(/\s+/).map(Number);
  nativeBest = Math.min(nativeBest, (u + s) * 1000);
}
const native = spawnSync('testsolv', ['-r', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
console.log(JSON.stringify({ file, identical: native === warm, wasmCpuMs: Math.round(wasmBest), nativeCpuMs: Math.round(nativeBest), ratio: +(wasmBest / nativeBest).toFixed(2) }));
