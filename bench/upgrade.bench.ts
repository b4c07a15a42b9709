/**
 * Upgrade benchmark (issue 12): `layer upgrade` against `dnf --installroot upgrade`, same run,
 * same repos, medians of BENCH_RUNS (default 3); processes timed by wall clock, startup included.
 *
 * Run alone:  node --import tsx bench/upgrade.bench.ts      (or: npm run bench -- upgrade)
 * Needs dnf, rpmbuild, createrepo_c, modifyrepo_c (`bash scripts/setup.sh`).
 *
 * Repos: the CLI tests' demo repos (real Debian binaries as RPMs: the base filesystem setup
 * demo-release bash coreutils libc-bin), the demo's OS update (demo-release 1.1 with a security
 * advisory, fixtures/demo/os-update.ts), and 20 small rpmbuild packages `ub-00`…`ub-19` (each
 * three files; `ub-NN` requires `ub-(NN-1)`), 1.0 in one repo and 1.1 in an updates repo.
 *   upgrade 20     the base plus 20 layered packages installed at 1.0; then the upgrade with the
 *                  OS update and the 1.1 repo enabled: `layer upgrade` (a fresh copy of the
 *                  sysroot each run: the recipe base recomposed, the 20 layered packages on it,
 *                  deployed) vs `dnf -y upgrade` (a fresh copy of the installroot each run).
 *   check demo     `layer upgrade --check` vs `dnf check-update`, same repos, warm metadata.
 *   check 63k      the same with the demo base repo plus the 63,440-package repo
 *                  (fixtures/deb63k/generate.sh), warm.
 * BENCH_ONLY=upgrade runs the setup and the upgrade row only; BENCH_ONLY=check the check rows only.
 * BENCH_PROFILE=DIR writes a V8 CPU profile of each timed layer upgrade into DIR.
 * BENCH_KEEP=1 (with BENCH_ONLY=upgrade) keeps the starting sysroot, the repos and the dnf root
 * and prints their paths, for timing or tracing one upgrade by hand. Run the file itself then
 * (`TMPDIR=DIR node --import tsx bench/upgrade.bench.ts`): `npm run bench` removes its temp dir.
 * The machine is shared (2 cores, other work running): figures are noisy; compare ratios of
 * the same run only. `--json` stage timings of the last layer upgrade are printed and saved.
 *
 * Results (BENCH_RUNS=3, load average 11-14 on 2 cores, ms; two runs of the bench):
 *   upgrade 20, wall          layer 6070 vs dnf 3646 (1.66x); 6026 vs 3212 (1.88x)
 *   upgrade 20, CPU           layer 1900 vs dnf 730 (2.60x)
 *   check, demo repos         1714 vs 837 (2.05x); 1692 vs 1095 (1.54x); by CPU 420 vs 460 (by hand)
 *   check, demo base + 63k    3960 vs 1742 (2.27x); 5011 vs 2807 (1.78x)
 * Where the upgrade's time goes (stage totals of one run): solve 570 (three plans: the preview,
 * the base, the layered packages on it), import 632, checkout 488, scriptlets 548, commit 455,
 * deploy 530, download 219, verify 184. A --cpu-prof of one upgrade: 0.9 s idle (child
 * processes, I/O), fsync 280, spawnSync 220 (bubblewrap), open 220, GC 180, readdir/link/lstat
 * ~310: two trees checked out and committed where dnf writes one in place; no cheap hot spot.
 * Issue 9/12 speed work (one syncfs per transaction instead of four, no per-ref and per-package
 * fsync, imports four at a time, prune only when a deployment went), 5 interleaved runs of the
 * before (89811c5) and after bins and dnf, load 10-12: wall 5767 / 4741 vs dnf 2940 ms (1.96x
 * -> 1.61x), CPU 2030 / 1920 vs 770 ms (2.64x -> 2.49x). Stages after: solve 539, import 392
 * (was 894), download 166 (was 383), checkout 516, scriptlets 340 (the recomposed base's),
 * commit 405, deploy 453.
 * Session 6 (quiet, 7 interleaved runs, 81216dd's bin as BENCH_BEFORE): wall 1044 / 978 vs dnf
 * 564 ms (1.85x -> 1.73x), CPU 1190 / 1150 vs 450 ms; download stage 73 -> 26 ms (the base's
 * packages of a local repo are used in place, src/repos/packages.ts). With the download step
 * reading the sizes sidecar instead of parsing primary.xml too: 1029 / 901 vs dnf 493 ms
 * (2.09x -> 1.83x), CPU 1160 / 1040 vs 400 ms, download stage 88 -> 19 ms.
 * Session 7 (quiet, 11 interleaved runs, 5535ae5's bin as BENCH_BEFORE): 1006 / 1062 vs dnf
 * 644 ms (1.56x -> 1.65x), CPU 1150 / 1210 vs 520 ms; the run before 1130 / 1100 vs 718 ms
 * (1.57x -> 1.53x): within the noise (one bin ranged 921-1204 ms). The commit stage of the
 * recomposed base 53-71 -> 34-39 ms (the devino index from the objects checked out).
 * Session 8 (11 interleaved runs, 14d5dc3's bin as BENCH_BEFORE): 991 / 878 vs dnf 619 ms
 * (1.60x -> 1.42x), CPU 1160 / 970 vs 510 ms: store reads without the normal-form check, the
 * new base's rpmdb not read back between the two composes, the shell command, fewer inodes.
 * Session 9 (another machine, about twice as fast; 11 interleaved runs, d22e9d2's bin as
 * BENCH_BEFORE): 415 / 365 vs dnf 281 ms (1.48x -> 1.30x), CPU 470 / 430 vs 230 ms. The base
 * compose checks out only what ldconfig reads (apply/partial.ts: checkout 21 -> 12 ms, commit
 * 15 -> 10, 60 entries to remove instead of 613), headers and package files are read
 * synchronously (verify 26-28 -> 9-14 ms), repos are refreshed once per process, and the
 * layered packages' keys come from the new base's rows. A full run (9 runs, slower moment):
 * upgrade 433 vs 333 ms (1.30x); --check 125 vs 147 ms (0.85x); 63k --check 192 vs 242 (0.79x).
 * Session 10 (a slow, noisy hour): after the payload change, 11 interleaved runs with b97b1d3's
 * bin as BENCH_BEFORE: 495 / 435 vs dnf 405 ms (1.22x -> 1.07x). After package commits rooted at
 * their deepest directory and packages taken from the store, no BENCH_BEFORE (an older bin would
 * import every base package again from the new layout): 543 vs 461 ms (1.18x), CPU 610 vs 390;
 * --check 176 vs 231 ms (0.76x), with the 63k repo 226 vs 340 ms (0.66x).
 * Session 11 (0b74e01's bin as BENCH_BEFORE, 15 interleaved runs each; the sysroot made by the
 * new bin, whose init leaves the ldconfig note the old bin does not read): ldconfig's output
 * taken from the note, the recomposed base built from objects (no checkout), cached repo files
 * read synchronously. Seven runs at the final code, before -> now vs dnf: 357 -> 296 vs 315
 * (0.94x), 446 -> 381 vs 354 (1.08x), 449 -> 371 vs 353 (1.05x), 438 -> 374 vs 396 (0.94x),
 * 425 -> 379 vs 329 (1.15x), 404 -> 353 vs 325 (1.09x), 381 -> 359 vs 326 (1.10x): 50-75 ms
 * less than the old bin in every run; the ratio to dnf moves with the machine (0.94-1.15x).
 * --check 158 vs 209 ms (0.76x), with the 63k repo 206 vs 302 ms (0.68x).
 * Session 12 (82b028b's bin as BENCH_BEFORE, 15 interleaved runs, twice): CPU cut on the main
 * thread (dirtrees read and written directly and kept decoded, header strings decoded per
 * array, better-sqlite3's JavaScript in the bundle, listRefs by prefix directory): 309 -> 270
 * vs dnf 321 ms (0.96x -> 0.84x), then 372 -> 350 vs 395 ms (0.94x -> 0.88x), then 310 -> 284
 * vs 348 ms (0.89x -> 0.82x); CPU 380 -> 310 vs 270 ms. --check 151 vs 218 ms (0.69x), with the 63k repo 184 vs 300 ms (0.61x).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOsUpdate } from '../fixtures/demo/os-update.js';
import { BASE_PACKAGES, cloneSysroot, ensureBuilt, initSysroot, repoFile, requireTool, ROOT, testFixtures } from '../test/cli/helpers.js';
import type { FixtureSpec } from '../test/support/rpmbuild.js';
import { fixtureRepo } from '../test/support/upgrade-fixtures.js';
import { COMMAND, commandLine } from './lib/command.js';
import { removeLater, removeNow, settle } from './lib/settle.js';
import { formatTable, median, ratio, writeResult } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const BIN = COMMAND;
const NAMES = Array.from({ length: 20 }, (_, i) => `ub-${String(i).padStart(2, '0')}`);

function layered(version: string): FixtureSpec[] {
  return NAMES.map((name, i) => ({
    name, version, release: '1', ...(i > 0 ? { requires: [NAMES[i - 1] ?? ''] } : {}),
    files: ['a', 'b', 'c'].map((f) => ({ path: `/usr/share/${name}/${f}`, content: `${name} ${version} ${f}\n`.repeat(64) })),
  }));
}

/**
 * Wall ms of a process, its CPU ms (user+sys, children included: GNU time) and stdout. Throws
 * on an exit status not in `ok`. CPU is the steadier figure on a loaded machine.
 */
