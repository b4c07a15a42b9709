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
 * v2 and v3 publish an updateinfo.xml (added by the real modifyrepo_c): security advisories of
 * each severity for up-core 1.1 and up-tool 1.1, one with a severity libsolv does not know, a
 * bugfix advisory (not security), and one for up-lib 1.0 (already installed: does not apply).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

const advisory = (id: string, type: string, severity: string, pkg: [string, string], cve: string) => `  <update from="up@example.org" status="stable" type="${type}" version="1">
    <id>${id}</id>
    <title>${id}: ${pkg[0]} update</title>
    <severity>${severity}</severity>
    <issued date="2026-11-01 00:00:00"/>
    <references>
      <reference href="https://cve.example.org/${cve}" id="${cve}" type="cve" title="${cve}"/>
      <reference href="https://bugs.example.org/1" id="1" type="bugzilla" title="bug 1"/>
    </references>
    <description>fixes ${cve}</description>
    <pkglist>
      <collection short="up">
        <name>up</name>
        <package name="${pkg[0]}" version="${pkg[1]}" release="1" epoch="0" arch="noarch" src="${pkg[0]}-${pkg[1]}-1.src.rpm">
          <filename>${pkg[0]}-${pkg[1]}-1.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
`;

export const UPDATEINFO = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
${advisory('UP-2026-0001', 'security', 'Critical', ['up-core', '1.1'], 'CVE-2026-0001')}${advisory('UP-2026-0002', 'security', 'Important', ['up-tool', '1.1'], 'CVE-2026-0002')}\
${advisory('UP-2026-0003', 'security', 'Moderate', ['up-core', '1.1'], 'CVE-2026-0003')}${advisory('UP-2026-0004', 'security', 'Low', ['up-tool', '1.1'], 'CVE-2026-0004')}\
${advisory('UP-2026-0005', 'security', 'Urgent', ['up-core', '1.1'], 'CVE-2026-0005')}${advisory('UP-2026-0006', 'bugfix', 'None', ['up-core', '1.1'], 'CVE-2026-0006')}\
${advisory('UP-2026-0007', 'security', 'Important', ['up-lib', '1.0'], 'CVE-2026-0007')}</updates>
`;

/** A repo of `specs` built once (cached by content under .cache/upgrade-fixtures/TAG-HASH). */
export async function fixtureRepo(tag: string, specs: FixtureSpec[], updateinfo?: string): Promise<string> {
  const rpms = await Promise.all(specs.map((s) => buildRpm(s)));
  const dir = join(ROOT, '.cache/upgrade-fixtures', `${tag}-${createHash('sha256').update(rpms.join('\n') + (updateinfo ?? '')).digest('hex').slice(0, 16)}`);
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
  if (updateinfo !== undefined) {
    const xml = join(tmp, 'updateinfo.xml');
    writeFileSync(xml, updateinfo);
    execFileSync('modifyrepo_c', ['--mdtype=updateinfo', xml, join(tmp, 'repodata')], { stdio: ['ignore', 'ignore', 'pipe'] });
    rmSync(xml);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker published it first
  }
  return dir;
}

export async function upgradeRepos(): Promise<UpgradeRepos> {
  return { v1: await fixtureRepo('v1', V1), v2: await fixtureRepo('v2', V2, UPDATEINFO), v3: await fixtureRepo('v3', V3, UPDATEINFO) };
}

/** A repo file for one repo id `up` at `url` (a directory or http URL), always refreshed. */
export function upRepoFile(url: string): string {
  return `[up]\nname=up\nbaseurl=${url.startsWith('http') ? url : `file://${url}`}\ngpgcheck=0\nmetadata_expire=0\n`;
}
