/**
 * dnf-grade requests (issue 11), each against Debian's dnf 4.14 installing into an
 * `--installroot` from the same repo: install by name takes a package that obsoletes the named
 * one (the alphabetically first of several), and installonly packages (kernels) live side by
 * side up to `installonly_limit`. layer's final set is read with real rpm from the deployment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnfInstall as dnfOracle, type DnfResult } from '../support/dnf-oracle.js';
import type { FixtureSpec } from '../support/rpmbuild.js';
import { requireTool, rpmIn } from '../support/tools.js';
import { cloneSysroot, ensureBuilt, initSysroot, oracleRepos, layer, layeredByRpm as layeredOver, layerJson, removeTempDirs, tempDir, testFixtures, type Fixtures } from './helpers.js';

const file = (path: string) => [{ path, content: `${path}\n` }];

/** Names say what they test: tea-ng replaces tea; chai-a and chai-b both obsolete chai. */
const SPECS: FixtureSpec[] = [
  { name: 'tea', files: file('/usr/share/tea/v') },
  { name: 'tea-ng', obsoletes: ['tea < 2'], provides: ['tea = 2'], files: file('/usr/share/tea-ng/v') },
  { name: 'chai', files: file('/usr/share/chai/v') },
  { name: 'chai-b', obsoletes: ['chai'], files: file('/usr/share/chai-b/v') },
  { name: 'chai-a', obsoletes: ['chai'], files: file('/usr/share/chai-a/v') },
  ...['1.0', '2.0', '3.0', '4.0'].map((v): FixtureSpec => ({ name: 'kernel', version: v, files: file(`/usr/share/kernel-fixture/${v}`) })),
  { name: 'brew', recommends: ['sugar', 'milk'], files: file('/usr/share/brew/v') },
  { name: 'sweet-brew', requires: ['sugar'], files: file('/usr/share/sweet-brew/v') },
  { name: 'sugar', files: file('/usr/share/sugar/v') },
  { name: 'milk', files: file('/usr/share/milk/v') },
  { name: 'host', recommends: ['(weak-broken if cond-b else alt-c)'], files: file('/usr/share/host/v') },
  { name: 'weak-broken', requires: ['not-provided-anywhere'], files: file('/usr/share/weak-broken/v') },
  { name: 'cond-b', files: file('/usr/share/cond-b/v') },
  { name: 'alt-c', files: file('/usr/share/alt-c/v') },
  { name: 'broken', requires: ['nothing-provides-this'], files: file('/usr/share/broken/v') },
  ...['1.0', '2.0'].map((v): FixtureSpec => ({ name: 'plugin', version: v, files: file(`/usr/lib/plugin/${v}`) })),
  { name: 'needy', version: '1.0', files: file('/usr/share/needy/1') },
  { name: 'needy', version: '2.0', requires: ['needy-helper-nowhere'], files: file('/usr/share/needy/2') },
  ...['1.0', '2.0'].map((v): FixtureSpec => ({ name: 'kmod-demo', version: v, provides: ['installonlypkg(kernel-module)'], files: file(`/usr/lib/kmod-demo/${v}`) })),
  // Each installable alone, not together.
  { name: 'clash-a', conflicts: ['clash-b'], files: file('/usr/share/clash-a/v') },
  { name: 'clash-b', files: file('/usr/share/clash-b/v') },
];

let f: Fixtures;
let base: string;
let reposdir: string;
let dnfReposdir: string;

beforeAll(async () => {
  requireTool('dnf');
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'dnfreq');
  ({ reposdir, dnfReposdir } = await oracleRepos(f, 'dnfreq', SPECS, (s) => `${s.name}-${s.version ?? '1.0'}-1.noarch.rpm`));
}, 300_000);

afterAll(() => removeTempDirs());

/** dnf 4.14 installing `specs` into a fresh installroot from the fixture repo alone (with `config` as dnf.conf). */
function dnfInstall(specs: string[], setopts: string[] = [], root = join(tempDir('dnfreq-root'), 'root'), config?: string): DnfResult {
  return dnfOracle(dnfReposdir, specs, setopts, root, config);
}

/** The packages layered on deployment 0 of `sysroot` over the base, read by real rpm. */
const layeredByRpm = (sysroot: string) => layeredOver(sysroot, base);