function timed(cmd: string, args: string[], ok = [0]): { ms: number; cpu: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'UPBENCH %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (!ok.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  const m = /UPBENCH ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`no GNU time output (apt-get install -y time): ${r.stderr.slice(-300)}`);
  return { ms, cpu: (Number(m[1]) + Number(m[2])) * 1000, stdout: r.stdout };
}

function reposDir(work: string, name: string, repos: Record<string, string>): string {
  const d = join(work, name);
  mkdirSync(d);
  writeFileSync(join(d, 'bench.repo'), repoFile(repos));
  return d;
}

async function main(): Promise<void> {
  requireTool('dnf');
  ensureBuilt();
  execFileSync('npm', ['run', '--silent', 'bundle'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const f = await testFixtures();
  const [v1, v2, osUpdate] = [await fixtureRepo('ub-1.0', layered('1.0')), await fixtureRepo('ub-1.1', layered('1.1')), await buildOsUpdate()];
  const work = mkdtempSync(join(tmpdir(), 'layer-bench-upgrade-'));
  const demo = { base: f.base, updates: f.updates, extra: f.extra };
  const before = reposDir(work, 'repos-before', { ...demo, ub: v1 });
  const after = reposDir(work, 'repos-after', { ...demo, ub: v1, 'ub-updates': v2, 'os-updates': osUpdate });
  const cache = join(work, 'dnfcache');
  const dnf = (root: string, repos: string, ...args: string[]) => ['--installroot', root, `--setopt=reposdir=${repos}`, `--setopt=cachedir=${cache}`,
    '--releasever=12', '--nogpgcheck', '-q', ...args];

  // The same starting point on both sides: the base plus the 20 packages at 1.0.
  const sysroot = initSysroot(f, 'bench-up');
  timed(...commandLine(BIN, ['install', '--sysroot', sysroot, '--reposdir', before, ...NAMES]));
  timed(...commandLine(BIN, ['boot-pending', '--sysroot', sysroot]));
  const root = join(work, 'dnfroot');
  timed('dnf', dnf(root, before, '-y', 'install', ...BASE_PACKAGES, ...NAMES));
  // Warm metadata on both sides before anything is timed.
  timed(...commandLine(BIN, ['upgrade', '--check', '--sysroot', sysroot, '--reposdir', after]), [0, 77]);
  timed('dnf', dnf(root, after, 'check-update'), [0, 100]);

  const up = { layer: [] as number[], dnf: [] as number[], layerCpu: [] as number[], dnfCpu: [] as number[] };
  let stages: unknown;
  // BENCH_BEFORE=/path/to/dist/bin/layer.cjs of another build: its runs are interleaved too.
  const beforeBin = process.env.BENCH_BEFORE;
  const prior = { ms: [] as number[], cpu: [] as number[], stages: undefined as unknown };
  // BENCH_PROFILE=DIR: a V8 CPU profile of every timed layer upgrade into DIR (`node --cpu-prof`).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, '--cpu-prof-interval=200'] : [];
  const layerUpgrade = (bin: string) => {
    const s = cloneSysroot(sysroot, 'bench-up-run');
    settle(s);
    const r = timed(...commandLine(bin, ['upgrade', '--sysroot', s, '--reposdir', after, '--json'], profile));
    removeLater(join(s, '..'));
    return { ...r, stages: (JSON.parse(r.stdout) as { transaction?: { timings?: unknown } }).transaction?.timings };
  };
  for (let i = 0; i < (process.env.BENCH_ONLY === 'check' ? 0 : RUNS); i++) {
    if (beforeBin) {
      const b = layerUpgrade(beforeBin);
      prior.ms.push(b.ms);
      prior.cpu.push(b.cpu);
      prior.stages = b.stages;
    }
    const r = layerUpgrade(BIN);
    up.layer.push(r.ms);
    up.layerCpu.push(r.cpu);
    stages = r.stages;
    const r2 = join(work, `root-${i}`);
    execFileSync('cp', ['-a', root, r2]);
    settle(r2);
    const d = timed('dnf', dnf(r2, after, '-y', 'upgrade'));
    up.dnf.push(d.ms);
    up.dnfCpu.push(d.cpu);
    removeLater(r2);
  }
  removeNow();

  if (process.env.BENCH_ONLY === 'upgrade') {
    const m = {
      upgradeLayer: median(up.layer), upgradeDnf: median(up.dnf), upgradeLayerCpu: median(up.layerCpu), upgradeDnfCpu: median(up.dnfCpu),
    };
    console.log(formatTable([`case (ms, median of ${RUNS})`, 'layer', 'dnf', 'layer/dnf'], [
      ['upgrade: base + 20 layered packages', m.upgradeLayer, m.upgradeDnf, ratio(m.upgradeLayer, m.upgradeDnf)],
      ['  same, CPU (user+sys, children)', m.upgradeLayerCpu, m.upgradeDnfCpu, ratio(m.upgradeLayerCpu, m.upgradeDnfCpu)],
    ]));
    console.log(`upgrade 20 (wall ms): layer ${JSON.stringify(up.layer)} dnf ${JSON.stringify(up.dnf)}`);
    if (beforeBin) {
      const [b, bc] = [median(prior.ms), median(prior.cpu)];
      console.log(`BENCH_BEFORE (${beforeBin}): wall ${Math.round(b)} ms (${ratio(b, m.upgradeDnf).toFixed(2)}x of dnf), CPU ${Math.round(bc)} ms (${ratio(bc, m.upgradeDnfCpu).toFixed(2)}x); stages: ${JSON.stringify(prior.stages)}`);
    }
    console.log(`stage timings of the last layer upgrade (ms): ${JSON.stringify(stages)}`);
    console.log(`wrote ${writeResult('upgrade-only', { runs: RUNS, medians: m, samples: { up }, stages })}`);
    if (process.env.BENCH_KEEP) {
      console.log(`kept: --sysroot ${sysroot} --reposdir ${after}; dnf root ${root}, cache ${cache}`);
      return;
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(join(sysroot, '..'), { recursive: true, force: true });
    return;
  }
  const check = { layer: [] as number[], dnf: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    check.layer.push(timed(...commandLine(BIN, ['upgrade', '--check', '--sysroot', sysroot, '--reposdir', after]), [0, 77]).ms);
    check.dnf.push(timed('dnf', dnf(root, after, 'check-update'), [0, 100]).ms);
  }

  const deb = execFileSync('bash', ['fixtures/deb63k/generate.sh'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
  console.log(`upgrade 20 (wall ms): layer ${JSON.stringify(up.layer)} dnf ${JSON.stringify(up.dnf)}; check demo: layer ${JSON.stringify(check.layer)} dnf ${JSON.stringify(check.dnf)}`);
  console.log(`stage timings of the last layer upgrade (ms): ${JSON.stringify(stages)}`);
  // The layered packages' repos stay enabled: their requests are solved again by the check.
  const big = reposDir(work, 'repos-63k', { base: f.base, deb: join(ROOT, deb), 'os-updates': osUpdate, ub: v1, 'ub-updates': v2 });
  // Twice: the first reads the XML, the second saves the solver pool snapshots later runs use.
  timed(...commandLine(BIN, ['upgrade', '--check', '--sysroot', sysroot, '--reposdir', big]), [0, 77]);
  timed(...commandLine(BIN, ['upgrade', '--check', '--sysroot', sysroot, '--reposdir', big]), [0, 77]);
  timed('dnf', dnf(root, big, 'check-update'), [0, 100]);
  const check63 = { layer: [] as number[], dnf: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    check63.layer.push(timed(...commandLine(BIN, ['upgrade', '--check', '--sysroot', sysroot, '--reposdir', big]), [0, 77]).ms);
    check63.dnf.push(timed('dnf', dnf(root, big, 'check-update'), [0, 100]).ms);
  }

  const med = (xs: number[]): number => (xs.length ? median(xs) : NaN);
  const m = {
    upgradeLayer: med(up.layer), upgradeDnf: med(up.dnf), upgradeLayerCpu: med(up.layerCpu), upgradeDnfCpu: med(up.dnfCpu),
    checkLayer: median(check.layer), checkDnf: median(check.dnf),
    check63Layer: median(check63.layer), check63Dnf: median(check63.dnf),
  };
  console.log(formatTable([`case (ms, median of ${RUNS})`, 'layer', 'dnf', 'layer/dnf'], [
    ['upgrade: base + 20 layered packages', m.upgradeLayer, m.upgradeDnf, ratio(m.upgradeLayer, m.upgradeDnf)],
    ['  same, CPU (user+sys, children)', m.upgradeLayerCpu, m.upgradeDnfCpu, ratio(m.upgradeLayerCpu, m.upgradeDnfCpu)],
    ['upgrade --check vs check-update, demo', m.checkLayer, m.checkDnf, ratio(m.checkLayer, m.checkDnf)],
    ['same, demo base + 63k repo', m.check63Layer, m.check63Dnf, ratio(m.check63Layer, m.check63Dnf)],
  ]));
  const targets = {
    upgradeAtMostDnf: m.upgradeLayer <= m.upgradeDnf, checkAtMostDnf: m.checkLayer <= m.checkDnf, check63AtMostDnf: m.check63Layer <= m.check63Dnf,
  };
  console.log(`targets: ${JSON.stringify(targets)}`);
  console.log(`wrote ${writeResult('upgrade', { runs: RUNS, medians: m, samples: { up, check, check63 }, stages, targets })}`);
  rmSync(work, { recursive: true, force: true });
  rmSync(join(sysroot, '..'), { recursive: true, force: true });
}

await main();
