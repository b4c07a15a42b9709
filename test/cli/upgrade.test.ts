/**
 * `layer upgrade` through the CLI (issue 12) on fixture repos in versions v1 → v2 → v3
 * (test/support/upgrade-fixtures.ts): recipe bases and OSTree-ref bases, with and without
 * layered packages. The preview must be the truth: every previewed diff is compared with
 * `layer db diff` after the real upgrade.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../support/http-server.js';
import { mulberry32 as prng } from '../support/prng.js';
import { LAYERED, RECIPE, upgradeRepos, upRepoFile, type UpgradeRepos } from '../support/upgrade-fixtures.js';
import { cloneSysroot, ensureBuilt, layer, layerAsync, layerJson, MAIN, ostreeFsck, removeTempDirs, requireTool, tempDir, layerOk, recipeSysroots } from './helpers.js';

let repos: UpgradeRepos;
/** Repo dirs: one `up.repo` per fixture version. */
const rd: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' };
/** A recipe base on v1 (booted), and the same with LAYERED layered and booted. */
let plain: string;
let layered: string;

function reposdir(url: string): string {
  const d = tempDir('repos');
  writeFileSync(join(d, 'up.repo'), upRepoFile(url));
  return d;
}

function readOrigin(deploymentPath: string): string {
  return readFileSync(`${deploymentPath}.origin`, 'utf8');
}

const ok = layerOk;

beforeAll(async () => {
  ensureBuilt();
  requireTool('ostree');
  repos = await upgradeRepos();
  for (const v of ['v1', 'v2', 'v3'] as const) rd[v] = reposdir(repos[v]);
  ({ plain, layered } = recipeSysroots(rd.v1, RECIPE, LAYERED, ''));
}, 300_000);

afterAll(() => removeTempDirs());

type Diff = { upgraded: { from: string; to: string }[]; downgraded: { from: string; to: string }[]; removed: string[]; added: string[] };

const sorted = (d: Diff): Diff => ({
  upgraded: [...d.upgraded].sort((a, b) => a.from.localeCompare(b.from)),
  downgraded: [...d.downgraded].sort((a, b) => a.from.localeCompare(b.from)),
  removed: [...d.removed].sort(), added: [...d.added].sort(),
});

/** `upgrade --preview --json`, the real upgrade, then `db diff` old default → new default: the same diff. */
function previewThenUpgrade(s: string, dir: string, extra: string[] = []): { preview: Diff; real: Diff } {
  const before = layerJson(['status', '--sysroot', s]).deployments[0];
  const preview = layerJson(['upgrade', '--preview', '--sysroot', s, '--reposdir', dir, ...extra]);
  expect(preview.outcome).toBe('available');
  const up = layerJson(['upgrade', '--sysroot', s, '--reposdir', dir, ...extra]);
  expect(up.outcome).toBe('deployed');
  const after = layerJson(['status', '--sysroot', s]).deployments[0];
  const real = layerJson(['db', 'diff', '--sysroot', s, before.id.replace(/^[^-]+-/, ''), after.id.replace(/^[^-]+-/, '')]);
  expect(sorted(up['rpm-diff'])).toEqual(sorted(real));
  return { preview: sorted(preview['rpm-diff']), real: sorted(real) };
}