describe('obsoletes on install by name', () => {
  it('installing tea takes tea-ng, which obsoletes it; the step says so; dnf agrees', () => {
    const dnf = dnfInstall(['tea']);
    expect(dnf.nevras).toEqual(['tea-ng-1.0-1.noarch']);
    const s = cloneSysroot(base, 'obs-tea');
    const j = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, 'tea']);
    expect(j.outcome).toBe('deployed');
    expect(j.transaction).toEqual([expect.objectContaining({ nevra: 'tea-ng-1.0-1.noarch', reason: 'requested', 'instead-of': ['tea'] })]);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['tea']);
    const text = layer(['install', '--sysroot', cloneSysroot(base, 'obs-tea-text'), '--reposdir', reposdir, '-n', 'tea']);
    expect(text.stdout).toMatch(/tea-ng\s+1\.0-1\s+noarch\s+req.*\n\s+instead of tea \(requested; obsoleted by tea-ng\)/);
  });

  it('with two obsoleters the alphabetically first wins (chai-a), as in dnf; a versioned spec keeps its package', () => {
    const dnf = dnfInstall(['chai']);
    expect(dnf.nevras).toEqual(['chai-a-1.0-1.noarch']);
    const s = cloneSysroot(base, 'obs-chai');
    expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, 'chai']).code).toBe(0);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    // dnf applies obsoletes only to a bare name: tea-1.0 is tea itself.
    const versioned = dnfInstall(['tea-1.0']);
    expect(versioned.nevras).toEqual(['tea-1.0-1.noarch']);
    const v = cloneSysroot(base, 'obs-versioned');
    expect(layer(['install', '--sysroot', v, '--reposdir', reposdir, 'tea-1.0']).code).toBe(0);
    expect(layeredByRpm(v)).toEqual(versioned.nevras);
  });
});

