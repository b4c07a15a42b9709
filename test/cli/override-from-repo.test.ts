/**
 * `layer override replace --from repo=NAME PKG` (rpm-ostree's `override replace --experimental
 * --from repo=NAME`), real rpm as the oracle: the base package is replaced by the version repo
 * NAME has (an upgrade that brings a new dependency, or a downgrade), `rpm -qa` and
 * `rpm -Va --nofiles` of the result agree, the origin and status record it, reset undoes it;
 * a package the base lacks, a repo that lacks it and an unknown repo are refused with the old
 * default kept; a replacement the base already satisfies is inactive, reported, not an error.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';
import { rpmIn } from '../support/tools.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, removeTempDirs, repoFile, tempDir, testFixtures } from './helpers.js';

const file = (path: string) => [{ path, content: `${path}\n` }];

/** demo-release 2.0 needs a package the base does not have (release-notes); the repo is `fresh`. */
const FRESH: FixtureSpec[] = [
  { name: 'demo-release', version: '2.0', provides: ['system-release', 'system-release(1)'], requires: ['setup', 'release-notes'], files: file('/usr/share/demo-release-2/v') },
  { name: 'release-notes', files: file('/usr/share/release-notes/v') },
];
/** An older demo-release, alone in repo `vault`. */
const OLD: FixtureSpec = { name: 'demo-release', version: '0.5', provides: ['system-release', 'system-release(1)'], requires: ['setup'], files: file('/usr/share/demo-release-0.5/v') };

let base: string;
let reposdir: string;

beforeAll(async () => {
  ensureBuilt();
  const f = await testFixtures();
  base = initSysroot(f, 'ovr-repo');
  const stage = tempDir('ovr-repo-stage');
  const rpms: string[] = [];
  for (const s of FRESH) {
    const to = join(stage, `${s.name}-${s.version ?? '1.0'}-1.noarch.rpm`);
    copyFileSync(await buildRpm(s), to);
    rpms.push(to);
  }
  const fresh = tempDir('ovr-repo-fresh');
  makeRepo(fresh, rpms);
  const vault = tempDir('ovr-repo-vault');
  const old = join(stage, 'demo-release-0.5-1.noarch.rpm');
  copyFileSync(await buildRpm(OLD), old);
  makeRepo(vault, [old]);
  reposdir = tempDir('ovr-repo-reposdir');
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, updates: f.updates, extra: f.extra, fresh, vault }));
}, 300_000);

afterAll(() => removeTempDirs());

const top = (s: string) => layerJson(['status', '--sysroot', s]).deployments[0];
const qa = (path: string) => rpmIn(path, ['-qa', '--qf', '%{NEVRA}\\n']).stdout.split('\n').filter(Boolean).sort();

