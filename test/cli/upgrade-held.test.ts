/**
 * A held upgrade of a recipe base (issue 12/13): `layer upgrade --health-check` whose checks
 * fail leaves the new deployment held (exit 4) and the host's refs as they were: the local
 * `OSNAME/base` ref does not move to the rejected base, so its history (what `deploy
 * version=V` walks) holds only bases that became the default, and the next upgrade composes
 * on the old base again. Real `ostree rev-parse` / `ostree log` read the refs.
 *
 * Fixtures: the nightly repos (test/support/nightly-fixtures.ts): the demo's Debian base (a
 * shell for the checks), the `up` repo, and `nightly-app`, whose required health check fails
 * in v3. Two shapes, because the base ref is moved at two places: the app in the recipe (the
 * recomposed base is the deployment) and the app layered on the recipe base.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CHECK, nightlyRepos, type NightlyRepos } from '../support/nightly-fixtures.js';
import { BASE_PACKAGES, cloneSysroot, ensureBuilt, layer, layerJson, layerOk, ostreeFsck, removeTempDirs, requireTool, tempDir } from './helpers.js';

let repos: NightlyRepos;
/** A recipe base with nightly-app in the recipe, and one with nightly-app layered on it. */
let inRecipe: string;
let layered: string;

beforeAll(async () => {
  ensureBuilt();
  requireTool('ostree');
  requireTool('bwrap', 'bubblewrap');
  repos = await nightlyRepos(tempDir('held-repos'));
  inRecipe = join(tempDir('held-recipe'), 'sysroot');
  layerOk(['init', '--sysroot', inRecipe, '--osname', 'demo', '--reposdir', repos.reposdir.v1, ...BASE_PACKAGES, 'up-core', 'nightly-app']);
  layered = join(tempDir('held-layered'), 'sysroot');
  layerOk(['init', '--sysroot', layered, '--osname', 'demo', '--reposdir', repos.reposdir.v1, ...BASE_PACKAGES, 'up-core']);
  layerOk(['install', '--sysroot', layered, '--reposdir', repos.reposdir.v1, 'nightly-app']);
  layerOk(['boot-pending', '--sysroot', layered]);
}, 600_000);

afterAll(() => removeTempDirs());

const ostree = (s: string, args: string[]) => execFileSync('ostree', [`--repo=${join(s, 'ostree/repo')}`, ...args], { encoding: 'utf8' });
/** The commits of `demo/base`'s history, newest first, as real `ostree log` lists them. */
const history = (s: string) => [...ostree(s, ['log', 'demo/base']).matchAll(/^commit ([0-9a-f]{64})$/gm)].map((m) => m[1]);
const deployments = (s: string) => layerJson(['status', '--sysroot', s]).deployments as { id: string; checksum: string; 'base-checksum': string; held?: boolean; version: string }[];

describe('a held upgrade of a recipe base', () => {
  for (const shape of ['in the recipe', 'layered'] as const) {
    it(`nightly-app ${shape}: the failed check leaves OSNAME/base where it was; the next upgrade composes on the old base and moves it`, () => {
      const s = cloneSysroot(shape === 'layered' ? layered : inRecipe, `held-${shape === 'layered' ? 'l' : 'r'}`);
      const before = deployments(s);
      const oldBase = ostree(s, ['rev-parse', 'demo/base']).trim();
      expect(oldBase).toBe(before[0]?.['base-checksum']);
      expect(history(s)).toEqual([oldBase]);

      // v3: up-core 1.2 and nightly-app 3.0, whose required health check fails.
      const r = layer(['upgrade', '--health-check', '--sysroot', s, '--reposdir', repos.reposdir.v3]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`required health check ${APP_CHECK} failed: exit 1`);
      const now = deployments(s);
      expect(now[0]?.id).toBe(before[0]?.id);
      const held = now.find((d) => d.held);
      expect(held).toBeDefined();
      // The held deployment has the recomposed base, but the ref stays on the default's.
      expect(held?.['base-checksum']).not.toBe(oldBase);
      expect(ostree(s, ['rev-parse', 'demo/base']).trim()).toBe(oldBase);
      expect(history(s)).toEqual([oldBase]);
      // deploy version=V walks the ref's history: the rejected base is not in it.
      const d = layer(['deploy', `version=${held?.version ?? ''}`, '--sysroot', s]);
      expect(d.code).toBe(2);
      expect(d.stderr).toContain(`demo/base: no commit in the ref's history has version ${held?.version ?? ''}`);
      // The held deployment's objects are whole (its base kept by the commit's parent or its deployment ref).
      ostreeFsck(s);

      // The next upgrade tries again from the old base; v2's checks pass: promoted, the ref moves.
      const up = layerJson(['upgrade', '--health-check', '--sysroot', s, '--reposdir', repos.reposdir.v2]);
      expect(up.outcome).toBe('deployed');
      expect(up.held).toBeUndefined();
      const after = deployments(s);
      expect(after.some((x) => x.held)).toBe(false);
      const newBase = after[0]?.['base-checksum'] ?? '';
      expect(newBase).not.toBe(oldBase);
      expect(ostree(s, ['rev-parse', 'demo/base']).trim()).toBe(newBase);
      // One step of history: the new base's parent is the old base, not the rejected one.
      expect(history(s)).toEqual([newBase, oldBase]);
      expect(layerJson(['db', 'list', '--sysroot', s]).packages).toEqual(expect.arrayContaining(['up-core-1.1-1.noarch', 'nightly-app-2.0-1.noarch']));
      ostreeFsck(s);
    }, 300_000);
  }
});
