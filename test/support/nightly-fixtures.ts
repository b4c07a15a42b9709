/**
 * Fixtures for nightly upgrade testing (issue 13): a workload package `nightly-app` in three
 * versions beside the upgrade fixtures' v1 → v2 → v3 (upgrade-fixtures.ts), and per version a
 * repos dir with the demo's real Debian base (a shell for smoke commands and checks), the `up`
 * repo and the app repo.
 *
 *   v1, v2: nightly-app's required health check passes; v2's %post prints hostile text
 *           (`<script>`, an ESC sequence) that the HTML report must show escaped.
 *   v3:     the check fails ("schema 3 unsupported" on stderr, exit 1): the workload breaks.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { buildDemoFixtures } from '../../fixtures/demo/build.js';
import { makeRepo } from './createrepo.js';
import { buildRpm, type FixtureSpec } from './rpmbuild.js';
import { upgradeRepos, type UpgradeRepos } from './upgrade-fixtures.js';

export const APP_CHECK = '50-nightly-app';
export const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>\u001b[31m';

const app = (version: string, check: string, post?: string): FixtureSpec => ({
  name: 'nightly-app', version, release: '1',
  files: [
    { path: '/usr/bin/nightly-app', content: `#!/bin/sh\necho "nightly-app ${version}"\n`, mode: 0o755 },
    { path: `/etc/layer/health.d/required/${APP_CHECK}`, content: `#!/bin/sh\n${check}\n`, mode: 0o755 },
  ],
  ...(post ? { scripts: { post } } : {}),
});

const APP: Record<keyof UpgradeRepos, FixtureSpec> = {
  v1: app('1.0', 'echo "nightly-app answers"'),
  v2: app('2.0', 'echo "nightly-app answers"', `echo 'migrating ${HOSTILE}'`),
  v3: app('3.0', 'echo "nightly-app: loading config"\necho "nightly-app: config schema 3 unsupported" >&2\nexit 1'),
};

const ROOT = resolve(import.meta.dirname, '../..');

async function appRepo(tag: string, spec: FixtureSpec): Promise<string> {
  const rpm = await buildRpm(spec);
  const dir = join(ROOT, '.cache/nightly-fixtures', `${tag}-${createHash('sha256').update(rpm).digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'repodata/repomd.xml'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, '.in'), { recursive: true });
  const named = join(tmp, '.in', `nightly-app-${spec.version ?? '1.0'}-1.noarch.rpm`);
  copyFileSync(rpm, named);
  makeRepo(tmp, [named], { args: ['--excludes', '.in/*'] });
  rmSync(join(tmp, '.in'), { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

export interface NightlyRepos {
  /** A repos dir (base, updates, up, app) per version. */
  reposdir: Record<keyof UpgradeRepos, string>;
}

/** Repos dirs under `into`, one per version. */
export async function nightlyRepos(into: string): Promise<NightlyRepos> {
  const demo = await buildDemoFixtures();
  const up = await upgradeRepos();
  const reposdir = { v1: '', v2: '', v3: '' };
  for (const v of ['v1', 'v2', 'v3'] as const) {
    const a = await appRepo(v, APP[v]);
    const d = join(into, `repos-${v}`);
    mkdirSync(d, { recursive: true });
    const repo = (id: string, dir: string) => `[${id}]\nname=${id}\nbaseurl=file://${dir}\ngpgcheck=0\nmetadata_expire=0\n`;
    writeFileSync(join(d, 'nightly.repo'), [repo('base', demo.base), repo('updates', demo.updates), repo('up', up[v]), repo('app', a)].join('\n'));
    reposdir[v] = d;
  }
  return { reposdir };
}