describe('recipe base', () => {
  it('nothing new: "No upgrade available.", exit 0; 77 with --unchanged-exit-77; --check says "No updates available." and exits 77', () => {
    const s = cloneSysroot(plain, 'none');
    const r = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v1]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('No upgrade available.\n');
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v1, '--unchanged-exit-77']).code).toBe(77);
    const c = layer(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v1]);
    expect(c.code).toBe(77);
    expect(c.stdout).toBe('No updates available.\n');
    expect(layerJson(['status', '--sysroot', s]).deployments).toHaveLength(1);
  });

  it('without layered packages: --check prints the AvailableUpdate block; the preview equals db diff after the upgrade', () => {
    const s = cloneSysroot(plain, 'recipe');
    const c = layer(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v2]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^AvailableUpdate:\n {8}Version: \d{8}\.1 \(.*Z\)\n {2}SecAdvisories: 1 critical, 1 moderate, 1 unknown\n {11}Diff: 1 upgraded, 1 downgraded, 1 removed, 2 added\n$/);
    const { preview, real } = previewThenUpgrade(s, rd.v2);
    expect(real).toEqual(preview);
    expect(real).toEqual({
      upgraded: [{ from: 'up-core-1.0-1.noarch', to: 'up-core-1.1-1.noarch' }],
      downgraded: [{ from: 'up-down-2.0-1.noarch', to: 'up-down-1.0-1.noarch' }],
      removed: ['up-old-1.0-1.noarch'],
      added: ['up-extra-1.0-1.noarch', 'up-new-2.0-1.noarch'],
    });
    const d = layerJson(['status', '--sysroot', s]).deployments;
    // The new base commit is the deployment; its version follows the old one's (YYYYMMDD.N).
    expect(d[0]['base-checksum']).toBe(d[0].checksum);
    expect(d[0].version).toMatch(/^\d{8}\.1$/);
    expect(d[1].version).toMatch(/^\d{8}\.0$/);
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2, '--unchanged-exit-77']).code).toBe(77);
    ostreeFsck(s);
  });

  it('with layered packages: base and layered changes (obsoletes, a new dependency, downgrades) previewed exactly', () => {
    const s = cloneSysroot(layered, 'recipe-layered');
    const { preview, real } = previewThenUpgrade(s, rd.v2);
    expect(real).toEqual(preview);
    expect(real).toEqual({
      upgraded: [{ from: 'up-core-1.0-1.noarch', to: 'up-core-1.1-1.noarch' }, { from: 'up-tool-1.0-1.noarch', to: 'up-tool-1.1-1.noarch' }],
      downgraded: [{ from: 'up-down-2.0-1.noarch', to: 'up-down-1.0-1.noarch' }, { from: 'up-other-1.0-1.noarch', to: 'up-other-0.9-1.noarch' }],
      removed: ['up-old-1.0-1.noarch', 'up-plugin-1.0-1.noarch'],
      added: ['up-extra-1.0-1.noarch', 'up-helper-1.0-1.noarch', 'up-new-2.0-1.noarch', 'up-plugin2-2.0-1.noarch'],
    });
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    // The layered requests are carried; the base is a new commit composed from the recipe alone.
    expect(d['requested-packages']).toEqual(LAYERED);
    expect(d['base-checksum']).not.toBe(d.checksum);
    expect([...d['layered-nevras']].sort()).toEqual(['up-helper-1.0-1.noarch', 'up-other-0.9-1.noarch', 'up-plugin2-2.0-1.noarch', 'up-tool-1.1-1.noarch']);
    // The real rpm agrees with the new tree's database.
    const q = execFileSync('rpm', ['--root', d.path, '--dbpath', '/usr/lib/sysimage/rpm', '-q', 'up-core', 'up-tool'], { encoding: 'utf8' });
    expect(q).toBe('up-core-1.1-1.noarch\nup-tool-1.1-1.noarch\n');
    // dnf as the oracle of a recomposition: the recipe and the layered requests installed from
    // nothing by dnf into an empty installroot give the same package set as the upgraded tree.
    requireTool('dnf');
    const root = join(tempDir('dnf-oracle'), 'root');
    execFileSync('dnf', ['--installroot', root, `--setopt=reposdir=${rd.v2}`, `--setopt=cachedir=${join(root, '..', 'cache')}`, '--releasever=12',
      '--nogpgcheck', '-q', '-y', 'install', ...RECIPE, ...LAYERED], { stdio: ['ignore', 'ignore', 'pipe'] });
    const dnfSet = execFileSync('rpm', ['--root', root, '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n'], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(layerJson(['db', 'list', '--sysroot', s]).packages.sort()).toEqual(dnfSet);
    ostreeFsck(s);
  });

  it('a local .rpm layered on a recipe base is carried through the upgrade; preview == db diff', () => {
    const s = cloneSysroot(plain, 'local');
    ok(['install', '--sysroot', s, '--reposdir', rd.v1, join(repos.v1, 'up-tool-1.0-1.noarch.rpm')]);
    ok(['boot-pending', '--sysroot', s]);
    const { preview, real } = previewThenUpgrade(s, rd.v2);
    expect(real).toEqual(preview);
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['requested-local-packages']).toEqual(['up-tool-1.0-1.noarch']);
    expect(layerJson(['db', 'list', '--sysroot', s]).packages).toEqual(expect.arrayContaining(['up-tool-1.0-1.noarch', 'up-core-1.1-1.noarch']));
  });

  it('the plain text output: the package diff, then the next step as install prints it', () => {
    const s = cloneSysroot(layered, 'text');
    const events = join(tempDir('events'), 'events.jsonl');
    const r = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2, '--events', events]);
    expect(r.code, r.stderr).toBe(0);
    // The coded events: the composed tree checked against the preview, then the outcome.
    const codes = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string; data?: Record<string, unknown> });
    expect(codes.find((e) => e.code === 'upgrade.preview-verified')?.data).toEqual({ packages: 9 });
    expect(codes.find((e) => e.code === 'upgrade.deployed')?.data).toMatchObject({ 'base-kind': 'recipe', upgraded: 2, downgraded: 2, removed: 2, added: 4 });
    expect(r.stdout).toMatch(/^Upgraded:\n {2}up-core-1\.0-1\.noarch -> up-core-1\.1-1\.noarch\n/);
    expect(r.stdout).toContain('Removed:\n  up-old-1.0-1.noarch\n  up-plugin-1.0-1.noarch\n');
    expect(r.stdout).toMatch(/Run "layer boot-pending --sysroot .*" .* or "layer rollback" to undo\.\n$/);
  });

  it('--version sets the composed commits\' version; --install changes the requests in the same transaction', () => {
    const s = cloneSysroot(plain, 'version');
    const up = layerJson(['upgrade', '--version', '42.1', '--install', 'up-other', '--sysroot', s, '--reposdir', rd.v2]);
    expect(up.outcome).toBe('deployed');
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['requested-packages']).toEqual(['up-other']);
    // The layered commit carries its base's version.
    expect(d.version).toBe('42.1');
    expect(d['base-checksum']).not.toBe(d.checksum);
    expect(layerJson(['db', 'list', '--sysroot', s]).packages).toEqual(expect.arrayContaining(['up-other-0.9-1.noarch', 'up-core-1.1-1.noarch']));
    // A later install on that base keeps the base's version.
    ok(['install', '--sysroot', s, '--reposdir', rd.v2, 'up-tool']);
    expect(layerJson(['status', '--sysroot', s]).deployments[0].version).toBe('42.1');
  });

  it('v3: a layered package that conflicts with the new base is a clear error naming both; the deployment is untouched', () => {
    const s = cloneSysroot(layered, 'conflict');
    const before = layerJson(['status', '--sysroot', s]).deployments;
    for (const args of [['--check'], []]) {
      const r = layer(['upgrade', ...args, '--sysroot', s, '--reposdir', rd.v3]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/up-tool-2\.0-1\.noarch conflicts with up-core >= 1\.2 provided by up-core-1\.2-1\.noarch.*\[LAYER_UNSOLVABLE\]/);
    }
    expect(layerJson(['status', '--sysroot', s]).deployments).toEqual(before);
    ostreeFsck(s);
  });

  it('the cached update: --check stores it, status and status --json show it under its deployment; the upgrade clears it', () => {
    const s = cloneSysroot(layered, 'cached');
    expect(layerJson(['status', '--sysroot', s])['cached-update']).toBeNull();
    const c = layerJson(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v2]);
    const st = layerJson(['status', '--sysroot', s]);
    const u = st['cached-update'];
    expect(u).toEqual(c['cached-update']);
    expect(u.deployment).toBe(st.deployments[0].checksum);
    expect(u.checksum).toBeNull(); // a recipe base: its commit is composed by the upgrade
    expect(u.version).toMatch(/^\d{8}\.1$/);
    expect(u['ref-has-new-commit']).toBe(true);
    expect(u['update-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(u['rpm-diff'].upgraded).toHaveLength(2);
    // Security advisories of each severity that the update fixes; not the bugfix one, not the one for
    // up-lib 1.0 (installed already); an unknown severity stays "unknown".
    expect(u.advisories.map((a: { id: string; severity: string }) => [a.id, a.severity])).toEqual([
      ['UP-2026-0001', 'Critical'], ['UP-2026-0002', 'Important'], ['UP-2026-0003', 'Moderate'], ['UP-2026-0004', 'Low'], ['UP-2026-0005', 'unknown'],
    ]);
    expect(u.advisories[1]).toMatchObject({ cves: ['CVE-2026-0002'], packages: [{ name: 'up-tool', version: '1.1', release: '1', arch: 'noarch' }] });
    const text = ok(['status', '--sysroot', s]);
    expect(text).toMatch(
      /\(booted\)\n(.*\n)*? {2}AvailableUpdate:\n {10}Version: \d{8}\.1 .*\n {4}SecAdvisories: 1 critical, 1 important, 1 moderate, 1 low, 1 unknown\n {13}Diff: 2 upgraded, 2 downgraded, 2 removed, 4 added\n/,
    );
    const preview = ok(['upgrade', '--preview', '--sysroot', s, '--reposdir', rd.v2]);
    expect(preview).toContain('  SecAdvisories:\n    UP-2026-0001  Critical  up-core-1.1-1.noarch\n      CVE-2026-0001\n    UP-2026-0002  Important  up-tool-1.1-1.noarch\n');
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    expect(layerJson(['status', '--sysroot', s])['cached-update']).toBeNull();
    // db diff --advisories: what the old deployment was open to and the new one fixes.
    const adv = layerJson(['db', 'diff', '--advisories', '--sysroot', s, '--reposdir', rd.v2]);
    expect(adv.advisories.map((a: { id: string }) => a.id)).toEqual(['UP-2026-0001', 'UP-2026-0002', 'UP-2026-0003', 'UP-2026-0004', 'UP-2026-0005']);
    expect(ok(['db', 'diff', '--advisories', '--sysroot', s, '--reposdir', rd.v2])).toContain('  UP-2026-0004  Low  up-tool-1.1-1.noarch\n    CVE-2026-0004\n');
  });

  it('rollback after an upgrade: the old deployment is the default again, with its packages', () => {
    const s = cloneSysroot(layered, 'rollback');
    const old = layerJson(['status', '--sysroot', s]).deployments[0];
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    ok(['rollback', '--sysroot', s]);
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d.checksum).toBe(old.checksum);
    expect(layerJson(['db', 'list', '--sysroot', s]).packages).toContain('up-core-1.0-1.noarch');
  });
});

