/**
 * wasm vs native libsolv speed on one testcase: `npx tsx wasm/bench.ts [file.t] [rounds]`.
 * Without a file it builds the default case in .cache/wasm-bench/: CentOS Stream 9 BaseOS +
 * AppStream from ../shared/data (as .solv via rpmmd2solv) and 18 install jobs of big stacks.
 * Compares CPU time (user+sys) of `pool.runTestcase` in this process with `testsolv -r` as a
 * child, best of N rounds each, so other load on a shared machine distorts it less than wall time.
 * Prints one JSON line; the build target is ratio <= 1.3.
 */
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSolver, runTestcase } from '../src/solver/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const JOBS = ['gimp', 'libreoffice-writer', 'firefox', 'httpd', 'postgresql-server', 'nodejs', 'php', 'mariadb-server', 'emacs',
  'gcc-toolset-13', 'qemu-kvm', 'podman', 'java-21-openjdk-devel', 'texlive-scheme-basic', 'python3-scipy', 'ansible-core', 'thunderbird', 'inkscape'];

function defaultCase(): string {
  const dir = join(root, '.cache', 'wasm-bench');
  const file = join(dir, 'cs9.t');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  for (const repo of ['cs9-baseos-2022', 'cs9-appstream-2025']) {
    const md = join(root, '..', 'shared', 'data', 'repos', repo, 'repodata');
    const primary = readdirSync(md).find((f) => f.endsWith('primary.xml.gz'));
    if (!primary) throw new Error(`no primary.xml.gz in ${md}`);
    execSync(`zcat '${join(md, primary)}' | rpmmd2solv > '${join(dir, repo + '.solv')}'`);
  }
  const lines = ['repo system 0 empty', 'repo baseos 0 solv cs9-baseos-2022.solv', 'repo appstream 0 solv cs9-appstream-2025.solv', 'system x86_64 rpm system'];
  JOBS.forEach((name, i) => lines.push(...(i ? ['nextjob'] : []), `job install name ${name}`, 'result transaction,problems <inline>'));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const file = process.argv[2] || defaultCase();
const rounds = Number(process.argv[3] ?? 5);
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