describe('installonly packages', () => {
  it('three kernels side by side (dnf\'s installonly_limit 3), then a fourth is refused naming the limit, as dnf refuses', () => {
    const three = ['kernel-1.0', 'kernel-2.0', 'kernel-3.0'];
    const dnf = dnfInstall(three);
    expect(dnf.nevras).toEqual(['kernel-1.0-1.noarch', 'kernel-2.0-1.noarch', 'kernel-3.0-1.noarch']);
    const s = cloneSysroot(base, 'kernels');
    const installed = layer(['install', '--sysroot', s, '--reposdir', reposdir, ...three]);
    expect(installed.code, installed.stderr).toBe(0);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    const verify = rpmIn(layerJson(['status', '--sysroot', s]).deployments[0].path, ['-Va', '--nofiles']);
    expect(verify.stdout + verify.stderr).toBe('');
    // dnf: four versions in one transaction are "conflicting requests"; layer names the limit.
    expect(dnfInstall([...three, 'kernel-4.0']).out).toMatch(/conflicting requests/);
    const four = layer(['install', '--sysroot', s, '--reposdir', reposdir, 'kernel-4.0']);
    expect(four.code).toBe(1);
    expect(four.stderr).toMatch(/installonly_limit is 3: kernel would have 4 versions in the tree \(kernel-1\.0-1\.noarch, .*kernel-4\.0-1\.noarch\) \[LAYER_UNSOLVABLE\]/);
    // --installonly-limit 4 (dnf's --setopt=installonly_limit=4) lets the fourth in, beside the others.
    const dnf4 = dnfInstall([...three, 'kernel-4.0'], ['installonly_limit=4']);
    expect(dnf4.nevras).toHaveLength(4);
    const ok = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--installonly-limit', '4', 'kernel-4.0']);
    expect(ok.transaction.map((t: { nevra: string; action: string }) => `${t.action} ${t.nevra}`)).toEqual(['install kernel-4.0-1.noarch']);
    expect(layeredByRpm(s)).toEqual(dnf4.nevras);
  });

  it('a provide of installonlypkg(kernel-module) is installonly too; --installonly-limit 1 is refused', () => {
    const dnf = dnfInstall(['kmod-demo-1.0', 'kmod-demo-2.0']);
    expect(dnf.nevras).toEqual(['kmod-demo-1.0-1.noarch', 'kmod-demo-2.0-1.noarch']);
    const s = cloneSysroot(base, 'kmod');
    const installed = layer(['install', '--sysroot', s, '--reposdir', reposdir, 'kmod-demo-1.0', 'kmod-demo-2.0']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    const one = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--installonly-limit', '1', 'kernel-1.0']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/--installonly-limit takes 0 \(no limit\) or a number of at least 2, not '1' \[LAYER_USAGE\]/);
  });
});

describe('--skip-broken', () => {
  it('a spec nothing matches and one that cannot be resolved are left out with a warning; the rest is installed, as dnf does', () => {
    const specs = ['broken', 'kernel-1.0', 'no-such-package'];
    const dnf = dnfInstall(['--skip-broken', ...specs]);
    expect(dnf.nevras).toEqual(['kernel-1.0-1.noarch']);
    const s = cloneSysroot(base, 'skip-broken');
    const strict = layer(['install', '--sysroot', s, '--reposdir', reposdir, ...specs]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/no package matches no-such-package \[LAYER_NO_MATCH\]/);
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--skip-broken', ...specs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: skipping broken \(--skip-broken\): cannot install broken: .*nothing provides nothing-provides-this needed by broken-1\.0-1\.noarch/);
    expect(r.stderr).toMatch(/warning: skipping no-such-package \(--skip-broken\): no package matches no-such-package/);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    // Skipped specs are not recorded: the next change does not try them again.
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['kernel-1.0']);
  });

  it('two specs that conflict only together: the earlier one is kept and the later skipped, in either order, as dnf does', () => {
    for (const specs of [['clash-a', 'sugar', 'clash-b'], ['clash-b', 'sugar', 'clash-a']]) {
      const [first, , later] = specs;
      const dnf = dnfInstall(['--skip-broken', ...specs]);
      expect(dnf.out, specs.join()).toMatch(new RegExp(`Skipping packages with conflicts:[\\s\\S]*\\n ${later}\\s`));
      expect(dnf.nevras).toEqual([`${first}-1.0-1.noarch`, 'sugar-1.0-1.noarch'].sort());
      const s = cloneSysroot(base, 'skip-combined');
      expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, ...specs]).code).toBe(1);
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--skip-broken', ...specs]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`warning: skipping ${later} \\(--skip-broken\\): cannot be installed together with the requests before it: `
        + 'package clash-a-1\\.0-1\\.noarch conflicts with clash-b provided by clash-b-1\\.0-1\\.noarch'));
      expect(r.stdout).not.toMatch(/instead of/);
      expect(layeredByRpm(s), specs.join()).toEqual(dnf.nevras);
      expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual([first, 'sugar']);
    }
  });
});

describe('globs in the version parts of a spec', () => {
  it('each spec installs the newest version its glob matches, the one dnf installs; a glob matching nothing is LAYER_NO_MATCH', () => {
    const s = cloneSysroot(base, 'version-glob');
    for (const spec of ['kernel-*.0-1.noarch', 'kernel-[23].0-1', 'k*l-2.*']) {
      const dnf = dnfInstall([spec]);
      expect(dnf.nevras, spec).toHaveLength(1);
      const j = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', spec]);
      expect(j.transaction.map((t: { nevra: string }) => t.nevra), spec).toEqual(dnf.nevras);
    }
    const none = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', 'kernel-9.*']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no package matches kernel-9\.\* \[LAYER_NO_MATCH\]/);
  });

  it('when the newest match cannot be installed, an older one is taken without best (--nobest), with a warning; --best refuses; dnf agrees', () => {
    const spec = 'needy-*.0-1.noarch';
    for (const flag of [[], ['--nobest']]) {
      const dnf = dnfInstall([...flag, spec]);
      expect(dnf.nevras, flag.join()).toEqual(['needy-1.0-1.noarch']);
      expect(dnf.out).toMatch(/Skipping packages with broken dependencies:\n needy +noarch +2\.0-1/);
      const s = cloneSysroot(base, 'glob-nobest');
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, ...flag, spec]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: needy-\*\.0-1\.noarch: installing needy-1\.0-1\.noarch, not the newest match needy-2\.0-1\.noarch: nothing provides needy-helper-nowhere needed by needy-2\.0-1\.noarch/);
      expect(layeredByRpm(s)).toEqual(dnf.nevras);
      expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual([spec]);
    }
    expect(dnfInstall(['--best', spec]).out).toMatch(/cannot install the best candidate for the job\n\s+- nothing provides needy-helper-nowhere/);
    const best = layer(['install', '--sysroot', cloneSysroot(base, 'glob-best'), '--reposdir', reposdir, '--best', spec]);
    expect(best.code).toBe(1);
    expect(best.stderr).toMatch(/nothing provides needy-helper-nowhere needed by needy-2\.0-1\.noarch[\s\S]*\[LAYER_UNSOLVABLE\]/);
  });
});

