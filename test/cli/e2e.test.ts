/**
 * End-to-end through the `layer` CLI on a directory sysroot: init, install (deps, weak deps,
 * local .rpm), uninstall, idempotency and exit 77, base-provided requests, conflicts with the
 * culprit named, rollback twice, status --json fields, db diff, cleanup retention, /etc edits.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, ostreeFsck, requireTool, testFixtures, type Fixtures, removeTempDirs, tempDir } from './helpers.js';

let f: Fixtures;
let base: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f);
}, 180_000);

afterAll(() => removeTempDirs());

function deployments(s: string): any[] {
  return layerJson(['status', '--sysroot', s]).deployments;
}

describe('layer init', () => {
  it('composes a base from repo packages and deploys it as the booted deployment', () => {
    const [d, ...rest] = deployments(base);
    expect(rest).toEqual([]);
    expect(d.booted).toBe(true);
    expect(d.osname).toBe('demo');
    expect(d['base-checksum']).toBe(d.checksum);
    expect(d['requested-packages']).toEqual([]);
    const list = layerJson(['db', 'list', '--sysroot', base]).packages as string[];
    expect(list.some((n) => n.startsWith('bash-5'))).toBe(true);
    expect(list.some((n) => n.startsWith('libc6-'))).toBe(true);
    // The repo files given to init are the deployment's repos from now on.
    expect(readFileSync(join(d.path, 'etc/yum.repos.d/test.repo'), 'utf8')).toContain('[extra]');
  });

  it('--from-ostree takes the base commit from an existing ostree repo', () => {
    requireTool('ostree');
    const tmp = tempDir('fromostree');
    const tree = join(tmp, 'tree');
    mkdirSync(join(tree, 'usr/bin'), { recursive: true });
    mkdirSync(join(tree, 'usr/etc'), { recursive: true });
    writeFileSync(join(tree, 'usr/bin/hello'), 'hello\n');
    writeFileSync(join(tree, 'usr/etc/hello.conf'), 'greeting=hi\n');
    const repo = join(tmp, 'repo');
    execFileSync('ostree', [`--repo=${repo}`, 'init', '--mode=bare-user']);
    const commit = execFileSync('ostree', [`--repo=${repo}`, 'commit', '-b', 'os/base', `--tree=dir=${tree}`, '-s', 'base'], { encoding: 'utf8' }).trim();
    const s = join(tmp, 'sysroot');
    const r = layer(['init', '--sysroot', s, '--osname', 'ox', '--from-ostree', `${repo}:os/base`]);
    expect(r.code, r.stderr).toBe(0);
    const [d] = deployments(s);
    expect(d.checksum).toBe(commit);
    expect(d.origin).toBe(`${repo}:os/base`);
    expect(readFileSync(join(d.path, 'etc/hello.conf'), 'utf8')).toBe('greeting=hi\n');
    const bad = layer(['init', '--sysroot', join(tmp, 'other'), '--osname', 'ox', '--from-ostree', `${repo}:no/such/ref`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no/such/ref');
  });

  it('refresh-md refreshes the deployment\'s repos', () => {
    const r = layerJson(['refresh-md', '--sysroot', cloneSysroot(base, 'refresh')]);
    expect(r.repos.map((x: any) => x.id).sort()).toEqual(['base', 'extra', 'updates']);
  });

  it('refuses a non-empty directory and names it', () => {
    const r = layer(['init', '--sysroot', base, '--osname', 'demo', '--reposdir', f.reposdir, 'bash']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(base);
  });
});

describe('layer install / uninstall', () => {
  it('installs with dependencies and weak dependencies, shows the table and the package diff', () => {
    const s = cloneSysroot(base, 'weak');
    const r = layer(['install', '--sysroot', s, 'with-weak']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/with-weak\s.*requested/);
    expect(r.stdout).toMatch(/dep-a\s.*dependency/);
    expect(r.stdout).toMatch(/weak-b\s.*weak-dependency/);
    expect(r.stdout).toMatch(/Added:\n(\s+.*\n)*\s+with-weak-1\.0-1\.noarch/);
    expect(r.stdout).toContain('layer boot-pending');
    const [pending, booted] = deployments(s);
    expect(pending.booted).toBe(false);
    expect(pending.pending).toBe(true);
    expect(booted.booted).toBe(true);
    expect(pending['requested-packages']).toEqual(['with-weak']);
    expect([...pending['layered-nevras']].sort()).toEqual(['dep-a-1.0-1.noarch', 'weak-b-1.0-1.noarch', 'with-weak-1.0-1.noarch']);
    expect(existsSync(join(pending.path, 'usr/share/weak-b/README'))).toBe(true);
    expect(existsSync(join(booted.path, 'usr/share/weak-b/README'))).toBe(false);
    const diff = layer(['db', 'diff', '--sysroot', s]);
    expect(diff.stdout).toContain(`diff from: demo ${booted.checksum}.0`);
    expect(diff.stdout).toMatch(/Added:\n\s+dep-a-1\.0-1\.noarch\n\s+weak-b-1\.0-1\.noarch\n\s+with-weak-1\.0-1\.noarch\n/);

    // Uninstall recomposes from the base without it: the layered packages all go.
    const u = layerJson(['uninstall', '--sysroot', s, 'with-weak']);
    expect(u.outcome).toBe('deployed');
    expect([...u.diff.removed].sort()).toEqual(['dep-a-1.0-1.noarch', 'weak-b-1.0-1.noarch', 'with-weak-1.0-1.noarch']);
    const after = deployments(s);
    expect(after[0]['requested-packages']).toEqual([]);
    expect(existsSync(join(after[0].path, 'usr/share/with-weak'))).toBe(false);
    ostreeFsck(s);
  });

  it('installs a local .rpm, records it by content hash, and uninstalls it by name', () => {
    const s = cloneSysroot(base, 'local');
    const j = layerJson(['install', '--sysroot', s, f.localRpm]);
    expect(j.outcome).toBe('deployed');
    const [d] = deployments(s);
    expect(d['requested-local-packages']).toEqual(['local-tool-1.0-1.noarch']);
    expect(readFileSync(join(d.path, 'usr/bin/local-tool'), 'utf8')).toContain('local-tool works');
    expect(readFileSync(`${d.path}.origin`, 'utf8')).toMatch(/requested-local=[0-9a-f]{64}:local-tool-1\.0-1\.noarch;/);
    // A later install recomposes with the kept copy of the local package.
    layerJson(['install', '--sysroot', s, 'dep-a']);
    expect(existsSync(join(deployments(s)[0].path, 'usr/bin/local-tool'))).toBe(true);
    const u = layerJson(['uninstall', '--sysroot', s, 'local-tool']);
    expect(u.diff.removed).toEqual(['local-tool-1.0-1.noarch']);
  });

  it('is idempotent on request, exits 77 with --unchanged-exit-77, and names what is already requested', () => {
    const s = cloneSysroot(base, 'idem');
    expect(layer(['install', '--sysroot', s, 'dep-a']).code).toBe(0);
    const again = layer(['install', '--sysroot', s, 'dep-a']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: package 'dep-a' is already requested \[LAYER_ALREADY_REQUESTED\]$/m);
    expect(layer(['install', '--sysroot', s, '--idempotent', 'dep-a']).code).toBe(0);
    const r77 = layer(['install', '--sysroot', s, '--idempotent', '--unchanged-exit-77', 'dep-a']);
    expect(r77.code).toBe(77);
    expect(r77.stdout).toContain('No change.');
    const notReq = layer(['uninstall', '--sysroot', s, 'weak-b']);
    expect(notReq.code).toBe(1);
    expect(notReq.stderr).toContain("package 'weak-b' is not currently requested");
    expect(layer(['uninstall', '--sysroot', s, '--idempotent', '--unchanged-exit-77', 'weak-b']).code).toBe(77);
    expect(deployments(s)).toHaveLength(2);
  });

  it('refuses what the base provides unless --allow-inactive', () => {
    const s = cloneSysroot(base, 'inactive');
    const r = layer(['install', '--sysroot', s, 'bash', '/usr/bin/ls']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bash \(by bash-5\.2\.15-2\+b13\.x86_64\), \/usr\/bin\/ls \(by coreutils-9\.1-1\.x86_64\): already provided by the base/);
    expect(r.stderr).toContain('--allow-inactive');
    expect(deployments(s)).toHaveLength(1);
    const ok = layerJson(['install', '--sysroot', s, '--allow-inactive', 'bash']);
    expect(ok.outcome).toBe('deployed');
    const [d] = deployments(s);
    expect(d['requested-packages']).toEqual(['bash']);
    expect(d.packages).toEqual([]);
  });

  it('names the culprit of an unsolvable request and leaves the sysroot as it was', () => {
    const s = cloneSysroot(base, 'conflict');
    const before = deployments(s);
    const c = layer(['install', '--sysroot', s, 'conflicts-with-base']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/conflicts-with-base/);
    expect(c.stderr).toMatch(/bash/);
    const m = layer(['install', '--sysroot', s, 'needs-missing']);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('no-such-capability');
    const none = layer(['install', '--sysroot', s, 'no-such-package-at-all']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no-such-package-at-all');
    expect(deployments(s)).toEqual(before);
  });

  it('installs by provide and by file path; --reposdir replaces the deployment\'s repos', () => {
    const s = cloneSysroot(base, 'provides');
    const j = layerJson(['install', '--sysroot', s, 'libssl.so.3()(64bit)', '/usr/bin/openssl']);
    expect(j.transaction.map((t: any) => `${t.name}:${t.reason}`).sort()).toEqual(['libssl3:requested', 'openssl:requested']);
    const [d] = deployments(s);
    expect(d['requested-packages']).toEqual(['libssl.so.3()(64bit)', '/usr/bin/openssl']);
    expect(existsSync(join(d.path, 'usr/bin/openssl'))).toBe(true);
    // db diff with explicit deployments (index in boot order).
    const diff = layerJson(['db', 'diff', '--sysroot', s, '1', '0']);
    expect(diff.added.map((n: string) => n.replace(/-\d.*/, '')).sort()).toEqual(['libssl3', 'openssl']);
    // Only the base repo: dep-a (from the extra repo) is not found, and the error names it.
    const only = tempDir('onlybase');
    writeFileSync(join(only, 'b.repo'), `[base]\nname=base\nbaseurl=file://${f.base}\ngpgcheck=0\n`);
    const r = layer(['install', '--sysroot', s, '--reposdir', only, 'dep-a']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dep-a/);
  });

  it('--dry-run and --download-only change nothing; --cache-only works from the cache', () => {
    const s = cloneSysroot(base, 'dry');
    const j = layerJson(['install', '--sysroot', s, '--dry-run', 'with-weak']);
    expect(j.outcome).toBe('dry-run');
    expect(j.transaction.map((t: any) => `${t.name}:${t.reason}`).sort()).toEqual(['dep-a:dependency', 'weak-b:weak-dependency', 'with-weak:requested']);
    expect(deployments(s)).toHaveLength(1);
    expect(layerJson(['install', '--sysroot', s, '--download-only', 'with-weak']).outcome).toBe('downloaded');
    expect(deployments(s)).toHaveLength(1);
    // With metadata and packages cached, --cache-only needs nothing else.
    expect(layerJson(['install', '--sysroot', s, '--cache-only', 'with-weak']).outcome).toBe('deployed');
    expect(deployments(s)[0]['requested-packages']).toEqual(['with-weak']);
  });
});

