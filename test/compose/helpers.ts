/**
 * Shared setup of the compose tests: the demo repos (real Debian binaries as RPMs), a store,
 * RepoSets over file:// repos, and rpm/ostree oracles run against composed trees.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildDemoFixtures, type DemoFixtures } from '../../fixtures/demo/build.js';
import { parseRepoFile, RepoSet } from '../../src/repos/index.js';
import { silentReport } from '../../src/report.js';
import { Store, type Checksum } from '../../src/store/index.js';
import { afterEach, beforeEach } from 'vitest';
import { apply, composeTree, plan, type ComposeRequest, type ComposeResult } from '../../src/compose/index.js';
import type { ComposeOptions } from '../../src/compose/types.js';
import { LayerError } from '../../src/errors.js';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';

export const run = promisify(execFile);

export async function requireTools(tools: [cmd: string, pkg: string][]): Promise<void> {
  for (const [cmd, pkg] of tools) {
    await run('sh', ['-c', `command -v ${cmd}`]).catch(() => {
      throw new Error(`${cmd} is required: apt-get install ${pkg} (or bash scripts/setup.sh)`);
    });
  }
}

export const ARCH = 'x86_64';

let demo: Promise<DemoFixtures> | undefined;
export function demoRepos(): Promise<DemoFixtures> {
  demo ??= buildDemoFixtures();
  return demo;
}

/** A RepoSet over local repo directories: `{ id: dir }`. */
export function repoSetOf(dirs: Record<string, string>, cacheDir: string): RepoSet {
  const body = Object.entries(dirs).map(([id, dir]) => `[${id}]\nname=${id}\nbaseurl=file://${dir}\ngpgcheck=0\nmetadata_expire=0\n`).join('\n');
  return new RepoSet(parseRepoFile(body, 'test.repo', {}), { cacheDir, backoffMs: 5 });
}

export interface Workspace {
  dir: string;
  store: Store;
  cacheDir: string;
  cleanup(): Promise<void>;
}

export async function workspace(prefix = 'layer-compose-'): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const store = Store.init(join(dir, 'repo'), { fsync: false });
  return { dir, store, cacheDir: join(dir, 'cache'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A request with defaults filled in. */
export function request(ws: Workspace, repos: RepoSet, over: Partial<ComposeRequest>): ComposeRequest {
  return {
    store: ws.store, base: null, install: [], localRpms: [], remove: [], repos, arch: ARCH,
    cacheDir: ws.cacheDir, options: {}, report: silentReport, ...over,
  };
}

/** `rpm --root tree --dbpath /usr/lib/sysimage/rpm ARGS` (stdout). */
export async function rpmq(tree: string, args: string[]): Promise<string> {
  const { stdout } = await run('rpm', ['--root', tree, '--dbpath', '/usr/lib/sysimage/rpm', ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

/** SOURCE_DATE_EPOCH fixed for every test of the calling file (same inputs, same commit checksum), restored after each. */
export function fixedSourceDateEpoch(value = '1700000000'): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = value;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  });
}

/** A workspace whose store holds the demo base composed from its repo; `fixtures` published as a second repo. */
export async function demoBaseWorkspace(
  prefix: string, fixtures: FixtureSpec[],
): Promise<{ ws: Workspace; repos: Record<string, string>; base: ComposeResult; baseNames: string[] }> {
  const demo = await demoRepos();
  const ws = await workspace(prefix);
  const repos = { base: demo.base, fixtures: await fixtureRepo(join(ws.dir, 'fixtures'), fixtures) };
  const baseNames = demo.packages.filter((p) => p.repo === 'base').map((p) => p.name);
  const base = await composeTree(request(ws, repoSetOf({ base: demo.base }, join(ws.dir, 'md0')), { install: baseNames }));
  return { ws, repos, base, baseNames };
}

/** How an apply went: its commit, or the LayerError it ended with, and which path it took. */
export interface Outcome {
  commit?: Checksum;
  /** Built from objects (apply/direct.ts). */
  direct?: true;
  /** Only what ldconfig reads checked out (apply/partial.ts). */
  partial?: true;
  error?: string;
}

/**
 * Plan `install` on `baseCommit` ('' for a compose from nothing) once, then apply it twice:
 * with the whole tree checked out (`direct: false`) and as the engine does. The two commits of
 * the same plan must agree (SOURCE_DATE_EPOCH fixes the timestamp).
 */
export async function applyBothWays(
  ws: Workspace, repos: Record<string, string>, install: string[], baseCommit: Checksum | '', options: ComposeOptions = {},
): Promise<[full: Outcome, engine: Outcome]> {
  const repoSet = repoSetOf(repos, join(ws.dir, 'md'));
  const p = await plan(
    { baseRef: 'both-ways', baseCommit: baseCommit as Checksum, requested: install, requestedLocal: [], removed: [] },
    { store: ws.store, repos: repoSet, arch: ARCH, cacheDir: ws.cacheDir, options, report: silentReport },
  );
  const once = async (direct: boolean): Promise<Outcome> => {
    try {
      const r = await apply(p, { store: ws.store, repos: repoSet, cacheDir: ws.cacheDir, report: silentReport, direct });
      const how = { ...(r.direct ? { direct: r.direct } : {}), ...(r.partial ? { partial: r.partial } : {}) };
      return { ...(r.commit ? { commit: r.commit } : {}), ...how };
    } catch (err) {
      if (!(err instanceof LayerError)) throw err;
      return { error: `${err.code}: ${err.message}` };
    }
  };
  return [await once(false), await once(true)];
}

/** Real rpm's package names in a commit, from an `ostree checkout` of it. */
export async function rpmNames(ws: Workspace, commit: Checksum): Promise<string[]> {
  const dir = join(ws.dir, `co-${commit.slice(0, 12)}`);
  await run('ostree', [`--repo=${ws.store.path}`, 'checkout', commit, dir]);
  try {
    return (await rpmq(dir, ['-qa', '--qf', '%{NAME}\\n'])).split('\n').filter(Boolean).sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `ostree fsck` on the store: throws with its output when it is not clean. */
export async function ostreeFsck(store: Store): Promise<string> {
  const { stdout, stderr } = await run('ostree', ['fsck', `--repo=${store.path}`]);
  return stdout + stderr;
}

/** Build fixture packages and publish them as one rpm-md repo in `dir` (files named by NEVRA). */
export async function fixtureRepo(dir: string, specs: FixtureSpec[]): Promise<string> {
  const stage = `${dir}.stage`;
  await mkdir(stage, { recursive: true });
  const files: string[] = [];
  for (const spec of specs) {
    const built = await buildRpm(spec);
    const file = join(stage, `${spec.name}-${spec.version ?? '1.0'}-${spec.release ?? '1'}.${spec.arch ?? 'noarch'}.rpm`);
    await copyFile(built, file);
    files.push(file);
  }
  makeRepo(dir, files);
  await rm(stage, { recursive: true, force: true });
  return dir;
}
