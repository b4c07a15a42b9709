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
import { Store } from '../../src/store/index.js';
import type { ComposeRequest } from '../../src/compose/index.js';
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
