/**
 * The transaction pipeline through the CLI (issue 9): dry runs beside running transactions
 * (each composition owns its scratch space), "unchanged" decided by the result not the request,
 * system errors keeping their kind (a full disk is LAYER_IO, the old default intact), and the
 * coded events behind `--json` and `--events`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm, specText } from '../support/rpmbuild.js';
import {
  BASE_PACKAGES, cloneSysroot, ensureBuilt, initSysroot, layer, layerAsync, layerJson, ostreeFsck, removeTempDirs, repoFile, tempDir, testFixtures, type Fixtures,
} from './helpers.js';

let f: Fixtures;
let base: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'pipeline');
}, 300_000);

afterAll(() => removeTempDirs());

const start = (args: string[]) => layerAsync(args);

/** Run `layer install -n` on `sysroot` in a loop until `until` settles; returns every run's result. */
async function dryRunsDuring<T>(sysroot: string, until: Promise<T>): Promise<{ code: number | null; stderr: string }[]> {
  let done = false;
  void until.finally(() => (done = true));
  const runs: { code: number | null; stderr: string }[] = [];
  for (let i = 0; i < 200 && !done; i++) runs.push(await start(['install', '-n', '--sysroot', sysroot, 'dep-a']));
  return runs;
}

describe('dry runs beside transactions', () => {
  it('a loop of dry runs during an install neither fails it nor fails itself', async () => {
    const s = cloneSysroot(base, 'dry-install');
    const install = start(['install', '-y', '--sysroot', s, 'openssl', 'many-deps']);
    const dry = await dryRunsDuring(s, install);
    const r = await install;
    expect(r.code, r.stderr).toBe(0);
    expect(dry.length).toBeGreaterThan(1);
    for (const d of dry) expect(d.code, d.stderr).toBe(0);
    const st = layerJson(['status', '--sysroot', s]);
    expect(st.deployments[0]['requested-packages']).toEqual(['openssl', 'many-deps']);
    expect(ostreeFsck(s)).toMatch(/no errors found|fsck/i);
    // Nothing left behind in the cache: every composition removed its own scratch directory.
    const cache = spawnSync('sh', ['-c', `ls ${join(s, 'ostree/layer/cache')} | grep '^compose-' || true`], { encoding: 'utf8' }).stdout.trim();
    expect(cache).toBe('');
  });

  it('a loop of dry runs during an init: the init succeeds; dry runs succeed or say there is no deployment yet', async () => {
    const s = join(tempDir('dry-init'), 'sysroot');
    const init = start(['init', '--sysroot', s, '--osname', 'demo', '--reposdir', f.reposdir, ...BASE_PACKAGES]);
    const dry = await dryRunsDuring(s, init);
    const r = await init;
    expect(r.code, r.stderr).toBe(0);
    for (const d of dry) {
      if (d.code === 0) continue;
      // Before init has deployed, a dry run has nothing to plan on: a clear error, never an internal one.
      expect(d.code, d.stderr).toBe(1);
      expect(d.stderr).toMatch(/\[LAYER_SYSROOT\]/);
    }
    expect(layer(['install', '-n', '--sysroot', s, 'dep-a']).code).toBe(0);
  });
});

describe('unchanged means the result is unchanged', () => {
  it('the same request against repos with a newer version is a change; again with nothing new is not', async () => {
    const v1 = await buildRpm({ name: 'bump', version: '1.0', files: [{ path: '/usr/share/bump/v', content: '1\n' }] });
    const v2 = await buildRpm({ name: 'bump', version: '2.0', files: [{ path: '/usr/share/bump/v', content: '2\n' }] });
    const repo = tempDir('bump-repo');
    const stage = tempDir('bump-stage');
    copyFileSync(v1, join(stage, 'bump-1.0-1.noarch.rpm'));
    makeRepo(repo, [join(stage, 'bump-1.0-1.noarch.rpm')]);
    const reposdir = tempDir('bump-reposdir');
    // The bump repo's metadata expires at once, as a repo that publishes updates would say.
    writeFileSync(join(reposdir, 'test.repo'), `${repoFile({ base: f.base })}\n[bump]\nname=bump\nbaseurl=file://${repo}\ngpgcheck=0\nmetadata_expire=0\n`);
    const s = cloneSysroot(base, 'bump');
    expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, 'bump']).code).toBe(0);
    const first = layerJson(['status', '--sysroot', s]).deployments[0];

    // Same request, same repos: nothing new to deploy.
    const same = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--idempotent', '--unchanged-exit-77', 'bump']);
    expect(same.code, same.stderr).toBe(77);
    expect(layerJson(['status', '--sysroot', s]).deployments[0].id).toBe(first.id);

    // The repo now has bump 2.0: the same request resolves to a new package set.
    copyFileSync(v2, join(stage, 'bump-2.0-1.noarch.rpm'));
    makeRepo(repo, [join(stage, 'bump-1.0-1.noarch.rpm'), join(stage, 'bump-2.0-1.noarch.rpm')]);
    const newer = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--idempotent', 'bump']);
    expect(newer.outcome).toBe('deployed');
    expect(newer.transaction.map((t: { nevra: string }) => t.nevra)).toEqual(['bump-2.0-1.noarch']);
    const after = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(after.id).not.toBe(first.id);
    expect(readFileSync(join(after.path, 'usr/share/bump/v'), 'utf8')).toBe('2\n');
  });
});

