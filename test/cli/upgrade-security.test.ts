/**
 * `layer upgrade --security` and `--advisory ID` through the CLI (issue 12), with dnf 4.14 as
 * the oracle: the same v1 install is upgraded by `dnf --installroot upgrade --security` (or
 * `--advisory`) on the same fixture repos, and the final package sets must be equal (for an
 * OSTree-ref base, whose image is taken whole, the layered packages). The repos
 * are laid out as a distribution's are: the release repo (v1) beside an updates repo (v2, and
 * v3 for a newer version than the advisory lists).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpDom, schemaErrors } from '../support/report-oracles.js';
import { LAYERED, RECIPE, upgradeRepos, upRepoFile, type UpgradeRepos } from '../support/upgrade-fixtures.js';
import { cloneSysroot, ensureBuilt, layer, layerJson, ostreeFsck, removeTempDirs, requireTool, tempDir, layerOk, recipeSysroots } from './helpers.js';

let repos: UpgradeRepos;
/** Repo dirs: the release repo alone, with the v2 updates, with the v2 and v3 updates, v2 alone. */
const rd = { v1: '', v12: '', v123: '', v2: '' };
let plain: string;
let layered: string;

/** A reposdir with one repo file per fixture version, ids `up` (v1), `up-v2`, `up-v3`. */
function reposdir(versions: ('v1' | 'v2' | 'v3')[]): string {
  const d = tempDir('sec-repos');
  for (const v of versions) writeFileSync(join(d, `${v}.repo`), upRepoFile(repos[v]).replace('[up]', v === 'v1' ? '[up]' : `[up-${v}]`));
  return d;
}

const ok = layerOk;

beforeAll(async () => {
  ensureBuilt();
  requireTool('ostree');
  requireTool('dnf');
  repos = await upgradeRepos();
  Object.assign(rd, { v1: reposdir(['v1']), v12: reposdir(['v1', 'v2']), v123: reposdir(['v1', 'v2', 'v3']), v2: reposdir(['v2']) });
  ({ plain, layered } = recipeSysroots(rd.v1, RECIPE, LAYERED, 'sec-'));
}, 300_000);

afterAll(() => removeTempDirs());

