/**
 * Debian's dnf 4.14 as the oracle for the request language (issue 11): repo filters
 * (excludepkgs=/exclude=/includepkgs= in every spec form), install spec forms (name, name.arch,
 * N-V, N-V-R, NEVRA, epoch forms, provides, file paths, globs anywhere, file:// URLs), a repo
 * carrying a source RPM, and the base-locked cases where layering differs from dnf on purpose.
 * Each case runs the same request through `layer install` and through `dnf --installroot` from
 * the same fixture repo and compares the package sets.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { dnfInstall, type DnfResult } from '../support/dnf-oracle.js';
import { buildRpm, specText, type FixtureSpec } from '../support/rpmbuild.js';
import { requireTool } from '../support/tools.js';
import { BASE_PACKAGES, cloneSysroot, ensureBuilt, layer, layeredByRpm, layerJson, removeTempDirs, repoFile, ROOT, tempDir, testFixtures, type Fixtures } from './helpers.js';

const file = (path: string) => [{ path, content: `${path}\n` }];

const WEBBY: FixtureSpec = { name: 'webby', provides: ['webserver'], files: [...file('/usr/sbin/webby'), ...file('/usr/share/webby/index.html')] };

/**
 * flac: two x86_64 versions with a Fedora-style release; ep: epoch 2; webby: a provide and a
 * file outside primary's file subset (filelists); lockbase/basedone go into the base.
 */
const SPECS: FixtureSpec[] = [
  ...['1.3-2.fc29', '1.4-1.fc29'].map((vr): FixtureSpec => {
    const [version, release] = vr.split('-') as [string, string];
    return { name: 'flac', version, release, arch: 'x86_64', files: file(`/usr/share/flac/${version}`) };
  }),
  ...['1.0', '1.1'].map((version): FixtureSpec => ({ name: 'ep', epoch: 2, version, files: file(`/usr/share/ep/${version}`) })),
  WEBBY,
  ...['1.0', '2.0'].map((version): FixtureSpec => ({ name: 'lockbase', version, files: file(`/usr/share/lockbase/${version}`) })),
  { name: 'basedone', provides: ['done-cap'], files: file('/usr/share/basedone/v') },
];
/** A local package in no repo, for file:// URLs. */
const LOOSE: FixtureSpec = { name: 'loose', files: file('/usr/share/loose/v') };

let f: Fixtures;
let repo: string;
let base: string;
let looseRpm: string;

/** The file name createrepo_c and dnf expect for a spec. */
const rpmName = (s: FixtureSpec) => `${s.name}-${s.version ?? '1.0'}-${s.release ?? '1'}.${s.arch ?? 'noarch'}.rpm`;

