/**
 * `layer deploy` of a recipe base (issue 12) through the CLI, on the v1 → v2 → v3 fixture repos
 * (test/support/upgrade-fixtures.ts):
 * - `deploy version=V` / `deploy CHECKSUM`: an earlier composition of the recipe, from the
 *   history of the base's ref, with the layered requests re-solved on it; pinned until --unpin;
 * - `upgrade --lockfile-out FILE` writes the lockfile of the recomposed base plus the layered
 *   set, and `deploy --lockfile FILE` in another sysroot composes the same commit, checksum for
 *   checksum, pinned; a pinned package gone from the repo is a clear error, nothing deployed.
 * - `deploy --lockfile FILE` of an OSTree-ref base: the lockfile's base commit, pinned.
 * Oracles: ostree (rev-parse of parents, the commit's version metadata, fsck), rpm -q on the
 * deployed tree's database.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERED, RECIPE, upgradeRepos, upRepoFile } from '../support/upgrade-fixtures.js';
import { cloneSysroot, ensureBuilt, layer, layerJson, ostreeFsck, removeTempDirs, requireTool, tempDir, layerOk, recipeSysroots } from './helpers.js';

const rd: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' };
/** Recipe bases on v1: without layered packages, and with LAYERED layered (booted). */
let plain: string;
let layered: string;

const ok = layerOk;

function ostree(sysroot: string, ...args: string[]): string {
  return execFileSync('ostree', [`--repo=${join(sysroot, 'ostree/repo')}`, ...args], { encoding: 'utf8' }).trim();
}

function rpmQ(path: string, ...names: string[]): string {
  return execFileSync('rpm', ['--root', path, '--dbpath', '/usr/lib/sysimage/rpm', '-q', ...names], { encoding: 'utf8' });
}

const status = (s: string) => layerJson(['status', '--sysroot', s]).deployments;
const origin = (d: { path: string }) => readFileSync(`${d.path}.origin`, 'utf8');

beforeAll(async () => {
  ensureBuilt();
  requireTool('ostree');
  requireTool('rpm');
  const repos = await upgradeRepos();
  for (const v of ['v1', 'v2', 'v3'] as const) {
    rd[v] = tempDir(`repos-${v}`);
    writeFileSync(join(rd[v], 'up.repo'), upRepoFile(repos[v]));
  }
  ({ plain, layered } = recipeSysroots(rd.v1, RECIPE, LAYERED, ''));
}, 300_000);

afterAll(() => removeTempDirs());

describe('deploy REV of a recipe base', () => {
  it('version=V and CHECKSUM pick earlier compositions from the ref history; the pin holds until --unpin', () => {
    const s = cloneSysroot(layered, 'rev');
    const v1 = status(s)[0];
    ok(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    const v2 = status(s)[0];
    expect(ostree(s, 'rev-parse', `${v2['base-checksum']}^`)).toBe(v1['base-checksum']);

    const r = layerJson(['deploy', `version=${v1.version}`, '--sysroot', s, '--reposdir', rd.v2]);
    expect(r.outcome).toBe('deployed');
    let d = status(s)[0];
    expect(d['base-checksum']).toBe(v1['base-checksum']);
    expect(d['requested-packages']).toEqual(LAYERED);
    // The layered requests re-solved on the old base against the v2 repo.
    expect(rpmQ(d.path, 'up-core', 'up-tool', 'up-helper')).toBe('up-core-1.0-1.noarch\nup-tool-1.1-1.noarch\nup-helper-1.0-1.noarch\n');
    expect(origin(d)).toContain(`override-commit=${v1['base-checksum']}`);
    const pinned = layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toMatch(/^Pinned to commit; no upgrade available/);
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2, '--unchanged-exit-77']).code).toBe(77);

    // By checksum (the v2 base): pinned again, on that commit.
    ok(['deploy', v2['base-checksum'], '--sysroot', s, '--reposdir', rd.v2]);
    d = status(s)[0];
    expect(d['base-checksum']).toBe(v2['base-checksum']);
    expect(origin(d)).toContain(`override-commit=${v2['base-checksum']}`);

    // --unpin: the recipe composed again (a new deployment even with the same packages), pin gone.
    ok(['deploy', '--unpin', '--sysroot', s, '--reposdir', rd.v2]);
    d = status(s)[0];
    expect(origin(d)).not.toContain('override-commit');
    expect(ostree(s, 'rev-parse', `${d['base-checksum']}^`)).toBe(v2['base-checksum']);
    expect(rpmQ(d.path, 'up-core', 'up-tool')).toBe('up-core-1.1-1.noarch\nup-tool-1.1-1.noarch\n');
    expect(layer(['upgrade', '--sysroot', s, '--reposdir', rd.v2, '--unchanged-exit-77']).code).toBe(77);

    const before = status(s).map((x: { checksum: string }) => x.checksum);
    const bad = layer(['deploy', 'version=no-such', '--sysroot', s, '--reposdir', rd.v2]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("error: demo/base: no commit in the ref's history has version no-such [LAYER_USAGE]\n"
      + 'hint: layer status and the upgrade output show the versions and checksums of earlier bases\n');
    expect(layer(['deploy', '0'.repeat(64), '--sysroot', s, '--reposdir', rd.v2]).stderr).toContain(`no commit in the ref's history is ${'0'.repeat(64)}`);
    expect(status(s).map((x: { checksum: string }) => x.checksum)).toEqual(before);
    ostreeFsck(s);
  });
});