async function jsonAsync(args: string[]): Promise<any> {
  const r = await layerAsync([...args, '--json']);
  if (r.code !== 0) throw new Error(`layer ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('over HTTP', () => {
  it('--check downloads no package and writes no deployment; --download-only then -C upgrades with the server gone', async () => {
    const server = await new FaultServer(repos.v2).start();
    try {
      const s = cloneSysroot(layered, 'http');
      const dir = reposdir(server.url);
      const rpms = () => server.requests.filter((r) => r.endsWith('.rpm'));
      const before = layerJson(['status', '--sysroot', s]).deployments;
      const c = await layerAsync(['upgrade', '--check', '--sysroot', s, '--reposdir', dir]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/^AvailableUpdate:\n/);
      expect(rpms()).toEqual([]);
      expect(server.count('repomd.xml')).toBeGreaterThan(0);
      expect(layerJson(['status', '--sysroot', s]).deployments).toEqual(before);
      const preview = await jsonAsync(['upgrade', '--preview', '--sysroot', s, '--reposdir', dir]);
      expect(rpms()).toEqual([]);
      const dl = await layerAsync(['upgrade', '--download-only', '--sysroot', s, '--reposdir', dir]);
      expect(dl.code, dl.stderr).toBe(0);
      expect(rpms().length).toBeGreaterThan(0);
      expect(layerJson(['status', '--sysroot', s]).deployments).toEqual(before);
      await server.stop();
      // Air-gapped: the network is gone; cached metadata and packages only.
      const up = layerJson(['upgrade', '-C', '--sysroot', s, '--reposdir', dir]);
      expect(up.outcome).toBe('deployed');
      expect(sorted(up['rpm-diff'])).toEqual(sorted(preview['rpm-diff']));
      ostreeFsck(s);
    } finally {
      await server.stop().catch(() => {});
    }
  });
});

describe('OSTree-ref base', () => {
  /** A source sysroot whose `demo/base` ref the other one follows; upgrading the source moves the ref. */
  function pair(tag: string): { src: string; s: string } {
    const src = cloneSysroot(plain, `${tag}-src`);
    const s = join(tempDir(tag), 'sysroot');
    ok(['init', '--sysroot', s, '--osname', 'os', '--from-ostree', `${join(src, 'ostree/repo')}:demo/base`, '--reposdir', rd.v1, 'up-tool', 'up-other']);
    return { src, s };
  }

  it('the ref\'s newest commit, layered packages re-solved: Version and Commit in --check; preview == db diff; nothing new → 77', () => {
    const { src, s } = pair('ref');
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v1, '--unchanged-exit-77']).code).toBe(77);
    ok(['upgrade', '--sysroot', src, '--reposdir', rd.v2]);
    const newBase = layerJson(['status', '--sysroot', src]).deployments[0].checksum;
    const c = layer(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v2]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(`         Commit: ${newBase}\n`);
    expect(c.stdout).toMatch(/ {8}Version: \d{8}\.1 \(/);
    const { preview, real } = previewThenUpgrade(s, rd.v2);
    expect(real).toEqual(preview);
    expect(real.upgraded).toContainEqual({ from: 'up-tool-1.0-1.noarch', to: 'up-tool-1.1-1.noarch' });
    expect(real.added).toContain('up-helper-1.0-1.noarch');
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['base-checksum']).toBe(newBase);
    expect(d.version).toMatch(/^\d{8}\.1$/);
    expect(layer(['upgrade', '--check', '--sysroot', s, '--reposdir', rd.v2]).code).toBe(77);
    ostreeFsck(s);
  });

  it('downgrade protection: an older commit is refused with rpm-ostree\'s message; --allow-downgrade permits it', async () => {
    const { src, s } = pair('downgrade');
    const old = layerJson(['status', '--sysroot', src]).deployments[0].checksum;
    await new Promise((r) => setTimeout(r, 1100)); // commit timestamps are in seconds
    ok(['upgrade', '--sysroot', src, '--reposdir', rd.v2]);
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    // The ref moves back (a mirror serving an old commit).
    execFileSync('ostree', [`--repo=${join(src, 'ostree/repo')}`, 'refs', '--force', '--create=demo/base', old]);
    const before = layerJson(['status', '--sysroot', s]).deployments;
    const r = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v1]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Upgrade target revision '${old}' with timestamp '.*' is chronologically older than current revision '[0-9a-f]{64}' with timestamp '.*'; use --allow-downgrade to permit \\[LAYER_DOWNGRADE\\]`));
    expect(layerJson(['status', '--sysroot', s]).deployments).toEqual(before);
    const up = layerJson(['upgrade', '--allow-downgrade', '--sysroot', s, '--reposdir', rd.v1]);
    expect(up.outcome).toBe('deployed');
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['base-checksum']).toBe(old);
  });
});