/** A real source RPM of webby, built with `rpmbuild -bs` (its file list is `webby.spec`, not a path). */
function buildSrpm(dir: string): string {
  const top = join(dir, '.srpm');
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  writeFileSync(join(top, 'SPECS', 'webby.spec'), specText(WEBBY));
  execFileSync('rpmbuild', ['-bs', '--quiet', '--define', `_topdir ${top}`, join(top, 'SPECS', 'webby.spec')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return join(top, 'SRPMS', 'webby-1.0-1.src.rpm');
}

/** The fixture repo (binary packages plus webby's .src.rpm), cached under .cache/ by content. */
async function oracleRepo(): Promise<string> {
  const rpms = await Promise.all(SPECS.map((s) => buildRpm(s)));
  const key = createHash('sha256').update(rpms.join('\n')).update(specText(WEBBY)).digest('hex').slice(0, 16);
  const dir = join(ROOT, '.cache/dnf-oracle', `repo-${key}`);
  if (existsSync(join(dir, 'repodata/repomd.xml'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const named = join(tmp, '.in');
  mkdirSync(named, { recursive: true });
  const files = rpms.map((r, i) => {
    const to = join(named, rpmName(SPECS[i] as FixtureSpec));
    copyFileSync(r, to);
    return to;
  });
  makeRepo(tmp, [...files, buildSrpm(tmp)], { args: ['--excludes', '.in/*', '--excludes', '.srpm/*'] });
  rmSync(named, { recursive: true, force: true });
  rmSync(join(tmp, '.srpm'), { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // a concurrent worker published it first
  }
  return dir;
}

beforeAll(async () => {
  requireTool('dnf');
  requireTool('rpmbuild', 'rpm');
  ensureBuilt();
  f = await testFixtures();
  repo = await oracleRepo();
  looseRpm = join(tempDir('oracle-loose'), 'loose-1.0-1.noarch.rpm');
  copyFileSync(await buildRpm(LOOSE), looseRpm);
  // The base carries lockbase-1.0 (the repo also has 2.0) and basedone (provides done-cap).
  base = join(tempDir('oracle-base'), 'sysroot');
  const r = layer(['init', '--sysroot', base, '--osname', 'demo', '--reposdir', reposdirs('').layer, ...BASE_PACKAGES, 'lockbase-1.0', 'basedone']);
  if (r.code !== 0) throw new Error(`layer init failed (${r.code}):\n${r.stderr}`);
}, 300_000);

afterAll(() => removeTempDirs());

/** Repos dirs with the fixture repo under `options` (repo-file lines): layer's has the demo base too, dnf's the fixture repo alone. */
function reposdirs(options: string): { layer: string; dnf: string } {
  const oracle = `${repoFile({ oracle: repo })}${options ? `${options}\n` : ''}`;
  const layerDir = tempDir('oracle-reposdir');
  writeFileSync(join(layerDir, 'test.repo'), `${repoFile({ base: f.base })}\n${oracle}`);
  const dnfDir = tempDir('oracle-dnf-reposdir');
  writeFileSync(join(dnfDir, 'oracle.repo'), oracle);
  return { layer: layerDir, dnf: dnfDir };
}

/** dnf installing `specs` into a fresh installroot (or `root`, to build on an earlier run). */
function dnf(dnfReposdir: string, specs: string[], root = join(tempDir('oracle-root'), 'root')): DnfResult {
  return dnfInstall(dnfReposdir, specs, [], root);
}

/** What `layer install --dry-run` would layer for `specs` (sorted NEVRAs), or its error line. */
function layerPlan(layerReposdir: string, specs: string[]): { nevras: string[]; code: number | null; stderr: string } {
  const r = layer(['install', '--sysroot', base, '--reposdir', layerReposdir, '--dry-run', '--json', ...specs]);
  const nevras = r.code === 0 ? (JSON.parse(r.stdout).transaction as { nevra: string }[]).map((t) => t.nevra).sort() : [];
  return { nevras, code: r.code, stderr: r.stderr };
}

/** `layer install` of `specs` on a copy of the base, for real: the layered set as rpm reads it. */
function layerInstalled(layerReposdir: string, specs: string[]): string[] {
  const s = cloneSysroot(base, 'oracle-install');
  const r = layer(['install', '--sysroot', s, '--reposdir', layerReposdir, ...specs]);
  expect(r.code, `${specs.join(' ')}: ${r.stderr}`).toBe(0);
  return layeredByRpm(s, base);
}

describe('repo filters in every dnf spec form', () => {
  // Each pattern hides flac-1.4 (or ep-2:1.1): dnf and layer then install the older version.
  const hideNewer: [string, string][] = [
    ['excludepkgs', 'flac-1.4'], ['excludepkgs', 'flac-1.4-1.fc29'], ['excludepkgs', 'flac-1.4-1.fc29.x86_64'],
    ['excludepkgs', 'flac-0:1.4-1.fc29.x86_64'], ['excludepkgs', 'flac-*.4-*'], ['exclude', 'f?ac-1.[4]*.x86_64'],
    ['excludepkgs', 'flac-*:1.4-1.*'], ['excludepkgs', 'flac-1.4-1.fc29.x86_6?'], ['excludepkgs', 'flac-1.4-*.fc[0-9]*'],
    ['includepkgs', 'flac-1.3*'],
  ];
  it.each(hideNewer)('%s=%s: flac installs what dnf installs', (option, pattern) => {
    const dirs = reposdirs(`${option}=${pattern}`);
    const oracle = dnf(dirs.dnf, ['flac']);
    expect(oracle.nevras).toEqual(['flac-1.3-2.fc29.x86_64']);
    expect(layerPlan(dirs.layer, ['flac']).nevras).toEqual(oracle.nevras);
  });

  it('epoch forms: ep-2:1.1-1.noarch and ep-1.1 exclude the same package for both', () => {
    for (const pattern of ['ep-2:1.1-1.noarch', 'ep-1.1', 'ep-2:1.1']) {
      const dirs = reposdirs(`excludepkgs=${pattern}`);
      const oracle = dnf(dirs.dnf, ['ep']);
      expect(oracle.nevras, pattern).toEqual(['ep-2:1.0-1.noarch']);
      expect(layerPlan(dirs.layer, ['ep']).nevras, pattern).toEqual(oracle.nevras);
    }
  });

  // dnf says the matches were filtered out by exclude filtering; layer says no package matches.
  it('excluding by name or name.arch hides every version: both refuse, naming the spec; the final set after a real install agrees', () => {
    for (const pattern of ['flac', 'flac.x86_64', 'fl*']) {
      const dirs = reposdirs(`excludepkgs=${pattern}`);
      const oracle = dnf(dirs.dnf, ['flac']);
      expect(oracle.status, pattern).toBe(1);
      expect(oracle.out, pattern).toMatch(/All matches were filtered out by exclude filtering for argument: flac/);
      const plan = layerPlan(dirs.layer, ['flac']);
      expect(plan.code, pattern).toBe(1);
      expect(plan.stderr, pattern).toMatch(/no package matches flac \[LAYER_NO_MATCH\]/);
    }
    const dirs = reposdirs('excludepkgs=flac-1.4* ep-2:1.1*');
    const oracle = dnf(dirs.dnf, ['flac', 'ep', 'webby']);
    expect(layerInstalled(dirs.layer, ['flac', 'ep', 'webby'])).toEqual(oracle.nevras);
  });

  it('a pattern matching nothing: dnf ignores it silently; layer installs the same set and warns', () => {
    const dirs = reposdirs('excludepkgs=nomatch* flac-9*');
    const oracle = dnf(dirs.dnf, ['flac']);
    expect(oracle.status).toBe(0);
    expect(oracle.out).not.toMatch(/nomatch/);
    const plan = layerPlan(dirs.layer, ['flac']);
    expect(plan.nevras).toEqual(oracle.nevras);
    expect(plan.stderr).toMatch(/warning: repo oracle: excludepkgs\/includepkgs pattern 'nomatch\*' matches no package/);
    expect(plan.stderr).toMatch(/pattern 'flac-9\*' matches no package/);
  });
});

describe('install spec forms', () => {
  it.each([
    ['flac'], ['flac.x86_64'], ['flac-1.3'], ['flac-1.3-2.fc29'], ['flac-1.3-2.fc29.x86_64'], ['flac-0:1.3-2.fc29.x86_64'],
    ['flac-0:1.3'], ['flac-*.3-2.fc29.x86_64'], ['flac-1.3-2.fc29.x86_*'], ['flac-1.3-*'], ['f?ac-1.[3]*'], ['fl*'], ['ep-2:1.0-1.noarch'], ['ep-2:1.0'], ['ep-1.0'],
    ['webserver'], ['/usr/sbin/webby'], ['/usr/share/webby/index.html'],
  ])('%s installs what dnf installs', (spec) => {
    const dirs = reposdirs('');
    const oracle = dnf(dirs.dnf, [spec]);
    expect(oracle.status, oracle.out).toBe(0);
    expect(layerPlan(dirs.layer, [spec]).nevras).toEqual(oracle.nevras);
  });

  it('a glob in the epoch: dnf matches nothing; layer matches it (globs in any part, documented)', () => {
    const dirs = reposdirs('');
    expect(dnf(dirs.dnf, ['ep-*:1.0-1']).out).toMatch(/No match for argument: ep-\*:1\.0-1/);
    expect(layerPlan(dirs.layer, ['ep-*:1.0-1']).nevras).toEqual(['ep-2:1.0-1.noarch']);
  });

  it('a wrong epoch matches nothing for both', () => {
    const dirs = reposdirs('');
    const oracle = dnf(dirs.dnf, ['ep-1:1.0']);
    expect(oracle.out).toMatch(/No match for argument: ep-1:1\.0/);
    const plan = layerPlan(dirs.layer, ['ep-1:1.0']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/no package matches ep-1:1\.0 \[LAYER_NO_MATCH\]/);
  });

  it('several forms on one command line: the final set of a real install is dnf\'s', () => {
    const dirs = reposdirs('');
    const specs = ['flac-*.3-2.fc29.x86_64', 'ep-2:1.0', 'webserver'];
    const oracle = dnf(dirs.dnf, specs);
    expect(oracle.nevras).toEqual(['ep-2:1.0-1.noarch', 'flac-1.3-2.fc29.x86_64', 'webby-1.0-1.noarch']);
    expect(layerInstalled(dirs.layer, specs)).toEqual(oracle.nevras);
  });
});

describe('local packages by file:// URL', () => {
  it('file://, FILE:// and the same path twice install one package, as with dnf', () => {
    const dirs = reposdirs('');
    for (const specs of [[`file://${looseRpm}`], [`FILE://${looseRpm}`], [looseRpm, looseRpm]]) {
      const oracle = dnf(dirs.dnf, specs);
      expect(oracle.nevras, specs.join(' ')).toEqual(['loose-1.0-1.noarch']);
      expect(layerInstalled(dirs.layer, specs), specs.join(' ')).toEqual(oracle.nevras);
    }
  });

  it('the same .rpm as a file:// URL and as a path is one request for layer; dnf refuses it as two', () => {
    const dirs = reposdirs('');
    const specs = [`file://${looseRpm}`, looseRpm];
    // Documented difference: dnf 4.14 loads the file twice and asks for both installs.
    const oracle = dnf(dirs.dnf, specs);
    expect(oracle.status).toBe(1);
    expect(oracle.out).toMatch(/cannot install both loose-1\.0-1\.noarch and loose-1\.0-1\.noarch/);
    expect(layerInstalled(dirs.layer, specs)).toEqual(['loose-1.0-1.noarch']);
  });
});

describe('a repo carrying a source RPM', () => {
  it('a file-path request that needs filelists ignores webby.src, as dnf does; asking for the .src is no match', () => {
    const dirs = reposdirs('');
    const oracle = dnf(dirs.dnf, ['/usr/share/webby/index.html']);
    expect(oracle.nevras).toEqual(['webby-1.0-1.noarch']);
    const plan = layerPlan(dirs.layer, ['/usr/share/webby/index.html']);
    expect(plan.nevras).toEqual(oracle.nevras);
    expect(plan.stderr).not.toMatch(/not absolute|\.spec/);
    expect(layerInstalled(dirs.layer, ['/usr/share/webby/index.html'])).toEqual(oracle.nevras);
    // dnf finds no installable match for the source package either.
    const src = dnf(dirs.dnf, ['webby.src']);
    expect(src.status).toBe(1);
    expect(src.nevras).toEqual([]);
    expect(layerPlan(dirs.layer, ['webby.src']).stderr).toMatch(/no package matches webby\.src \[LAYER_NO_MATCH\]/);
  });
});

/**
 * The base is locked (rpm-ostree's model): a layered request never changes a base package.
 * dnf's installroot gets the same two packages first, as its "base".
 */
describe('base-locked: where layering differs from dnf on purpose', () => {
  let dirs: { layer: string; dnf: string };
  let root: string;
  beforeAll(() => {
    dirs = reposdirs('');
    root = join(tempDir('oracle-root'), 'root');
    expect(dnf(dirs.dnf, ['lockbase-1.0', 'basedone'], root).nevras).toEqual(['basedone-1.0-1.noarch', 'lockbase-1.0-1.noarch']);
  });

  it('a request the base already satisfies: dnf says nothing to do; layer refuses it unless --allow-inactive', () => {
    for (const spec of ['basedone', 'done-cap']) {
      const oracle = dnf(dirs.dnf, [spec], root);
      expect(oracle.status, spec).toBe(0);
      expect(oracle.out, spec).toMatch(/Package basedone-1\.0-1\.noarch is already installed[\s\S]*Nothing to do/);
      const r = layer(['install', '--sysroot', base, '--reposdir', dirs.layer, '--dry-run', spec]);
      expect(r.code, spec).toBe(1);
      expect(r.stderr, spec).toMatch(new RegExp(`error: ${spec} \\(by basedone-1\\.0-1\\.noarch\\): already provided by the base \\[LAYER_ALREADY_PROVIDED\\]`));
    }
    const s = cloneSysroot(base, 'oracle-inactive');
    expect(layer(['install', '--sysroot', s, '--reposdir', dirs.layer, '--allow-inactive', 'done-cap']).code).toBe(0);
    expect(layeredByRpm(s, base)).toEqual([]);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['done-cap']);
  });

  it('a newer version of a base package: dnf 4.14 keeps the installed one for the bare name; layer says the base is locked, whichever spelling', () => {
    // dnf: `install lockbase` with lockbase-1.0 installed is "already installed", nothing to do;
    // `install lockbase-2.0` upgrades it. layer never upgrades a base package by layering.
    const bare = dnf(dirs.dnf, ['lockbase'], root);
    expect(bare.out).toMatch(/Package lockbase-1\.0-1\.noarch is already installed/);
    expect(bare.nevras).toContain('lockbase-1.0-1.noarch');
    const lines = ['lockbase', 'lockbase-2.0'].map((spec) => {
      const r = layer(['install', '--sysroot', base, '--reposdir', dirs.layer, '--dry-run', spec]);
      expect(r.code, spec).toBe(1);
      const line = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
      expect(line, spec).toMatch(/base has lockbase-1\.0-1\.noarch; lockbase-2\.0-1\.noarch is available but the base is locked \[LAYER_BASE_LOCKED\]$/);
      return line.replace(/^error: installing \S+: /, '');
    });
    expect(lines[0]).toBe(lines[1]);
    const versioned = dnf(dirs.dnf, ['lockbase-2.0'], root);
    expect(versioned.status).toBe(0);
    expect(versioned.nevras).toEqual(['basedone-1.0-1.noarch', 'lockbase-2.0-1.noarch']);
  });
});