describe('exclude_from_weak', () => {
  it('--exclude-from-weak keeps a recommended package out, not a required one; dnf\'s exclude_from_weak agrees', () => {
    const plain = dnfInstall(['brew']);
    expect(plain.nevras).toEqual(['brew-1.0-1.noarch', 'milk-1.0-1.noarch', 'sugar-1.0-1.noarch']);
    const dnf = dnfInstall(['brew'], ['exclude_from_weak=sug*']);
    expect(dnf.nevras).toEqual(['brew-1.0-1.noarch', 'milk-1.0-1.noarch']);
    const s = cloneSysroot(base, 'exclude-from-weak');
    const dry = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', 'brew']);
    expect(dry.transaction.map((t: { nevra: string }) => t.nevra).sort()).toEqual(plain.nevras);
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--exclude-from-weak', 'sug*', 'brew']);
    expect(r.code, r.stderr).toBe(0);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    // A hard requirement is not a weak one: sugar comes with sweet-brew, as with dnf.
    const hard = dnfInstall(['brew', 'sweet-brew'], ['exclude_from_weak=sug*']);
    const h = cloneSysroot(base, 'exclude-from-weak-hard');
    expect(layer(['install', '--sysroot', h, '--reposdir', reposdir, '--exclude-from-weak', 'sug*', 'brew', 'sweet-brew']).code).toBe(0);
    expect(layeredByRpm(h)).toEqual(hard.nevras);
    expect(hard.nevras).toContain('sugar-1.0-1.noarch');
  });
});

describe('rich weak dependencies', () => {
  it('(weak-broken if cond-b else alt-c): the uninstallable branch brings nothing, the else branch comes when cond-b is absent; dnf agrees', () => {
    for (const specs of [['host', 'cond-b'], ['host']]) {
      const dnf = dnfInstall(specs);
      const s = cloneSysroot(base, 'rich-weak');
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, ...specs]);
      expect(r.code, r.stderr).toBe(0);
      expect(layeredByRpm(s), specs.join()).toEqual(dnf.nevras);
      const verify = rpmIn(layerJson(['status', '--sysroot', s]).deployments[0].path, ['-Va', '--nofiles']);
      expect(verify.stdout + verify.stderr, specs.join()).toBe('');
    }
  });
});