describe('system errors keep their kind', () => {
  it('a full disk during an install is LAYER_IO (exit 74), no stack trace, the old default intact', () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run it as root (CI does)');
    const src = cloneSysroot(base, 'full-src');
    const used = Number(spawnSync('du', ['-sk', src], { encoding: 'utf8' }).stdout.split('\t')[0]);
    const mnt = tempDir('full-disk');
    // Room for the sysroot as it is and little more: the install's downloads and import run out.
    const size = used + 1024;
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}k`, 'tmpfs', mnt], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    try {
      const s = join(mnt, 'sysroot');
      spawnSync('cp', ['-a', src, s]);
      const before = layerJson(['status', '--sysroot', s]).deployments[0];
      const r = layer(['install', '--sysroot', s, 'openssl', 'many-deps']);
      expect(r.code, r.stderr).toBe(74);
      expect(r.stderr).toMatch(/^error: .*ENOSPC.*\[LAYER_IO\]$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const after = layerJson(['status', '--sysroot', s]).deployments[0];
      expect(after.id).toBe(before.id);
      expect(after.booted).toBe(true);
      // LAYER_DEBUG=1 is how a developer sees the stack.
      const dbg = layer(['install', '--sysroot', s, 'openssl', 'many-deps'], { env: { LAYER_DEBUG: '1' } });
      expect(dbg.code).toBe(74);
      expect(dbg.stderr).toMatch(/\n\s+at /);
    } finally {
      spawnSync('umount', ['-l', mnt]);
    }
  });
});

describe('coded events', () => {
  it('--json carries every stage, each scriptlet and warnings; --events streams the same events as JSON lines', () => {
    const s = cloneSysroot(base, 'events');
    const events = join(tempDir('events'), 'events.jsonl');
    const j = layerJson(['install', '--sysroot', s, '--events', events, 'openssl']);
    for (const stage of ['solve', 'download', 'verify', 'import', 'checkout', 'scriptlets', 'rpmdb', 'commit', 'deploy']) {
      expect(j.timings[stage], stage).toBeGreaterThanOrEqual(0);
    }
    expect(j.transaction.find((t: { name: string }) => t.name === 'openssl')).toMatchObject({ action: 'install', reason: 'requested' });
    // libssl3's %post runs ldconfig: one record with its package, kind, time and output.
    expect(j.scriptlets).toContainEqual(expect.objectContaining({ package: expect.stringMatching(/^libssl3-/), kind: 'post', ms: expect.any(Number), output: expect.any(String) }));
    expect(Array.isArray(j.warnings)).toBe(true);
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.every((e) => typeof e.code === 'string' && typeof e.t === 'number')).toBe(true);
    const ended = lines.filter((e) => e.code === 'stage.end').map((e) => e.data.stage);
    expect(ended).toEqual(expect.arrayContaining(['solve', 'download', 'import', 'commit', 'deploy']));
    expect(lines.filter((e) => e.code === 'scriptlet.ran').length).toBe(j.scriptlets.length);
    const result = lines.at(-1);
    expect(result.code).toBe('result');
    expect(result.data.outcome).toBe('deployed');
    expect(result.data.commit).toBe(j.commit);
  });

  it('LAYER_EVENTS works as --events does', () => {
    const s = cloneSysroot(base, 'events-env');
    const events = join(tempDir('events-env'), 'e.jsonl');
    mkdirSync(join(events, '..'), { recursive: true });
    const r = layer(['install', '-n', '--sysroot', s, 'dep-a'], { env: { LAYER_EVENTS: events } });
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1).data.outcome).toBe('dry-run');
  });
});

describe('state faults', () => {
  it('a truncated rpmdb in the current deployment does not block the next install; the new deployment is whole', () => {
    const s = cloneSysroot(base, 'truncated-rpmdb');
    const cur = layerJson(['status', '--sysroot', s]).deployments[0];
    const db = join(cur.path, 'usr/lib/sysimage/rpm/rpmdb.sqlite');
    const bytes = readFileSync(db);
    // The deployment's copy only (a hardlink would be the store's object: break it first).
    spawnSync('cp', ['--remove-destination', db, `${db}.tmp`]);
    writeFileSync(`${db}.tmp`, bytes.subarray(0, 4096));
    spawnSync('mv', [`${db}.tmp`, db]);
    const r = layer(['install', '--sysroot', s, 'dep-a']);
    expect(r.code, r.stderr).toBe(0);
    const now = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(now.id).not.toBe(cur.id);
    const q = spawnSync('rpm', ['--root', now.path, '--dbpath', '/usr/lib/sysimage/rpm', '-q', 'dep-a', 'bash'], { encoding: 'utf8' });
    expect(q.status, q.stderr).toBe(0);
  });
});

describe('the library', () => {
  it("the README's example runs through the package's own exports (import 'layer' from dist)", () => {
    const s = cloneSysroot(base, 'library');
    const script = `
      import { runTransaction, describeStatus, silentReport } from 'layer';
      const r = await runTransaction({
        sysroot: ${JSON.stringify(s)}, command: 'nightly-check', report: silentReport,
        change: { kind: 'install', packages: ['dep-a'], localRpms: [] },
        options: { dryRun: true },
      });
      const steps = (r.plan?.steps ?? []).map((x) => [x.action, x.name, x.version, x.reason].join(' '));
      console.log(JSON.stringify({ outcome: r.outcome, steps, ids: describeStatus(${JSON.stringify(s)}).deployments.map((d) => d.checksum) }));`;
    // Self-reference: inside the package, `import 'layer'` resolves through package.json "exports".
    const r = spawnSync('node', ['--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.outcome).toBe('dry-run');
    expect(out.steps).toEqual(['install dep-a 1.0 requested']);
    expect(out.ids).toEqual([layerJson(['status', '--sysroot', s]).deployments[0].checksum]);
  });
});

describe('the table shows the change', () => {
  it('uninstall (and its dry run) lists what is removed, by requested and unused dependency; a second install lists only the new package', () => {
    const s = cloneSysroot(base, 'change');
    expect(layer(['install', '--sysroot', s, 'with-weak']).code).toBe(0);
    const second = layerJson(['install', '--sysroot', s, '--dry-run', 'many-dep01']);
    expect(second.transaction.map((t: { name: string; action: string }) => `${t.action} ${t.name}`)).toEqual(['install many-dep01']);
    const dry = layer(['uninstall', '--sysroot', s, '--dry-run', 'with-weak']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^Removing:\n\s+with-weak\s/m);
    expect(dry.stdout).toMatch(/^Removing unused dependencies:\n(\s+.*\n)*\s+dep-a\s/m);
    expect(dry.stdout).not.toMatch(/Installing/);
    const j = layerJson(['uninstall', '--sysroot', s, 'with-weak']);
    expect(j.transaction.map((t: { name: string; action: string; reason: string }) => `${t.action} ${t.name} ${t.reason}`).sort())
      .toEqual(['remove dep-a cleanup', 'remove weak-b cleanup', 'remove with-weak requested']);
    expect(j.diff.removed.map((n: string) => n.replace(/-1\.0-1\.noarch$/, '')).sort()).toEqual(['dep-a', 'weak-b', 'with-weak']);
  });
});

describe('earlier requests', () => {
  it('a later command that cannot resolve an earlier request names that request, not the one typed now', async () => {
    const rpm = await buildRpm({ name: 'from-elsewhere', files: [{ path: '/usr/share/from-elsewhere/x', content: 'x\n' }] });
    const repo = tempDir('elsewhere-repo');
    const stage = tempDir('elsewhere-stage');
    copyFileSync(rpm, join(stage, 'from-elsewhere-1.0-1.noarch.rpm'));
    makeRepo(repo, [join(stage, 'from-elsewhere-1.0-1.noarch.rpm')]);
    const reposdir = tempDir('elsewhere-reposdir');
    writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, elsewhere: repo }));
    const s = cloneSysroot(base, 'earlier');
    expect(layer(['install', '--sysroot', s, '--reposdir', reposdir, 'from-elsewhere']).code).toBe(0);
    // The deployment's own repos do not have it: installing dep-a must say which request fails.
    const r = layer(['install', '--sysroot', s, 'dep-a']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the earlier request 'from-elsewhere' \(layered by a previous command\) matches no package.*\[LAYER_NO_MATCH\]/);
    expect(r.stderr).toMatch(/hint: .*--reposdir.*layer uninstall from-elsewhere/);
    const j = layer(['install', '--sysroot', s, '--json', 'dep-a']);
    expect(JSON.parse(j.stdout).error.data.earlier).toEqual(['from-elsewhere']);
  });
});

describe('a base package the repos have newer', () => {
  it('says so, with one message and code whichever spelling was used', async () => {
    const rpm = await buildRpm({ name: 'bash', version: '99.0', files: [{ path: '/usr/share/doc/bash-99/README', content: 'newer\n' }] });
    const repo = tempDir('newer-bash-repo');
    const stage = tempDir('newer-bash-stage');
    copyFileSync(rpm, join(stage, 'bash-99.0-1.noarch.rpm'));
    makeRepo(repo, [join(stage, 'bash-99.0-1.noarch.rpm')]);
    const reposdir = tempDir('newer-bash-reposdir');
    writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, newer: repo }));
    const s = cloneSysroot(base, 'newer-bash');
    const messages = ['bash', 'bash-99.0-1.noarch'].map((spec) => {
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, spec]);
      expect(r.code, r.stderr).toBe(1);
      const line = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
      expect(line).toMatch(/\[LAYER_BASE_LOCKED\]$/);
      expect(line).toMatch(/base has bash-5[^;]*; bash-99\.0-1\.noarch is available but the base is locked/);
      return line.replace(/^error: installing \S+: /, '');
    });
    expect(messages[0]).toBe(messages[1]);
  });
});

describe('repo filters and source packages', () => {
  it('excludepkgs in every dnf spec form; a pattern matching nothing warns; source RPMs in the repo are ignored', async () => {
    const v1 = await buildRpm({ name: 'bump', version: '1.0', files: [{ path: '/usr/share/bump/v', content: '1\n' }] });
    const v2 = await buildRpm({ name: 'bump', version: '2.0', files: [{ path: '/usr/share/bump/v', content: '2\n' }] });
    // A real source RPM of the same spec (its file list is `bump.spec`: not an absolute path).
    const top = tempDir('srpm');
    mkdirSync(join(top, 'SPECS'), { recursive: true });
    writeFileSync(join(top, 'SPECS', 'bump.spec'), specText({ name: 'bump', version: '2.0', files: [{ path: '/usr/share/bump/v', content: '2\n' }] }));
    const b = spawnSync('rpmbuild', ['-bs', '--quiet', '--define', `_topdir ${top}`, join(top, 'SPECS', 'bump.spec')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const stage = tempDir('filters-stage');
    const files = [['bump-1.0-1.noarch.rpm', v1], ['bump-2.0-1.noarch.rpm', v2], ['bump-2.0-1.src.rpm', join(top, 'SRPMS', 'bump-2.0-1.src.rpm')]]
      .map(([n, from]) => {
        copyFileSync(from!, join(stage, n!));
        return join(stage, n!);
      });
    const repo = tempDir('filters-repo');
    makeRepo(repo, files);
    const s = cloneSysroot(base, 'filters');
    for (const pattern of ['bump-2.0-1.noarch', 'bump-0:2.0-1.noarch', 'bump-2.0-1', 'bump-2.0', 'bump-*:2.*']) {
      const reposdir = tempDir('filters-reposdir');
      writeFileSync(join(reposdir, 'test.repo'), `${repoFile({ base: f.base })}\n[bump]\nname=bump\nbaseurl=file://${repo}\ngpgcheck=0\nmetadata_expire=-1\nexcludepkgs=${pattern} nomatch*\n`);
      // A file path outside primary's file subset: filelists are loaded, with the .src.rpm in them.
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', '--json', '/usr/share/bump/v']);
      expect(r.code, `${pattern}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout).transaction.map((t: { nevra: string }) => t.nevra), pattern).toEqual(['bump-1.0-1.noarch']);
      expect(r.stderr, pattern).toMatch(/warning: repo bump: excludepkgs\/includepkgs pattern 'nomatch\*' matches no package/);
      expect(r.stderr, pattern).not.toMatch(/not absolute|\.spec/);
    }
  });
});

describe('local package spellings', () => {
  it('a file:// URL (scheme in any case) is a local package; the same .rpm twice on one line is one request', () => {
    const s = cloneSysroot(base, 'file-url');
    const j = layerJson(['install', '--sysroot', s, `FILE://${f.localRpm}`, f.localRpm]);
    expect(j.outcome).toBe('deployed');
    expect(j.transaction.map((t: { name: string }) => t.name)).toEqual(['local-tool']);
    const st = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(st['requested-local-packages']).toHaveLength(1);
    const missing = layer(['install', '--sysroot', s, 'file:///nonexistent/x.rpm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/local package \/nonexistent\/x\.rpm .*does not exist \[LAYER_USAGE\]/);
  });
});

describe('uninstall spellings', () => {
  it('any spelling of a requested package removes its request; a dependency names the request that keeps it', () => {
    const s = cloneSysroot(base, 'uninstall-names');
    expect(layer(['install', '--sysroot', s, 'with-weak', 'many-dep01']).code).toBe(0);
    const dep = layer(['uninstall', '--sysroot', s, 'dep-a']);
    expect(dep.code).toBe(1);
    expect(dep.stderr).toMatch(/'dep-a' \(dep-a-1\.0-1\.noarch\) is not requested: the request 'with-weak' keeps it .*\[LAYER_NOT_REQUESTED\]/);
    for (const spelling of ['with-weak-1.0-1.noarch', 'with-weak.noarch', 'with-w*', 'with-weak-0:1.0-1.noarch']) {
      const c = cloneSysroot(s, 'uninstall-spelling');
      const j = layerJson(['uninstall', '--sysroot', c, spelling]);
      expect(j.outcome, spelling).toBe('deployed');
      expect(layerJson(['status', '--sysroot', c]).deployments[0]['requested-packages'], spelling).toEqual(['many-dep01']);
    }
  });
});

describe('--best and --nobest', () => {
  it('with the newest version not installable, --nobest (default) takes the older one and --best fails naming why; dnf agrees', async () => {
    const v1 = await buildRpm({ name: 'bestpick', version: '1.0', files: [{ path: '/usr/share/bestpick/v', content: '1\n' }] });
    const v2 = await buildRpm({ name: 'bestpick', version: '2.0', requires: ['bestpick-missing-dep'], files: [{ path: '/usr/share/bestpick/v', content: '2\n' }] });
    const stage = tempDir('best-stage');
    copyFileSync(v1, join(stage, 'bestpick-1.0-1.noarch.rpm'));
    copyFileSync(v2, join(stage, 'bestpick-2.0-1.noarch.rpm'));
    const repo = tempDir('best-repo');
    makeRepo(repo, [join(stage, 'bestpick-1.0-1.noarch.rpm'), join(stage, 'bestpick-2.0-1.noarch.rpm')]);
    const reposdir = tempDir('best-reposdir');
    writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, best: repo }));
    const s = cloneSysroot(base, 'best');
    for (const flags of [[], ['--nobest']]) {
      const j = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', ...flags, 'bestpick']);
      expect(j.transaction.map((t: { nevra: string }) => t.nevra), flags.join()).toEqual(['bestpick-1.0-1.noarch']);
    }
    const best = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', '--best', 'bestpick']);
    expect(best.code).toBe(1);
    expect(best.stderr).toMatch(/bestpick-missing-dep.*\[LAYER_UNSOLVABLE\]/s);
    // dnf 4.14 on the same repo: --nobest installs 1.0, --best fails on the same missing dependency.
    const root = tempDir('best-dnfroot');
    const dnf = (extra: string[]) => spawnSync('dnf', ['--installroot', root, `--setopt=reposdir=${reposdir}`, `--setopt=cachedir=${join(root, 'cache')}`,
      '--releasever=12', '--nogpgcheck', '--assumeno', ...extra, 'install', 'bestpick'], { encoding: 'utf8' });
    expect(dnf(['--nobest']).stdout).toMatch(/bestpick\s+noarch\s+1\.0-1/);
    const dnfBest = dnf(['--best']);
    expect(dnfBest.stdout + dnfBest.stderr).toMatch(/bestpick-missing-dep/);
  });
});

describe('lockfiles and upgrade', () => {
  it('upgrade of a recipe base writes --lockfile-out (the recomposed tree) and refuses --lockfile (deploy --lockfile takes it)', () => {
    const s = cloneSysroot(base, 'upgrade-lock');
    const file = join(tempDir('upgrade-lock-out'), 'lock.json');
    const r = layer(['upgrade', '--sysroot', s, '--lockfile-out', file, '--unchanged-exit-77']);
    expect(r.code, r.stderr).toBe(77);
    const lock = JSON.parse(readFileSync(file, 'utf8'));
    expect(lock.base).toMatchObject({ ref: 'demo/base', commit: null, recipe: expect.arrayContaining(['bash']) });
    const pinned = layer(['upgrade', '--sysroot', s, '--lockfile', file]);
    expect(pinned.code).toBe(2);
    expect(pinned.stderr).toMatch(/upgrade of a recipe base does not take --lockfile \[LAYER_USAGE\]\nhint: layer deploy --lockfile FILE/);
  });
});
