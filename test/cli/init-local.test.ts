/**
 * `layer init` with local `.rpm` files beside repo package names (issue 11): the recipe base
 * keeps them by content, and `layer upgrade` recomposes the recipe with them against a newer
 * repo. The oracle is Debian's dnf 4.14 installing the same arguments (names plus the same
 * .rpm files) into an empty `--installroot` from the same repo; layer's set is read by real rpm
 * from the deployment. (The CLI runs synchronously, so the repos are file:// ones, as in the
 * other upgrade tests: an in-process HTTP server could not answer.)
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnfInstall, installedNevras } from '../support/dnf-oracle.js';
import { buildRpm } from '../support/rpmbuild.js';
import { ostree, rpmIn } from '../support/tools.js';
import { upgradeRepos, upRepoFile, type UpgradeRepos } from '../support/upgrade-fixtures.js';
import { cloneSysroot, ensureBuilt, layer, layerJson, layerOk, ostreeFsck, removeTempDirs, requireTool, tempDir } from './helpers.js';

/** Two site packages nobody publishes: one needs a repo package (up-lib), one needs the other. */
let siteTool: string;
let siteConf: string;
let repos: UpgradeRepos;
/** Repo dirs holding one `up.repo`: the v1 repo and the v2 repo. */
const rd = { v1: '', v2: '' };

beforeAll(async () => {
  ensureBuilt();
  requireTool('dnf');
  requireTool('ostree');
  repos = await upgradeRepos();
  for (const v of ['v1', 'v2'] as const) {
    rd[v] = tempDir(`initlocal-${v}`);
    writeFileSync(join(rd[v], 'up.repo'), upRepoFile(repos[v]));
  }
  const stage = tempDir('initlocal-rpms');
  siteTool = join(stage, 'site-tool-1.0-1.noarch.rpm');
  copyFileSync(await buildRpm({ name: 'site-tool', version: '1.0', requires: ['up-lib'], files: [{ path: '/usr/share/site-tool/version', content: 'site-tool 1.0\n' }] }), siteTool);
  siteConf = join(stage, 'site-conf-1.0-1.noarch.rpm');
  copyFileSync(await buildRpm({ name: 'site-conf', version: '1.0', requires: ['site-tool'], files: [{ path: '/usr/share/site-conf/version', content: 'site-conf 1.0\n' }] }), siteConf);
}, 300_000);

afterAll(() => removeTempDirs());

/** dnf 4.14's set for `args` installed into a fresh root from `reposdir`. */
function dnfSet(reposdir: string, args: string[]): string[] {
  const r = dnfInstall(reposdir, args, [], join(tempDir('initlocal-dnf'), 'root'));
  expect(r.status, r.out).toBe(0);
  return r.nevras;
}

