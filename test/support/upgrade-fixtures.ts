/**
 * Fixture repos in versions for the upgrade tests (issue 12): v1 → v2 → v3 of one repo, each
 * its own directory, built once per machine from rpmbuild packages (cached by content).
 *
 * Base set (the recipe `up-core up-lib up-old up-down`):
 *   v1: up-core 1.0, up-lib 1.0, up-old 1.0, up-down 2.0
 *   v2: up-core 1.1 (upgraded; needs the new up-extra: added), up-new 2.0 (obsoletes and
 *       provides up-old: removed-by-obsoletes), up-down 1.0 only (downgraded)
 *   v3: up-core 1.2
 * Layered set (`up-tool up-other up-plugin`):
 *   v1: up-tool 1.0 (needs up-lib), up-other 1.0, up-plugin 1.0
 *   v2: up-tool 1.1 (upgraded; a new dependency up-helper), up-other 0.9 only (downgraded),
 *       up-plugin2 2.0 (obsoletes and provides up-plugin)
 *   v3: up-tool 2.0, which conflicts with up-core >= 1.2 (the new base): unsolvable.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { makeRepo } from './createrepo.js';
import { buildRpm, type FixtureSpec } from './rpmbuild.js';

const file = (name: string, v: string) => [{ path: `/usr/share/${name}/version`, content: `${name} ${v}\n` }];
const pkg = (name: string, version: string, more: Partial<FixtureSpec> = {}): FixtureSpec => ({ name, version, release: '1', files: file(name, version), ...more });

export const RECIPE = ['up-core', 'up-lib', 'up-old', 'up-down'];
export const LAYERED = ['up-tool', 'up-other', 'up-plugin'];

const V1: FixtureSpec[] = [
  pkg('up-core', '1.0'), pkg('up-lib', '1.0'), pkg('up-old', '1.0'), pkg('up-down', '2.0'),
  pkg('up-tool', '1.0', { requires: ['up-lib'] }), pkg('up-other', '1.0'), pkg('up-plugin', '1.0'),
];
const V2_COMMON: FixtureSpec[] = [
  pkg('up-extra', '1.0'), pkg('up-lib', '1.0'),
  pkg('up-new', '2.0', { provides: ['up-old = 2.0'], obsoletes: ['up-old < 2.0'] }),
  pkg('up-down', '1.0'), pkg('up-helper', '1.0'), pkg('up-other', '0.9'),
  pkg('up-plugin2', '2.0', { provides: ['up-plugin = 2.0'], obsoletes: ['up-plugin < 2.0'] }),
];
const V2: FixtureSpec[] = [...V2_COMMON, pkg('up-core', '1.1', { requires: ['up-extra'] }), pkg('up-tool', '1.1', { requires: ['up-lib', 'up-helper'] })];
const V3: FixtureSpec[] = [
  ...V2_COMMON, pkg('up-core', '1.2', { requires: ['up-extra'] }),
  pkg('up-tool', '2.0', { requires: ['up-lib', 'up-helper'], conflicts: ['up-core >= 1.2'] }),
];

export interface UpgradeRepos {
  v1: string;
  v2: string;
  v3: string;
}

const ROOT = resolve(import.meta.dirname, '../..');

async function repo(tag: string, specs: FixtureSpec[]): Promise<string> {
  const rpms = await Promise.all(specs.map((s) => buildRpm(s)));
  const dir = join(ROOT, '.cache/upgrade-fixtures', `${tag}-${createHash('sha256').update(rpms.join('\n')).digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'repodata/repomd.xml'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const named = join(tmp, '.in');
  mkdirSync(named, { recursive: true });
  const files = rpms.map((r, i) => {
    const s = specs[i] as FixtureSpec;
    const to = join(named, `${s.name}-${s.version ?? '1.0'}-1.noarch.rpm`);
    copyFileSync(r, to);
    return to;
  });
  makeRepo(tmp, files, { args: ['--excludes', '.in/*'] });
  rmSync(named, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker published it first
  }
  return dir;
}

export async function upgradeRepos(): Promise<UpgradeRepos> {
  return { v1: await repo('v1', V1), v2: await repo('v2', V2), v3: await repo('v3', V3) };
}

/** A repo file for one repo id `up` at `url` (a directory or http URL), always refreshed. */
export function upRepoFile(url: string): string {
  return `[up]\nname=up\nbaseurl=${url.startsWith('http') ? url : `file://${url}`}\ngpgcheck=0\nmetadata_expire=0\n`;
}