/** dnf's answer: `names` installed from the release repo, then `dnf VERB ARGS` on `dir`'s repos; the final NEVRAs. */
function dnfUpgrade(names: string[], dir: string, args: string[], verb = 'upgrade'): { set: string[]; out: string } {
  const root = join(tempDir('sec-dnf'), 'root');
  const dnf = (reposDir: string, a: string[]) => execFileSync('dnf', ['--installroot', root, `--setopt=reposdir=${reposDir}`,
    `--setopt=cachedir=${join(root, '..', 'cache')}`, '--releasever=12', '--nogpgcheck', '-y', ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  dnf(rd.v1, ['-q', 'install', ...names]);
  const out = dnf(dir, [verb, ...args]);
  const set = execFileSync('rpm', ['--root', root, '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n'], { encoding: 'utf8' }).trim().split('\n').sort();
  return { set, out };
}

const dbList = (s: string): string[] => (layerJson(['db', 'list', '--sysroot', s]).packages as string[]).sort();

type Diff = { upgraded: { from: string; to: string }[]; downgraded: { from: string; to: string }[]; removed: string[]; added: string[] };

/** The four lists of a diff, each sorted (the preview and db diff may list them in another order). */
const sorted = (d: Diff): Diff => ({
  upgraded: [...d.upgraded].sort((a, b) => a.from.localeCompare(b.from)),
  downgraded: [...d.downgraded].sort((a, b) => a.from.localeCompare(b.from)),
  removed: [...d.removed].sort(), added: [...d.added].sort(),
});

/** `--preview --json`, the real upgrade, and `db diff` of the two defaults: the preview must be the truth. */
function previewThenUpgrade(s: string, dir: string, flags: string[]): Diff {
  const before = layerJson(['status', '--sysroot', s]).deployments[0];
  const preview = layerJson(['upgrade', '--preview', '--sysroot', s, '--reposdir', dir, ...flags]);
  expect(preview.outcome).toBe('available');
  const up = layerJson(['upgrade', '--sysroot', s, '--reposdir', dir, ...flags]);
  expect(up.outcome).toBe('deployed');
  const after = layerJson(['status', '--sysroot', s]).deployments[0];
  const d = layerJson(['db', 'diff', '--sysroot', s, before.id.replace(/^[^-]+-/, ''), after.id.replace(/^[^-]+-/, '')]);
  const real = sorted(d);
  expect(real).toEqual(sorted(preview['rpm-diff']));
  return real;
}

describe('upgrade --security', () => {
  it('a security fix among non-security updates: only the advisories\' packages move (and their new dependencies), as dnf', () => {
    const s = cloneSysroot(layered, 'sec-mixed');
    const c = layer(['upgrade', '--check', '--security', '--sysroot', s, '--reposdir', rd.v12]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('Diff: 2 upgraded, 2 added\n');
    const diff = previewThenUpgrade(s, rd.v12, ['--security']);
    // v2 also downgrades up-down and up-other and obsoletes up-old and up-plugin: none of it is security.
    expect(diff).toEqual({
      upgraded: [{ from: 'up-core-1.0-1.noarch', to: 'up-core-1.1-1.noarch' }, { from: 'up-tool-1.0-1.noarch', to: 'up-tool-1.1-1.noarch' }],
      downgraded: [], removed: [], added: ['up-extra-1.0-1.noarch', 'up-helper-1.0-1.noarch'],
    });
    const dnf = dnfUpgrade([...RECIPE, ...LAYERED], rd.v12, ['--security']);
    expect(dbList(s)).toEqual(dnf.set);
    // Nothing more to take: 77 as for any upgrade with nothing new.
    expect(layer(['upgrade', '--security', '--unchanged-exit-77', '--sysroot', s, '--reposdir', rd.v12]).code).toBe(77);
    ostreeFsck(s);
  });

  it('the newest version at least as new as the advisory\'s, not the advisory\'s own (dnf upgrade, not upgrade-minimal)', () => {
    const s = cloneSysroot(plain, 'sec-newest');
    const diff = previewThenUpgrade(s, rd.v123, ['--security']);
    expect(diff).toEqual({ upgraded: [{ from: 'up-core-1.0-1.noarch', to: 'up-core-1.2-1.noarch' }], downgraded: [], removed: [], added: ['up-extra-1.0-1.noarch'] });
    expect(dbList(s)).toEqual(dnfUpgrade(RECIPE, rd.v123, ['--security']).set);
  });

  it('a kept version no enabled repo has any more: a clear one-line error, the deployment untouched', () => {
    const s = cloneSysroot(plain, 'sec-gone');
    const before = layerJson(['status', '--sysroot', s]).deployments;
    const r = layer(['upgrade', '--security', '--sysroot', s, '--reposdir', rd.v2]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: upgrade restricted to advisories: cannot install .*up-down.*\[LAYER_UNSOLVABLE\]$/m);
    expect(r.stderr).toContain('enable the release repo beside the updates repo');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(layerJson(['status', '--sysroot', s]).deployments).toEqual(before);
  });
});

describe('upgrade --advisory', () => {
  it('one advisory id: only its package moves, as dnf upgrade --advisory', () => {
    const s = cloneSysroot(layered, 'adv-one');
    const diff = previewThenUpgrade(s, rd.v12, ['--advisory', 'UP-2026-0002']);
    expect(diff).toEqual({ upgraded: [{ from: 'up-tool-1.0-1.noarch', to: 'up-tool-1.1-1.noarch' }], downgraded: [], removed: [], added: ['up-helper-1.0-1.noarch'] });
    expect(dbList(s)).toEqual(dnfUpgrade([...RECIPE, ...LAYERED], rd.v12, ['--advisory', 'UP-2026-0002']).set);
  });

  it('--report records the restriction in report.json (schema-valid) and shows it under the verdict', () => {
    const s = cloneSysroot(layered, 'adv-report');
    const out = tempDir('adv-report-out');
    const r = layer(['upgrade', '--advisory', 'UP-2026-0002', '--report', out, '--sysroot', s, '--reposdir', rd.v12]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(doc.restriction).toEqual({ security: false, advisories: ['UP-2026-0002'], scope: 'all' });
    expect(schemaErrors(join(out, 'report.json'))).toEqual([]);
    expect(dumpDom(join(out, 'report.html'))).toContain('Restricted to advisories UP-2026-0002.');
  });

  it('repeated or a comma list: the same; a bugfix advisory named by id counts too', () => {
    const a = cloneSysroot(layered, 'adv-rep');
    const b = cloneSysroot(layered, 'adv-comma');
    ok(['upgrade', '--sysroot', a, '--reposdir', rd.v12, '--advisory', 'UP-2026-0006', '--advisory', 'UP-2026-0002']);
    ok(['upgrade', '--sysroot', b, '--reposdir', rd.v12, '--advisory=UP-2026-0006,UP-2026-0002']);
    const dnf = dnfUpgrade([...RECIPE, ...LAYERED], rd.v12, ['--advisory', 'UP-2026-0006', '--advisory', 'UP-2026-0002']);
    expect(dbList(a)).toEqual(dnf.set);
    expect(dbList(b)).toEqual(dnf.set);
    expect(dnf.set).toContain('up-core-1.1-1.noarch');
  });
});

describe('nothing applicable', () => {
  it('"No upgrade available." (exit 0; 77 with --unchanged-exit-77); --check "No updates available." (77); dnf does nothing either', () => {
    const s = cloneSysroot(plain, 'adv-none');
    // up-tool's advisory does not apply to a tree without up-tool.
    const r = layer(['upgrade', '--advisory', 'UP-2026-0002', '--sysroot', s, '--reposdir', rd.v12]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('No upgrade available.\n');
    expect(layer(['upgrade', '--advisory', 'UP-2026-0002', '--unchanged-exit-77', '--sysroot', s, '--reposdir', rd.v12]).code).toBe(77);
    const c = layer(['upgrade', '--check', '--advisory', 'UP-2026-0002', '--sysroot', s, '--reposdir', rd.v12]);
    expect(c.code).toBe(77);
    expect(c.stdout).toBe('No updates available.\n');
    // The release repo alone publishes no updateinfo: no security advisory applies.
    expect(layer(['upgrade', '--security', '--unchanged-exit-77', '--sysroot', s, '--reposdir', rd.v1]).code).toBe(77);
    // An id no repo publishes: a warning naming it, nothing upgraded (dnf: "Nothing to do.").
    const u = layer(['upgrade', '--advisory', 'NOPE-1', '--sysroot', s, '--reposdir', rd.v12]);
    expect(u.code).toBe(0);
    expect(u.stdout).toBe('No upgrade available.\n');
    expect(u.stderr).toContain('no enabled repo publishes advisory NOPE-1');
    const dnf = dnfUpgrade(RECIPE, rd.v12, ['--advisory', 'UP-2026-0002']);
    expect(dnf.out).toContain('Nothing to do.');
    expect(dbList(s)).toEqual(dnf.set);
    expect(layerJson(['status', '--sysroot', s]).deployments).toHaveLength(1);
  });
});

/** The packages of `set` whose names the deployment's base does not have: the layered set, as names go. */
const layeredOf = (set: readonly string[], base: readonly string[]): string[] => {
  const names = new Set(base.map((n) => n.replace(/-[^-]+-[^-]+$/, '')));
  return set.filter((n) => !names.has(n.replace(/-[^-]+-[^-]+$/, ''))).sort();
};

describe('an OSTree-ref base: the image taken whole, the layered packages restricted', () => {
  /** A sysroot following `src`'s `demo/base` (a recipe base on the release repo), LAYERED on it. */
  function follower(tag: string): { src: string; s: string } {
    const src = cloneSysroot(plain, `${tag}-src`);
    const s = join(tempDir(tag), 'sysroot');
    ok(['init', '--sysroot', s, '--osname', 'os', '--from-ostree', `${join(src, 'ostree/repo')}:demo/base`, '--reposdir', rd.v1, ...LAYERED]);
    return { src, s };
  }

  it('--security: the base moves to the ref\'s newest commit; the layered packages only as far as advisories require, as dnf; cached as "security only"', () => {
    const { src, s } = follower('ref-sec');
    // The image's publisher moves the ref: v2 in full (up-core 1.1, up-old obsoleted, up-down 1.0).
    ok(['upgrade', '--sysroot', src, '--reposdir', rd.v2]);
    const newBase = layerJson(['status', '--sysroot', src]).deployments[0].checksum as string;
    const before = layerJson(['status', '--sysroot', s]).deployments[0];
    const c = layer(['upgrade', '--check', '--security', '--sysroot', s, '--reposdir', rd.v12]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^AvailableUpdate \(security only\):\n {8}Version: \d{8}\.1 \(.*Z\)\n/);
    expect(c.stdout).toContain(`         Commit: ${newBase}\n`);
    expect(c.stdout).toContain('Note: the base moved to its ref\'s newest commit whole');
    const cached = layerJson(['status', '--sysroot', s])['cached-update'];
    expect(cached.restriction).toEqual({ security: true, advisories: [], scope: 'layered' });
    expect(ok(['status', '--sysroot', s])).toContain('  AvailableUpdate (security only):\n');
    const preview = layerJson(['upgrade', '--preview', '--security', '--sysroot', s, '--reposdir', rd.v12]);
    expect(preview.restriction).toEqual({ security: true, advisories: [], scope: 'layered' });
    const up = layer(['upgrade', '--security', '--sysroot', s, '--reposdir', rd.v12]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^Note: the base moved to its ref's newest commit whole \(an image's packages are its publisher's\); the advisory restriction \(security only\) applied to the layered packages\.\n/);
    const after = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(after['base-checksum']).toBe(newBase);
    expect(layerJson(['status', '--sysroot', s])['cached-update']).toBeNull();
    // The preview is the upgrade.
    const real = layerJson(['db', 'diff', '--sysroot', s, before.id.replace(/^[^-]+-/, ''), after.id.replace(/^[^-]+-/, '')]);
    expect(sorted(real)).toEqual(sorted(preview['rpm-diff']));
    // Layered: up-tool to 1.1 (UP-2026-0002) with its new dependency; up-other keeps 1.0 and
    // up-plugin is not replaced by its obsoleter: no advisory lists them.
    // The base's packages: the source sysroot's default is the base commit itself (nothing layered).
    const base = dbList(src);
    expect(base).toContain('up-core-1.1-1.noarch');
    const mine = layeredOf(dbList(s), base);
    expect(mine).toEqual(['up-helper-1.0-1.noarch', 'up-other-1.0-1.noarch', 'up-plugin-1.0-1.noarch', 'up-tool-1.1-1.noarch']);
    // dnf upgrade --security of the same v1 install: the same layered packages (names of neither
    // base: dnf keeps up-old, which the new image dropped for its obsoleter).
    expect(layeredOf(dnfUpgrade([...RECIPE, ...LAYERED], rd.v12, ['--security']).set, [...base, ...dbList(plain)])).toEqual(mine);
    // Unrestricted, the same host would take the obsoleter: the restriction is what kept up-plugin.
    const free = cloneSysroot(s, 'ref-sec-free');
    ok(['rollback', '--sysroot', free]);
    ok(['upgrade', '--sysroot', free, '--reposdir', rd.v12]);
    expect(layeredOf(dbList(free), base)).toContain('up-plugin2-2.0-1.noarch');
    expect(layer(['upgrade', '--security', '--unchanged-exit-77', '--sysroot', s, '--reposdir', rd.v12]).code).toBe(77);
    ostreeFsck(s);
  });

  it('--advisory on an unchanged base: only its package moves (no note, the base stays), as dnf; nothing applicable: 77', () => {
    const { src, s } = follower('ref-adv');
    const base = dbList(src);
    const baseCommit = layerJson(['status', '--sysroot', s]).deployments[0]['base-checksum'];
    const none = layer(['upgrade', '--check', '--advisory', 'UP-2026-0001', '--sysroot', s, '--reposdir', rd.v12]);
    // up-core's advisory: a base package; the image decides it, the layered set has nothing to take.
    expect(none.code).toBe(77);
    expect(none.stdout).toBe('No updates available.\n');
    const c = layer(['upgrade', '--check', '--advisory', 'UP-2026-0002', '--sysroot', s, '--reposdir', rd.v12]);
    expect(c.code, c.stderr).toBe(0);
    // Both of up-tool 1.1's security advisories are fixed by it (UP-2026-0002 and UP-2026-0004).
    expect(c.stdout).toBe('AvailableUpdate (advisory UP-2026-0002 only):\n  SecAdvisories: 1 important, 1 low\n           Diff: 1 upgraded, 1 added\n');
    const up = layer(['upgrade', '--advisory', 'UP-2026-0002', '--sysroot', s, '--reposdir', rd.v12]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).not.toContain('Note:');
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['base-checksum']).toBe(baseCommit);
    const mine = layeredOf(dbList(s), base);
    expect(mine).toEqual(['up-helper-1.0-1.noarch', 'up-other-1.0-1.noarch', 'up-plugin-1.0-1.noarch', 'up-tool-1.1-1.noarch']);
    expect(layeredOf(dnfUpgrade([...RECIPE, ...LAYERED], rd.v12, ['--advisory', 'UP-2026-0002']).set, base)).toEqual(mine);
  });
});

describe('the cached update records its restriction', () => {
  it('--check --security: status shows "AvailableUpdate (security only):"; --advisory names the ids; a later unrestricted --check replaces it', () => {
    const s = cloneSysroot(layered, 'cached-sec');
    const sec = layerJson(['upgrade', '--check', '--security', '--sysroot', s, '--reposdir', rd.v12], 0);
    expect(sec['cached-update'].restriction).toEqual({ security: true, advisories: [], scope: 'all' });
    let st = layerJson(['status', '--sysroot', s]);
    expect(st['cached-update']).toEqual(sec['cached-update']);
    expect(ok(['status', '--sysroot', s])).toMatch(/\(booted\)\n(.*\n)*? {2}AvailableUpdate \(security only\):\n {10}Version: .*\n {4}SecAdvisories: .*\n {13}Diff: 2 upgraded, 2 added\n/);
    const both = layer(['upgrade', '--check', '--security', '--advisory', 'UP-2026-0006,UP-2026-0002', '--sysroot', s, '--reposdir', rd.v12]);
    expect(both.stdout).toMatch(/^AvailableUpdate \(security and advisories UP-2026-0006, UP-2026-0002 only\):\n/);
    expect(layerJson(['status', '--sysroot', s])['cached-update'].restriction).toEqual({ security: true, advisories: ['UP-2026-0006', 'UP-2026-0002'], scope: 'all' });
    // Unrestricted: the whole update (downgrades and obsoletes too) replaces the restricted one.
    const all = layerJson(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v12], 0);
    st = layerJson(['status', '--sysroot', s]);
    expect(st['cached-update']).toEqual(all['cached-update']);
    expect(st['cached-update'].restriction).toBeNull();
    const text = ok(['status', '--sysroot', s]);
    expect(text).toMatch(/\(booted\)\n(.*\n)*? {2}AvailableUpdate:\n/);
    expect(text).not.toContain('only):');
    expect(st['cached-update']['rpm-diff'].removed).toContain('up-plugin-1.0-1.noarch');
  });
});

describe('a recipe upgrade that removes a package (obsoleted in v2), against dnf', () => {
  it('up-new obsoletes up-old: removed and replaced as dnf upgrade does; the whole set equals dnf distro-sync', () => {
    const s = cloneSysroot(plain, 'obs');
    const diff = previewThenUpgrade(s, rd.v2, []);
    expect(diff.removed).toEqual(['up-old-1.0-1.noarch']);
    expect(diff.added).toContain('up-new-2.0-1.noarch');
    // dnf upgrade replaces up-old by its obsoleter too (it keeps up-down 2.0, which v2 no longer has).
    const upgraded = dnfUpgrade(RECIPE, rd.v2, []);
    expect(upgraded.set).not.toContain('up-old-1.0-1.noarch');
    expect(upgraded.set).toContain('up-new-2.0-1.noarch');
    // A recipe base is composed again from the repos: the versions the repos have now, which is
    // what dnf distro-sync gives (up-down back to 1.0, the one v2 has).
    const synced = dnfUpgrade(RECIPE, rd.v2, [], 'distro-sync');
    expect(dbList(s)).toEqual(synced.set);
  });
});