describe('upgrade --lockfile-out, then deploy --lockfile of a recipe base', () => {
  it('with layered packages: another sysroot composes the same commit checksum, pinned', () => {
    const a = cloneSysroot(layered, 'lock-a');
    const b = cloneSysroot(layered, 'lock-b');
    const file = join(tempDir('lock'), 'nightly.lock.json');
    const up = layerJson(['upgrade', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', file]);
    expect(up.outcome).toBe('deployed');
    const lock = JSON.parse(readFileSync(file, 'utf8'));
    const da = status(a)[0];
    expect(lock.base).toEqual({ ref: 'demo/base', commit: null, recipe: RECIPE, version: da.version });
    expect(lock.requested).toEqual(LAYERED);
    expect(lock.packages.map((p: { nevra: string }) => p.nevra)).toEqual([
      'up-core-1.1-1.noarch', 'up-down-1.0-1.noarch', 'up-extra-1.0-1.noarch', 'up-helper-1.0-1.noarch', 'up-lib-1.0-1.noarch',
      'up-new-2.0-1.noarch', 'up-other-0.9-1.noarch', 'up-plugin2-2.0-1.noarch', 'up-tool-1.1-1.noarch',
    ]);
    expect(lock.packages.every((p: { repo: string; checksum: string }) => p.repo === 'up' && /^sha256:[0-9a-f]{64}$/.test(p.checksum))).toBe(true);
    // The commit carries the version the lockfile records.
    expect(ostree(a, 'show', '--print-metadata-key=version', da['base-checksum'])).toBe(`'${da.version}'`);

    const r = layerJson(['deploy', '--lockfile', file, '--sysroot', b, '--reposdir', rd.v2]);
    expect(r.outcome).toBe('deployed');
    const db = status(b)[0];
    expect(db.checksum).toBe(da.checksum);
    expect(db['base-checksum']).toBe(da['base-checksum']);
    expect(db['requested-packages']).toEqual(LAYERED);
    expect(origin(db)).toContain(`override-commit=${da['base-checksum']}`);
    const pinned = layer(['upgrade', '--sysroot', b, '--reposdir', rd.v3]);
    expect(pinned.stdout).toMatch(/^Pinned to commit; no upgrade available/);
    ostreeFsck(b);
  });

  it('without layered packages: the same base commit; --check and a nothing-new upgrade write the lockfile too', () => {
    const a = cloneSysroot(plain, 'plain-a');
    const b = cloneSysroot(plain, 'plain-b');
    const file = join(tempDir('lock-plain'), 'lock.json');
    // --check writes the lockfile of what the upgrade would deploy (and deploys nothing).
    const checked = join(tempDir('lock-check'), 'lock.json');
    expect(layer(['upgrade', '--check', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', checked]).code).toBe(0);
    expect(status(a)).toHaveLength(1);
    ok(['upgrade', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', file]);
    expect(JSON.parse(readFileSync(checked, 'utf8')).packages).toEqual(JSON.parse(readFileSync(file, 'utf8')).packages);
    ok(['deploy', '--lockfile', file, '--sysroot', b, '--reposdir', rd.v2]);
    const [da, db] = [status(a)[0], status(b)[0]];
    expect(db.checksum).toBe(da.checksum);
    expect(db['base-checksum']).toBe(db.checksum);
    expect(rpmQ(db.path, 'up-core', 'up-new')).toBe('up-core-1.1-1.noarch\nup-new-2.0-1.noarch\n');
    const again = join(tempDir('lock-again'), 'lock.json');
    const r = layer(['upgrade', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', again, '--unchanged-exit-77']);
    expect(r.code, r.stderr).toBe(77);
    expect(JSON.parse(readFileSync(again, 'utf8')).packages).toEqual(JSON.parse(readFileSync(file, 'utf8')).packages);
  });

  it('a pinned package gone from the repo: a clear error naming it, nothing deployed; upgrade --lockfile is refused', () => {
    const a = cloneSysroot(layered, 'gone-a');
    const b = cloneSysroot(layered, 'gone-b');
    const file = join(tempDir('lock-gone'), 'lock.json');
    ok(['upgrade', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', file]);
    const before = status(b).map((x: { checksum: string }) => x.checksum);
    // v3 has up-core 1.2 and up-tool 2.0 only: the 1.1 versions the lockfile pins are gone.
    const r = layer(['deploy', '--lockfile', file, '--sysroot', b, '--reposdir', rd.v3]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^warning: repo up: repomd\.xml changed since .*lock\.json/m);
    expect(r.stderr).toMatch(/^error: up-core-1\.1-1\.noarch, pinned by .*lock\.json, is gone from repo up \(repomd\.xml sha256 [0-9a-f]{12}\) \[LAYER_LOCKFILE\]$/m);
    expect(status(b).map((x: { checksum: string }) => x.checksum)).toEqual(before);
    const u = layer(['upgrade', '--sysroot', b, '--reposdir', rd.v2, '--lockfile', file]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('hint: layer deploy --lockfile FILE composes the recipe base exactly as FILE pins it');
    expect(status(b).map((x: { checksum: string }) => x.checksum)).toEqual(before);
  });
});

describe('deploy --lockfile of an OSTree-ref base', () => {
  it('deploys the lockfile\'s base commit, pinned, with the layered packages it pins', () => {
    const src = cloneSysroot(plain, 'ref-src');
    const follow = (tag: string) => {
      const s = join(tempDir(tag), 'sysroot');
      ok(['init', '--sysroot', s, '--osname', 'os', '--from-ostree', `${join(src, 'ostree/repo')}:demo/base`, '--reposdir', rd.v1, 'up-tool']);
      return s;
    };
    const a = follow('ref-a');
    const b = follow('ref-b');
    ok(['upgrade', '--sysroot', src, '--reposdir', rd.v2]);
    const file = join(tempDir('ref-lock'), 'lock.json');
    ok(['upgrade', '--sysroot', a, '--reposdir', rd.v2, '--lockfile-out', file]);
    const da = status(a)[0];
    expect(JSON.parse(readFileSync(file, 'utf8')).base.commit).toBe(da['base-checksum']);
    ok(['deploy', '--lockfile', file, '--sysroot', b, '--reposdir', rd.v2]);
    const db = status(b)[0];
    expect(db['base-checksum']).toBe(da['base-checksum']);
    expect(db.checksum).toBe(da.checksum);
    expect(origin(db)).toContain(`override-commit=${da['base-checksum']}`);
    expect(rpmQ(db.path, 'up-core', 'up-tool')).toBe('up-core-1.1-1.noarch\nup-tool-1.1-1.noarch\n');
  });
});