describe('deploy and rebase', () => {
  function follower(src: string, tag: string): string {
    const s = join(tempDir(tag), 'sysroot');
    ok(['init', '--sysroot', s, '--osname', 'os', '--from-ostree', `${join(src, 'ostree/repo')}:demo/base`, '--reposdir', rd.v1, 'up-tool']);
    return s;
  }

  it('deploy version=V and deploy CHECKSUM: the layered packages re-solved on the chosen commit; the pin holds until --unpin', () => {
    const src = cloneSysroot(plain, 'deploy-src');
    const s = follower(src, 'deploy');
    const v1 = layerJson(['status', '--sysroot', src]).deployments[0];
    ok(['upgrade', '--sysroot', src, '--reposdir', rd.v2]);
    const v2 = layerJson(['status', '--sysroot', src]).deployments[0];
    // The recomposed base continues the ref's history: its parent is the old base.
    const parent = execFileSync('ostree', [`--repo=${join(src, 'ostree/repo')}`, 'rev-parse', `${v2.checksum}^`], { encoding: 'utf8' }).trim();
    expect(parent).toBe(v1.checksum);
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['base-checksum']).toBe(v2.checksum);

    const r = layerJson(['deploy', `version=${v1.version}`, '--sysroot', s, '--reposdir', rd.v2]);
    expect(r.outcome).toBe('deployed');
    let d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['base-checksum']).toBe(v1.checksum);
    expect(d['requested-packages']).toEqual(['up-tool']);
    expect(layerJson(['db', 'list', '--sysroot', s]).packages).toEqual(expect.arrayContaining(['up-core-1.0-1.noarch', 'up-tool-1.1-1.noarch']));
    expect(readOrigin(d.path)).toContain(`override-commit=${v1.checksum}`);
    const pinned = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toMatch(/^Pinned to commit; no upgrade available/);
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2, '--unchanged-exit-77']).code).toBe(77);

    ok(['deploy', '--unpin', '--sysroot', s, '--reposdir', rd.v2]);
    d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['base-checksum']).toBe(v2.checksum);
    expect(readOrigin(d.path)).not.toContain('override-commit');

    ok(['deploy', v1.checksum, '--sysroot', s, '--reposdir', rd.v2]);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['base-checksum']).toBe(v1.checksum);
    const bad = layer(['deploy', 'version=no-such', '--sysroot', s, '--reposdir', rd.v2]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("no commit in the ref's history has version no-such");
    // A recipe base's history is its own ref's (test/cli/deploy-recipe.test.ts deploys from it).
    expect(layer(['deploy', 'version=no-such', '--sysroot', src]).stderr).toMatch(/demo\/base: no commit in the ref's history has version no-such \[LAYER_USAGE\]/);
    ostreeFsck(s);
  });

  it('rebase REPO:REF: another ref as the base, the layered requests carried, a pin dropped', () => {
    const src = cloneSysroot(plain, 'rebase-src');
    const other = cloneSysroot(plain, 'rebase-other');
    ok(['upgrade', '--sysroot', other, '--reposdir', rd.v2]);
    const target = layerJson(['status', '--sysroot', other]).deployments[0].checksum;
    const s = follower(src, 'rebase');
    ok(['deploy', layerJson(['status', '--sysroot', src]).deployments[0].checksum, '--sysroot', s, '--reposdir', rd.v1]);
    const ref = `${join(other, 'ostree/repo')}:demo/base`;
    const r = layerJson(['rebase', ref, '--sysroot', s, '--reposdir', rd.v2]);
    expect(r.outcome).toBe('deployed');
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(readOrigin(d.path)).not.toContain('override-commit');
    expect(d.origin).toBe(ref);
    expect(d['base-checksum']).toBe(target);
    expect(d['requested-packages']).toEqual(['up-tool']);
    expect(d['layered-nevras']).toEqual(expect.arrayContaining(['up-tool-1.1-1.noarch', 'up-helper-1.0-1.noarch']));
    // A recipe base can be rebased onto a ref too; its layered requests come along.
    const l = cloneSysroot(layered, 'rebase-recipe');
    ok(['rebase', ref, '--sysroot', l, '--reposdir', rd.v2]);
    const ld = layerJson(['status', '--sysroot', l]).deployments[0];
    expect(ld['base-checksum']).toBe(target);
    expect(ld['requested-packages']).toEqual(LAYERED);
    // The next upgrade follows the new ref: nothing new there.
    expect(layer(['upgrade', '--sysroot', l, '--reposdir', rd.v2, '--unchanged-exit-77']).code).toBe(77);
  });
});