/** The deployment directories of osname demo in `sysroot` (none when it was never deployed). */
function deploymentsIn(sysroot: string): string[] {
  const dir = join(sysroot, 'ostree/deploy/demo/deploy');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Every package of deployment 0, read by real rpm; its path. */
function deployed(sysroot: string): { nevras: string[]; path: string } {
  const path: string = layerJson(['status', '--sysroot', sysroot]).deployments[0].path;
  return { nevras: rpmIn(path, ['-qa', '--qf', '%{NEVRA}\\n']).stdout.split('\n').filter(Boolean).sort(), path };
}

describe('layer init with local .rpm files', () => {
  it('composes the recipe with the files (a path and a file:// URL), keeps them, and upgrade recomposes with them; dnf agrees', () => {
    const s = join(tempDir('initlocal-sys'), 'sysroot');
    const args = ['up-core', 'up-lib', siteTool, pathToFileURL(siteConf).href];
    const init = layer(['init', '--sysroot', s, '--osname', 'demo', '--reposdir', rd.v1, ...args]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/site-tool\s+1\.0-1\s+noarch\s+@commandline/);
    const v1 = deployed(s);
    expect(v1.nevras).toEqual(dnfSet(rd.v1, args));
    expect(v1.nevras).toEqual(['site-conf-1.0-1.noarch', 'site-tool-1.0-1.noarch', 'up-core-1.0-1.noarch', 'up-lib-1.0-1.noarch']);
    // The recipe records the files by content; the sysroot keeps them under that name.
    const origin = readFileSync(`${v1.path}.origin`, 'utf8');
    const local = /^local=(.*)$/m.exec(origin)?.[1] ?? '';
    expect(local).toMatch(/^([0-9a-f]{64}):site-tool-1\.0-1\.noarch;([0-9a-f]{64}):site-conf-1\.0-1\.noarch;$/);
    const [toolSha = ''] = /[0-9a-f]{64}/.exec(local) ?? [];
    expect(readFileSync(join(s, 'ostree/layer/local-rpms', `${toolSha}.rpm`))).toEqual(readFileSync(siteTool));
    // The base commit's metadata carries them too, as real ostree reads it.
    const baseMeta = ostree(join(s, 'ostree/repo'), 'show', 'demo/base', '--print-metadata-key=layer.compose.recipe-local');
    expect(baseMeta).toContain(`${toolSha}:site-tool-1.0-1.noarch`);
    // A layered package on top, then the upgrade against v2 composes the recipe again, files included.
    layerOk(['install', '--sysroot', s, '--reposdir', rd.v1, 'up-tool']);
    const up = layerJson(['upgrade', '--sysroot', s, '--reposdir', rd.v2]);
    expect(up.outcome).toBe('deployed');
    const v2 = deployed(s);
    expect(v2.nevras).toEqual(dnfSet(rd.v2, [...args, 'up-tool']));
    expect(v2.nevras).toEqual(expect.arrayContaining(['site-conf-1.0-1.noarch', 'site-tool-1.0-1.noarch', 'up-core-1.1-1.noarch', 'up-tool-1.1-1.noarch']));
    expect(readFileSync(`${v2.path}.origin`, 'utf8')).toContain(`local=${local}`);
    // status names them as the base's own local packages, apart from the layered requests.
    const st = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(st['base-local-packages']).toEqual(['site-tool-1.0-1.noarch', 'site-conf-1.0-1.noarch']);
    expect(st['requested-packages']).toEqual(['up-tool']);
    expect(layerOk(['status', '--sysroot', s])).toMatch(/^ {2}BaseLocalPackages: site-tool-1\.0-1\.noarch site-conf-1\.0-1\.noarch$/m);
    expect(rpmIn(v2.path, ['-Va', '--nofiles']).stdout).toBe('');
    expect(ostreeFsck(s)).toMatch(/Verifying content integrity of \d+ commit objects/);
  });

  it('a missing or unreadable file is a one-line LayerError and nothing is deployed; a kept file gone fails the upgrade, the deployment survives', () => {
    const none = join(tempDir('initlocal-missing'), 'sysroot');
    const missing = layer(['init', '--sysroot', none, '--osname', 'demo', '--reposdir', rd.v1, 'up-core', '/nonexistent/site.rpm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: local package \/nonexistent\/site\.rpm does not exist \[LAYER_USAGE\]$/m);
    expect(missing.stderr).not.toMatch(/^\s+at /m);
    expect(deploymentsIn(none)).toEqual([]);
    // dnf refuses the same argument: "Can not load RPM file".
    const dnf = dnfInstall(rd.v1, ['up-core', '/nonexistent/site.rpm'], [], join(tempDir('initlocal-dnf'), 'root'));
    expect(dnf.status).not.toBe(0);
    expect(dnf.out).toMatch(/Can not load RPM file: \/nonexistent\/site\.rpm/);
    expect(installedNevras(dnf.root)).toEqual([]);
    const junk = join(tempDir('initlocal-junk'), 'junk.rpm');
    writeFileSync(junk, 'not an rpm\n');
    const badRoot = join(tempDir('initlocal-bad'), 'sysroot');
    const bad = layer(['init', '--sysroot', badRoot, '--osname', 'demo', '--reposdir', rd.v1, 'up-core', junk]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: reading local package .*junk\.rpm: .*\[LAYER_RPM_FORMAT\]$/m);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
    expect(deploymentsIn(badRoot)).toEqual([]);

    const s = join(tempDir('initlocal-gone'), 'sysroot');
    layerOk(['init', '--sysroot', s, '--osname', 'demo', '--reposdir', rd.v1, 'up-core', 'up-lib', siteTool]);
    const before = layerJson(['status', '--sysroot', s]).deployments[0].id;
    const copy = cloneSysroot(s, 'initlocal-gone-copy');
    const dir = join(copy, 'ostree/layer/local-rpms');
    const kept = readdirSync(dir);
    expect(kept).toHaveLength(1);
    renameSync(join(dir, kept[0] ?? ''), join(dir, 'moved-away'));
    const r = layer(['upgrade', '--sysroot', copy, '--reposdir', rd.v2]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: local package site-tool-1\.0-1\.noarch \([0-9a-f]{12}\) is no longer in .*local-rpms \[LAYER_SYSROOT\]$/m);
    expect(r.stderr).toMatch(/hint: copy the same site-tool-1\.0-1\.noarch\.rpm/);
    expect(layerJson(['status', '--sysroot', copy]).deployments.map((d: { id: string }) => d.id)).toEqual([before]);
  });
});