describe('rollback, status, cleanup, /etc', () => {
  it('rollback reorders; a second rollback undoes the first', () => {
    const s = cloneSysroot(base, 'rollback');
    layerJson(['install', '--sysroot', s, 'dep-a']);
    const [a, b] = deployments(s).map((d) => d.checksum);
    const r1 = layerJson(['rollback', '--sysroot', s]);
    expect(r1.deployment.checksum).toBe(b);
    expect(r1.ms).toBeLessThan(100);
    expect(deployments(s).map((d) => d.checksum)).toEqual([b, a]);
    expect(deployments(s)[0].booted).toBe(true);
    layerJson(['rollback', '--sysroot', s]);
    expect(deployments(s).map((d) => d.checksum)).toEqual([a, b]);
  });

  it('status --json has rpm-ostree field names', () => {
    const s = cloneSysroot(base, 'status');
    layerJson(['install', '--sysroot', s, 'dep-a']);
    const st = layerJson(['status', '--sysroot', s]);
    for (const d of st.deployments) {
      for (const k of ['osname', 'checksum', 'serial', 'booted', 'base-checksum', 'requested-packages', 'packages', 'version', 'timestamp', 'path']) expect(d).toHaveProperty(k);
      expect(d.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof d.timestamp).toBe('number');
    }
    expect(st.deployments[0].packages).toEqual(['dep-a']);
    expect(st.deployments[0]['base-checksum']).toBe(st.deployments[1].checksum);
    const text = layer(['status', '--sysroot', s]).stdout;
    expect(text).toContain('(pending: next boot)');
    expect(text).toContain('● demo');
    expect(text).toContain('LayeredPackages: dep-a');
  });

  it('keeps booted, pending and one rollback; cleanup removes the rest; fsck is clean', () => {
    const s = cloneSysroot(base, 'retention');
    const seen: string[] = [deployments(s)[0].checksum];
    for (const p of ['dep-a', 'weak-b', 'many-dep01']) {
      layerJson(['install', '--sysroot', s, p]);
      seen.push(deployments(s)[0].checksum);
      layerJson(['boot-pending', '--sysroot', s]);
    }
    layerJson(['install', '--sysroot', s, 'many-dep02']);
    seen.push(deployments(s)[0].checksum);
    const ds = deployments(s);
    expect(ds.map((d) => d.checksum)).toEqual([seen[4], seen[3], seen[2]]);
    // With a pending deployment, rollback goes back to the booted one; the third is kept as the
    // booted one's own predecessor.
    expect(ds.map((d) => [d.pending, d.booted, d.rollback])).toEqual([[true, false, false], [false, true, true], [false, false, false]]);
    const c = layerJson(['cleanup', '--sysroot', s]);
    expect(c['removed-deployments']).toEqual([]);
    expect(existsSync(join(s, 'ostree/deploy/demo/deploy', `${seen[1]}.0`))).toBe(false);
    ostreeFsck(s);
  });

  it('carries /etc edits of the booted deployment into the new one', () => {
    const s = cloneSysroot(base, 'etc');
    const [d0] = deployments(s);
    writeFileSync(join(d0.path, 'etc/hostname'), 'edited-by-admin\n');
    writeFileSync(join(d0.path, 'etc/motd'), 'admin added this\n');
    layerJson(['install', '--sysroot', s, 'ships-etc']);
    const [d1] = deployments(s);
    expect(readFileSync(join(d1.path, 'etc/hostname'), 'utf8')).toBe('edited-by-admin\n');
    expect(readFileSync(join(d1.path, 'etc/motd'), 'utf8')).toBe('admin added this\n');
    expect(readFileSync(join(d1.path, 'etc/ships-etc.conf'), 'utf8')).toBe('default=1\n');
    expect(readFileSync(join(d1.path, 'usr/etc/hostname'), 'utf8')).not.toBe('edited-by-admin\n');
  });

  it('exit statuses: usage 2, not a sysroot 1 with the path named', () => {
    expect(layer(['frobnicate']).code).toBe(2);
    expect(layer(['install', '--sysroot', base, '--no-such-flag', 'x']).code).toBe(2);
    const r = layer(['status', '--sysroot', '/nonexistent/sysroot']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: \/nonexistent\/sysroot is not a sysroot/);
  });
});