describe('db diff --format', () => {
  it('block, diff and json layouts of the same upgrade', () => {
    const s = cloneSysroot(layered, 'formats');
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    const block = ok(['db', 'diff', '--format=block', '--sysroot', s]);
    expect(block).toMatch(/^ostree diff commit from: demo [0-9a-f]{64}\.\d\nostree diff commit to: {3}demo [0-9a-f]{64}\.\d\n/);
    expect(block).toContain('Upgraded:\n  up-core 1.0-1 -> 1.1-1\n  up-tool 1.0-1 -> 1.1-1\n');
    expect(block).toContain('Downgraded:\n  up-down 2.0-1 -> 1.0-1\n');
    expect(block).toContain('Removed:\n  up-old-1.0-1.noarch\n');
    const diff = ok(['db', 'diff', '--format=diff', '--sysroot', s]).split('\n');
    expect(diff).toEqual(expect.arrayContaining(['!up-core-1.0-1.noarch', '=up-core-1.1-1.noarch', '-up-old-1.0-1.noarch', '+up-new-2.0-1.noarch']));
    expect(diff.indexOf('=up-core-1.1-1.noarch')).toBe(diff.indexOf('!up-core-1.0-1.noarch') + 1);
    const json = JSON.parse(ok(['db', 'diff', '--format=json', '--sysroot', s]));
    expect(json.pkgdiff).toContainEqual(['up-core', 2, { PreviousPackage: ['up-core', '1.0-1', 'noarch'], NewPackage: ['up-core', '1.1-1', 'noarch'] }]);
    expect(json.pkgdiff).toContainEqual(['up-down', 3, { PreviousPackage: ['up-down', '2.0-1', 'noarch'], NewPackage: ['up-down', '1.0-1', 'noarch'] }]);
    expect(json.pkgdiff).toContainEqual(['up-old', 1, { PreviousPackage: ['up-old', '1.0-1', 'noarch'] }]);
    expect(json.pkgdiff).toContainEqual(['up-new', 0, { NewPackage: ['up-new', '2.0-1', 'noarch'] }]);
    expect(json.pkgdiff).toHaveLength(10);
    expect(layer(['db', 'diff', '--format=yaml', '--sysroot', s]).code).toBe(2);
  });
});

