/**
 * CLI test support: the built `layer` binary run as a subprocess, fixture repos (the demo's real
 * Debian binaries plus small test packages named for what they test), and a base sysroot made
 * once per test file with `layer init` and copied per test (`cp -a` keeps the hardlinks).
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildDemoFixtures } from '../../fixtures/demo/build.js';
import { mountsUnder } from '../../src/compose/scratch.js';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';
import { requireTool, rpmIn } from '../support/tools.js';
export { requireTool };

export const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(ROOT, 'dist/cli/main.js');


function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return m;
}

/** Build dist/ with tsc when any src file is newer than dist/cli/main.js (one builder at a time). */
export function ensureBuilt(): void {
  const lock = join(ROOT, '.cache/cli-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  for (let i = 0; i < 600; i++) {
    const fresh = existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'));
    if (fresh) return;
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      execFileSync('sleep', ['0.2']);
      continue;
    }
    try {
      // tsc exits non-zero on type errors elsewhere in the tree but still emits; main.js must exist.
      spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
      if (!existsSync(MAIN)) throw new Error('npx tsc did not produce dist/cli/main.js');
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error('timed out waiting for another test worker to build dist/');
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function layer(args: string[], opts: { env?: Record<string, string> } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync('node', [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `layer ARGS` as a child process without blocking this process's event loop (a fixture server
 * may run in it, or other runs should overlap); `bin`: another entry than dist/cli/main.js.
 */
export function layerAsync(args: string[], opts: { bin?: string } = {}): Promise<Run> {
  const child = spawn('node', [opts.bin ?? MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

/** `layer --json`, parsed; fails the test with stderr when the exit status is not `expect`. */
export function layerJson<T = any>(args: string[], expect = 0): T {
  const r = layer([...args, '--json']);
  if (r.code !== expect) throw new Error(`layer ${args.join(' ')} exited ${r.code} (expected ${expect}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `layer ARGS`, which must exit 0: its stdout (else the test fails with stderr). */
export function layerOk(args: string[]): string {
  const r = layer(args);
  if (r.code !== 0) throw new Error(`layer ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/**
 * The upgrade tests' two starting points: `plain`, a recipe base composed from `reposdir`, and
 * `layered`, a copy with `layeredPkgs` installed and booted.
 */
export function recipeSysroots(reposdir: string, recipe: readonly string[], layeredPkgs: readonly string[], tag: string): { plain: string; layered: string } {
  const plain = join(tempDir(`${tag}plain`), 'sysroot');
  layerOk(['init', '--sysroot', plain, '--osname', 'demo', '--reposdir', reposdir, ...recipe]);
  const layered = cloneSysroot(plain, `${tag}layered`);
  layerOk(['install', '--sysroot', layered, '--reposdir', reposdir, ...layeredPkgs]);
  layerOk(['boot-pending', '--sysroot', layered]);
  return { plain, layered };
}

/** Test packages: names say what they test. */
const TEST_PACKAGES: FixtureSpec[] = [
  { name: 'with-weak', requires: ['dep-a'], recommends: ['weak-b'], files: [{ path: '/usr/share/with-weak/README', content: 'with-weak\n' }] },
  { name: 'dep-a', files: [{ path: '/usr/share/dep-a/README', content: 'dep-a\n' }] },
  { name: 'weak-b', files: [{ path: '/usr/share/weak-b/README', content: 'weak-b\n' }] },
  { name: 'conflicts-with-base', conflicts: ['bash'], files: [{ path: '/usr/share/cwb/README', content: 'x\n' }] },
  { name: 'needs-missing', requires: ['no-such-capability'], files: [{ path: '/usr/share/nm/README', content: 'x\n' }] },
  { name: 'ships-etc', files: [{ path: '/etc/ships-etc.conf', content: 'default=1\n', config: 'noreplace' }] },
  { name: 'many-deps', requires: Array.from({ length: 20 }, (_, i) => `many-dep${String(i + 1).padStart(2, '0')}`), files: [{ path: '/usr/share/many-deps/README', content: 'x\n' }] },
  ...Array.from({ length: 20 }, (_, i): FixtureSpec => {
    const n = `many-dep${String(i + 1).padStart(2, '0')}`;
    return { name: n, files: [{ path: `/usr/share/${n}/data`, content: `${n}\n`.repeat(200) }] };
  }),
];

const LOCAL_PACKAGE: FixtureSpec = {
  name: 'local-tool', requires: ['bash'],
  files: [{ path: '/usr/bin/local-tool', content: '#!/bin/bash\necho local-tool works\n', mode: 0o755 }],
};

export interface Fixtures {
  base: string;
  updates: string;
  extra: string;
  localRpm: string;
  /** A repos dir with base, updates and extra as file:// repos. */
  reposdir: string;
}

let fixtures: Promise<Fixtures> | undefined;

export function testFixtures(): Promise<Fixtures> {
  fixtures ??= (async () => {
    requireTool('rpmbuild', 'rpm');
    requireTool('createrepo_c', 'createrepo-c');
    const demo = await buildDemoFixtures();
    const cache = join(ROOT, '.cache/cli-fixtures');
    const rpms = await Promise.all(TEST_PACKAGES.map((s) => buildRpm(s)));
    const localRpm = await buildRpm(LOCAL_PACKAGE);
    // Keyed by the packages (buildRpm's paths carry their content hash); published by rename.
    const extra = join(cache, `extra-${createHash('sha256').update(rpms.join('\n')).digest('hex').slice(0, 16)}`);
    if (!existsSync(join(extra, 'repodata/repomd.xml'))) {
      const tmp = `${extra}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      // buildRpm names every file package.rpm (in per-hash dirs): give each its own name first.
      const named = join(tmp, '.in');
      mkdirSync(named, { recursive: true });
      const files = rpms.map((r, i) => {
        const to = join(named, `${TEST_PACKAGES[i]!.name}-1.0-1.noarch.rpm`);
        copyFileSync(r, to);
        return to;
      });
      makeRepo(tmp, files, { args: ['--excludes', '.in/*'] });
      rmSync(named, { recursive: true, force: true });
      try {
        renameSync(tmp, extra);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // a concurrent worker published it first
      }
    }
    const reposdir = tempDir('repos');
    writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: demo.base, updates: demo.updates, extra }));
    return { base: demo.base, updates: demo.updates, extra, localRpm, reposdir };
  })();
  return fixtures;
}

export function repoFile(repos: Record<string, string>): string {
  return Object.entries(repos).map(([id, dir]) => `[${id}]\nname=${id}\nbaseurl=${dir.startsWith('http') ? dir : `file://${dir}`}\ngpgcheck=0\nmetadata_expire=-1\n`).join('\n');
}

const created: string[] = [];

/** A temp dir removed by `removeTempDirs` (kept with LAYER_KEEP_TEST_DIRS=1, to inspect a failure). */
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `layer-cli-${tag}-`));
  created.push(d);
  return d;
}

export function removeTempDirs(): void {
  if (process.env.LAYER_KEEP_TEST_DIRS === '1') return;
  for (const d of created.splice(0)) {
    // A test that killed layer during scriptlets may have left its overlay mounted in there.
    for (const m of mountsUnder(d)) spawnSync('umount', ['-l', m]);
    rmSync(d, { recursive: true, force: true });
  }
}

export const BASE_PACKAGES = ['filesystem', 'setup', 'demo-release', 'bash', 'coreutils', 'libc-bin'];

/** `layer init` into a fresh directory; returns the sysroot path. */
export function initSysroot(f: Fixtures, tag = 'base'): string {
  const dir = join(tempDir(tag), 'sysroot');
  const r = layer(['init', '--sysroot', dir, '--osname', 'demo', '--reposdir', f.reposdir, ...BASE_PACKAGES]);
  if (r.code !== 0) throw new Error(`layer init failed (${r.code}):\n${r.stderr}`);
  return dir;
}

/** A private copy of a sysroot (hardlinks between repo objects and deployments kept). */
export function cloneSysroot(src: string, tag = 'copy'): string {
  const dir = join(tempDir(tag), 'sysroot');
  execFileSync('cp', ['-a', src, dir]);
  return dir;
}

export function ostreeFsck(sysroot: string): string {
  requireTool('ostree');
  return execFileSync('ostree', [`--repo=${join(sysroot, 'ostree/repo')}`, 'fsck'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The NEVRAs of deployment 0 of `sysroot` that are not in deployment 0 of `base`, read by real rpm from the trees, sorted. */
export function layeredByRpm(sysroot: string, base: string): string[] {
  const nevras = (s: string) => rpmIn(layerJson(['status', '--sysroot', s]).deployments[0].path, ['-qa', '--qf', '%{NEVRA}\\n']).stdout.split('\n').filter(Boolean);
  const baseSet = new Set(nevras(base));
  return nevras(sysroot).filter((n) => !baseSet.has(n)).sort();
}

/**
 * A createrepo_c repo of `specs` (built with rpmbuild, each file named by `fileName`) and two
 * reposdirs for the dnf-oracle tests: layer's (the demo base repo and it) and dnf's (it alone:
 * dnf's installroot starts empty and the fixture packages need nothing from the base).
 */
export async function oracleRepos(
  f: Fixtures, tag: string, specs: FixtureSpec[], fileName: (s: FixtureSpec) => string,
): Promise<{ reposdir: string; dnfReposdir: string }> {
  const stage = tempDir(`${tag}-stage`);
  const rpms: string[] = [];
  for (const s of specs) {
    const to = join(stage, fileName(s));
    copyFileSync(await buildRpm(s), to);
    rpms.push(to);
  }
  const repo = tempDir(`${tag}-repo`);
  makeRepo(repo, rpms);
  const reposdir = tempDir(`${tag}-reposdir`);
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, req: repo }));
  const dnfReposdir = tempDir(`${tag}-dnf-reposdir`);
  writeFileSync(join(dnfReposdir, 'req.repo'), repoFile({ req: repo }));
  return { reposdir, dnfReposdir };
}