describe('dnf.conf [main] options', () => {
  it('the deployment\'s /etc/dnf/dnf.conf is read as dnf -c reads it (limits, installonlypkgs, weak and global excludes, best); flags win', () => {
    const conf = '[main]\ninstallonly_limit=2\ninstallonlypkgs=plugin\nexclude_from_weak=sug*\nexcludepkgs=chai-a\nbest=True\n';
    const confFile = join(tempDir('dnfreq-conf'), 'dnf.conf');
    writeFileSync(confFile, conf);
    const s = cloneSysroot(base, 'dnf-conf');
    const etc = join(layerJson(['status', '--sysroot', s]).deployments[0].path, 'etc/dnf');
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'dnf.conf'), conf);
    const dnf = (specs: string[], setopts: string[] = []) => dnfInstall(specs, setopts, undefined, confFile);
    const dry = (specs: string[], flags: string[] = []) => {
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', '--json', ...flags, ...specs]);
      return r.code === 0 ? (JSON.parse(r.stdout).transaction as { nevra: string }[]).map((t) => t.nevra).sort() : r.stderr;
    };
    // exclude_from_weak, global excludepkgs (chai-b obsoletes chai once chai-a is excluded), installonlypkgs.
    for (const specs of [['brew'], ['chai'], ['plugin-1.0', 'plugin-2.0']]) {
      const want = dnf(specs).nevras;
      expect(want.length, specs.join()).toBeGreaterThan(0);
      expect(dry(specs), specs.join()).toEqual(want);
    }
    expect(dnf(['brew']).nevras).toEqual(['brew-1.0-1.noarch', 'milk-1.0-1.noarch']);
    expect(dnf(['chai']).nevras).toEqual(['chai-b-1.0-1.noarch']);
    // best=True: the newest needy is uninstallable, so both refuse; --nobest (dnf's and layer's) takes 1.0.
    expect(dnf(['needy']).out).toMatch(/nothing provides needy-helper-nowhere/);
    expect(dry(['needy'])).toMatch(/needy-helper-nowhere[\s\S]*\[LAYER_UNSOLVABLE\]/);
    expect(dnfInstall(['--nobest', 'needy'], [], undefined, confFile).nevras).toEqual(['needy-1.0-1.noarch']);
    expect(dry(['needy'], ['--nobest'])).toEqual(['needy-1.0-1.noarch']);
    // installonly_limit=2: three kernels are refused by both; --installonly-limit 3 (--setopt for dnf) wins.
    const kernels = ['kernel-1.0', 'kernel-2.0', 'kernel-3.0'];
    expect(dnf(kernels).out).toMatch(/conflicting requests/);
    expect(dry(kernels)).toMatch(/installonly_limit is 2: kernel would have 3 versions/);
    expect(dnf(kernels, ['installonly_limit=3']).nevras).toHaveLength(3);
    expect(dry(kernels, ['--installonly-limit', '3'])).toEqual(dnf(kernels, ['installonly_limit=3']).nevras);
    // A real install reads the same file: rpm's view of the tree is dnf's set.
    expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, 'brew']).code).toBe(0);
    expect(layeredByRpm(s)).toEqual(['brew-1.0-1.noarch', 'milk-1.0-1.noarch']);
  });

  it('a malformed value in dnf.conf (installonly_limit=1) is warned about in dnf 4.14\'s words and the default limit (3) holds, as dnf does', () => {
    const conf = '[main]\ngpgcheck=1\ninstallonly_limit=1\nbest=maybe\n';
    const confFile = join(tempDir('dnfreq-conf-bad'), 'dnf.conf');
    writeFileSync(confFile, conf);
    const s = cloneSysroot(base, 'dnf-conf-bad');
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    mkdirSync(join(d.path, 'etc/dnf'), { recursive: true });
    writeFileSync(join(d.path, 'etc/dnf/dnf.conf'), conf);
    const kernels = ['kernel-1.0', 'kernel-2.0', 'kernel-3.0'];
    // dnf: a warning per value, then the transaction with the defaults (three kernels fit, four do not).
    const dnf = dnfInstall(kernels, [], undefined, confFile);
    expect(dnf.out).toContain(`Invalid configuration value: installonly_limit=1 in ${confFile}; value 1 is not allowed`);
    expect(dnf.out).toContain(`Invalid configuration value: best=maybe in ${confFile}; invalid boolean value 'maybe'`);
    expect(dnf.nevras).toHaveLength(3);
    expect(dnfInstall([...kernels, 'kernel-4.0'], [], undefined, confFile).out).toMatch(/conflicting requests/);
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, ...kernels]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: Invalid configuration value: installonly_limit=1 in \S+\/etc\/dnf\/dnf\.conf; value 1 is not allowed$/m);
    expect(r.stderr).toMatch(/^warning: Invalid configuration value: best=maybe in \S+\/etc\/dnf\/dnf\.conf; invalid boolean value 'maybe'$/m);
    expect(layeredByRpm(s)).toEqual(dnf.nevras);
    const four = layer(['install', '--sysroot', s, '--reposdir', reposdir, 'kernel-4.0']);
    expect(four.stderr).toMatch(/installonly_limit is 3: kernel would have 4 versions/);
    // On the command line the value is refused by both: dnf's --setopt is a config error.
    expect(dnfInstall(['kernel-1.0'], ['installonly_limit=1']).out).toMatch(/Config error: Error parsing --setopt with key 'installonly_limit', value '1': value 1 is not allowed/);
  });
});