describe('crash safety', () => {
  it('SIGKILL at 12 points during an upgrade leaves the old default or the complete new one', async () => {
    const seed = Number(process.env.LAYER_KILL_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    // Calibrate on a copy: how long a whole upgrade takes here.
    const cal = cloneSysroot(layered, 'kill-cal');
    const t0 = performance.now();
    ok(['upgrade', '--sysroot', cal, '--reposdir', rd.v2]);
    // Re-measured by every complete upgrade below: the machine's load changes during the run.
    let full = performance.now() - t0;
    console.log(`upgrade kill test: seed ${seed}, full upgrade ${Math.round(full)} ms`);
    const outcomes = { old: 0, new: 0 };
    for (let i = 0; i < 12; i++) {
      const s = cloneSysroot(layered, `kill-${i}`);
      const old = layerJson(['status', '--sysroot', s]).deployments[0];
      // Spread over the whole run and past it (the swap and cleanup come last).
      const delay = Math.round(((i + rand()) / 12) * full * 1.5);
      const child = spawn('node', [MAIN, 'upgrade', '--sysroot', s, '--reposdir', rd.v2], { stdio: 'ignore' });
      const done = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await done;
      const d = layerJson(['status', '--sysroot', s]).deployments[0];
      const pkgs: string[] = layerJson(['db', 'list', '--sysroot', s]).packages;
      if (d.checksum === old.checksum) {
        outcomes.old++;
        expect(pkgs, `kill at ${delay} ms`).toContain('up-core-1.0-1.noarch');
      } else {
        outcomes.new++;
        expect(pkgs, `kill at ${delay} ms`).toContain('up-core-1.1-1.noarch');
        expect(pkgs).toContain('up-tool-1.1-1.noarch');
        expect(d['requested-packages']).toEqual(LAYERED);
      }
      ostreeFsck(s);
      // The next upgrade finishes the job (or finds nothing new).
      const t1 = performance.now();
      const next = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
      if (!next.stdout.startsWith('No upgrade available')) full = performance.now() - t1;
      expect(next.code, `after a kill at ${delay} ms: ${next.stderr}`).toBe(0);
      expect(layerJson(['db', 'list', '--sysroot', s]).packages).toContain('up-tool-1.1-1.noarch');
    }
    console.log(`upgrade kill test outcomes: ${JSON.stringify(outcomes)}`);
  }, 300_000);
});
