/**
 * Nightly upgrade testing (issue 13): the whole recipe (examples/nightly-upgrade.sh: check,
 * preview, upgrade with smoke commands + health checks + report + lockfile) on the nightly
 * fixtures (the demo's Debian base, the upgrade fixtures' v1 → v2, the nightly-app workload;
 * test/support/nightly-fixtures.ts), and what the report itself costs.
 *
 * Run:  npm run bench -- nightly       (or: node --import tsx bench/nightly.bench.ts)
 * Env:  BENCH_RUNS (default 3).
 *
 * Each run starts from a copy of one sysroot made from the fleet's v1 image; the fleet's ref
 * is at v2, so every run has a real upgrade to test. Rows (medians, ms):
 *   recipe          the script, wall clock (its `layer` processes, bwrap sandboxes included)
 *   upgrade         `layer upgrade --health-check --smoke ... --report DIR` alone, wall clock
 *   report          the report's own time inside that upgrade (`report-ms` of its --json:
 *                   rpmdb reads, updateinfo, why, JSON and HTML written)
 *   report share    report / upgrade: the target is under 5 %
 *
 * Results (2-core machine shared with five other engineers' work, BENCH_RUNS=3, ms):
 *   first version   recipe 16914, upgrade (no --report) 6215, report in-process 601 → 9.7 %
 *   in the upgrade  recipe 14544, upgrade + report 7594, report-ms 420 → 5.5 % (not met: each
 *                   rpmdb read twice, and once more per new package for why)
 *   one read each   recipe 9657, upgrade + report 4309, report-ms 153 (82-235) → 3.6 % (met)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nightlyRepos } from '../test/support/nightly-fixtures.js';
import { RECIPE } from '../test/support/upgrade-fixtures.js';
import { formatTable, median, writeResult } from './lib/stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/cli/main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BASE = ['filesystem', 'setup', 'demo-release', 'bash', 'coreutils', 'libc-bin'];
const SMOKE = ['nightly-app', 'test -x /usr/bin/nightly-app'];

function layer(...args: string[]): string {
  return execFileSync('node', [MAIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function wall(cmd: string, args: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const work = mkdtempSync(join(tmpdir(), 'layer-bench-nightly-'));
  try {
    const { reposdir } = await nightlyRepos(work);
    const fleet = join(work, 'fleet');
    const compose = (v: 'v1' | 'v2') => {
      const recipe = join(work, `recipe-${v}.json`);
      writeFileSync(recipe, JSON.stringify({ packages: [...BASE, ...RECIPE], repos: reposdir[v] }));
      layer('compose', '--repo', fleet, '--ref', 'fleet/base', '--recipe', recipe);
    };
    compose('v1');
    const template = join(work, 'template');
    layer('init', '--sysroot', template, '--osname', 'fleet', '--from-ostree', `${fleet}:fleet/base`, '--reposdir', reposdir.v1, 'nightly-app', 'up-other');
    compose('v2');
    const recipe: number[] = [];
    const upgrade: number[] = [];
    const report: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const a = join(work, `a${i}`);
      const b = join(work, `b${i}`);
      execFileSync('cp', ['-a', template, a]);
      execFileSync('cp', ['-a', template, b]);
      recipe.push(wall('sh', [join(ROOT, 'examples/nightly-upgrade.sh')], {
        LAYER: `node ${MAIN}`, SYSROOT: a, OUT: join(work, `out${i}`), REPOSDIR: reposdir.v2, SMOKE: SMOKE.join('\n'),
      }));
      const t0 = performance.now();
      const up = spawnSync('node', [MAIN, 'upgrade', '--sysroot', b, '--reposdir', reposdir.v2, '--health-check', ...SMOKE.flatMap((x) => ['--smoke', x]),
        '--report', join(work, `report${i}`), '--json'], { encoding: 'utf8' });
      upgrade.push(performance.now() - t0);
      if (up.status !== 0) throw new Error(`upgrade exited ${up.status}: ${up.stderr}`);
      report.push(Number((JSON.parse(up.stdout) as { 'report-ms': number })['report-ms']));
    }
    const m = { recipe: median(recipe), upgrade: median(upgrade), report: median(report) };
    const share = (100 * m.report) / m.upgrade;
    console.log(formatTable(['row', 'median ms', 'runs'], [
      ['recipe (whole script)', Math.round(m.recipe), recipe.map(Math.round).join(' ')],
      ['upgrade + checks + report', Math.round(m.upgrade), upgrade.map(Math.round).join(' ')],
      ['report (json + html)', Math.round(m.report), report.map(Math.round).join(' ')],
      ['report / upgrade', `${share.toFixed(1)} %`, share < 5 ? 'target < 5 %: met' : 'target < 5 %: NOT met'],
    ]));
    writeResult('nightly', { runs: RUNS, recipe, upgrade, report, medians: m, reportSharePercent: share });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