describe('layer override replace --from repo=NAME', () => {
  it('upgrades a base package to the repo\'s version with its new dependency; rpm agrees; status and origin record it; reset undoes it', () => {
    const s = cloneSysroot(base, 'ovr-repo-up');
    const before = top(s);
    const baseRelease = rpmIn(before.path, ['-q', 'demo-release']).stdout.trim();
    const j = layerJson(['override', 'replace', '--sysroot', s, '--reposdir', reposdir, '--from', 'repo=fresh', 'demo-release']);
    expect(j.outcome).toBe('deployed');
    expect(j.diff.upgraded).toEqual([{ from: baseRelease, to: 'demo-release-2.0-1.noarch' }]);
    const d = top(s);
    expect(d['requested-base-repo-replacements']).toEqual([{ repo: 'fresh', package: 'demo-release' }]);
    // rpm's view of the tree: the base set with demo-release replaced and release-notes added.
    const want = [...qa(before.path).filter((n) => n !== baseRelease), 'demo-release-2.0-1.noarch', 'release-notes-1.0-1.noarch'].sort();
    expect(qa(d.path)).toEqual(want);
    const va = rpmIn(d.path, ['-Va', '--nofiles']);
    expect(va.stdout + va.stderr).toBe('');
    const origin = readFileSync(`${d.path}.origin`, 'utf8');
    expect(origin).toMatch(/^\[overrides\]\nreplace-from-repo=fresh:demo-release;$/m);
    const text = layer(['status', '--sysroot', s]).stdout;
    expect(text).toContain(`ReplacedBasePackages: ${baseRelease} -> demo-release-2.0-1.noarch\n`);
    const again = layer(['override', 'replace', '--sysroot', s, '--reposdir', reposdir, '--from', 'repo=fresh', 'demo-release']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Override already exists for package 'demo-release' \[LAYER_ALREADY_REQUESTED\]/);

    expect(layerJson(['override', 'reset', '--sysroot', s, '--reposdir', reposdir, 'demo-release']).outcome).toBe('deployed');
    const back = top(s);
    expect(back['requested-base-repo-replacements']).toEqual([]);
    expect(qa(back.path)).toEqual(qa(before.path));
    expect(readFileSync(`${back.path}.origin`, 'utf8')).not.toMatch(/replace-from-repo/);
  });

  it('downgrades to an older version another repo has; --all resets it', () => {
    const s = cloneSysroot(base, 'ovr-repo-down');
    const before = top(s);
    const baseRelease = rpmIn(before.path, ['-q', 'demo-release']).stdout.trim();
    expect(baseRelease).toBe('demo-release-1.0-1.noarch');
    const j = layerJson(['override', 'replace', '--sysroot', s, '--reposdir', reposdir, '--from', 'repo=vault', 'demo-release']);
    expect(j.diff.downgraded).toEqual([{ from: baseRelease, to: 'demo-release-0.5-1.noarch' }]);
    const d = top(s);
    expect(rpmIn(d.path, ['-q', 'demo-release']).stdout.trim()).toBe('demo-release-0.5-1.noarch');
    expect(qa(d.path)).toHaveLength(qa(before.path).length);
    const va = rpmIn(d.path, ['-Va', '--nofiles']);
    expect(va.stdout + va.stderr).toBe('');
    expect(layerJson(['override', 'reset', '--sysroot', s, '--reposdir', reposdir, '--all']).outcome).toBe('deployed');
    expect(rpmIn(top(s).path, ['-q', 'demo-release']).stdout.trim()).toBe(baseRelease);
  });

  it('refuses a package the base lacks, a repo that lacks it and an unknown repo, keeping the default', () => {
    const s = cloneSysroot(base, 'ovr-repo-refuse');
    const id = top(s).id;
    const run = (...args: string[]) => layer(['override', 'replace', '--sysroot', s, '--reposdir', reposdir, ...args]);
    const notBase = run('--from', 'repo=fresh', 'release-notes');
    expect(notBase.code).toBe(1);
    expect(notBase.stderr).toMatch(/Package "release-notes" not found \[LAYER_NO_MATCH\]/);
    const notInRepo = run('--from', 'repo=fresh', 'bash');
    expect(notInRepo.code).toBe(1);
    expect(notInRepo.stderr).toMatch(/Package "bash" not found in repo 'fresh' \[LAYER_NO_MATCH\]/);
    const unknown = run('--from', 'repo=nosuch', 'demo-release');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown repo: 'nosuch' \(override replace demo-release\) \[LAYER_REPO_CONFIG\]/);
    const badFrom = run('--from', 'koji=x', 'demo-release');
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toMatch(/--from takes repo=NAME, not 'koji=x' \[LAYER_USAGE\]/);
    for (const r of [notBase, notInRepo, unknown]) expect(r.stderr.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([]);
    expect(top(s).id).toBe(id);
  });

  it('a replacement the base already satisfies is inactive: a warning, the base version stays', () => {
    const s = cloneSysroot(base, 'ovr-repo-inactive');
    const before = top(s);
    const r = layer(['override', 'replace', '--sysroot', s, '--reposdir', reposdir, '--from', 'repo=base', 'demo-release']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: override replace demo-release from repo base is inactive: the base already has demo-release-1\.0-1\.noarch/);
    expect(qa(top(s).path)).toEqual(qa(before.path));
  });
});
