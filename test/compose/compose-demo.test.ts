/**
 * composeTree on the demo repos (real Debian binaries as RPMs): a base composed from nothing,
 * then `openssl` layered on it. Real rpm, ostree and the tree's own binaries are the oracles.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTree, COMPOSE_KEYS, type ComposeResult } from '../../src/compose/index.js';
import { RecordingReport } from '../../src/report.js';
import { commitMetadata, unbox } from '../../src/store/index.js';
import { ARCH, demoRepos, ostreeFsck, repoSetOf, request, requireTools, rpmq, run, workspace, type Workspace } from './helpers.js';

let ws: Workspace;
let baseNames: string[];
let base: ComposeResult;
let layered: ComposeResult;
let repos: Record<string, string>;

/** A deployment-like view of a commit: checkout (copy) with /etc restored from usr/etc. */
async function deployView(commit: string): Promise<string> {
  const dir = await mkdtemp(join(ws.dir, 'view-'));
  await rm(dir, { recursive: true });
  await ws.store.checkout(commit, dir, { hardlink: false });
  await cp(join(dir, 'usr/etc'), join(dir, 'etc'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return dir;
}

/**
 * Paths an image-based tree does not carry as packaged, by design (store/rpm-paths.ts): /var,
 * /run, /tmp come from tmpfiles.d at boot, /boot content lives in usr/lib/ostree-boot, /opt and
 * /usr/local point into /var. rpm -V reports them as missing; everything else must verify.
 */
function translated(line: string): boolean {
  return /^missing\s+(\S\s+)?\/(var|run|tmp|boot|opt|usr\/local)(\/|$)/.test(line);
}

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['ostree', 'ostree'], ['bwrap', 'bubblewrap'], ['createrepo_c', 'createrepo-c']]);
  const demo = await demoRepos();
  repos = { base: demo.base, updates: demo.updates };
  baseNames = demo.packages.filter((p) => p.repo === 'base').map((p) => p.name);
  ws = await workspace();
  const report = new RecordingReport();
  base = await composeTree(request(ws, repoSetOf({ base: demo.base }, join(ws.dir, 'md1')), { install: baseNames, report }));
  layered = await composeTree(request(ws, repoSetOf(repos, join(ws.dir, 'md2')), { base: { commit: base.commit! }, install: ['openssl'], report }));
}, 240_000);

afterAll(async () => ws?.cleanup());

describe('composeTree on the demo repos', () => {
  it('composes a base from nothing with every base package', async () => {
    expect(base.commit).toMatch(/^[0-9a-f]{64}$/);
    expect(base.packages.map((n) => n.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual([...baseNames].sort());
    const c = ws.store.readCommit(base.commit!);
    expect(c.parent).toBeUndefined();
    expect(unbox(commitMetadata(c, COMPOSE_KEYS.inputDigest)!)).toBe(base.inputDigest);
  });

  it('layers openssl with libssl3 on the base; parent is the base; metadata lists packages and repos', async () => {
    expect(layered.layered.map((n) => n.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['libssl3', 'openssl']);
    expect(layered.packages).toHaveLength(base.packages.length + 2);
    const c = ws.store.readCommit(layered.commit!);
    expect(c.parent).toBe(base.commit);
    expect(unbox(commitMetadata(c, COMPOSE_KEYS.packages)!)).toEqual(layered.packages);
    expect(unbox(commitMetadata(c, COMPOSE_KEYS.requested)!)).toEqual(['openssl']);
    const reposMd = unbox(commitMetadata(c, COMPOSE_KEYS.repos)!) as [string, string, string, bigint][];
    expect(reposMd.map((r) => r[0]).sort()).toEqual(['base', 'updates']);
    for (const r of reposMd) expect(r[1]).toMatch(/^[0-9a-f]{64}$/);
    expect(layered.transaction.find((s) => s.name === 'openssl')).toMatchObject({ action: 'install', epoch: 0, arch: 'x86_64', reason: 'requested', repo: 'updates' });
    expect(layered.transaction.find((s) => s.name === 'libssl3')?.reason).toBe('dependency');
    expect(layered.transaction.find((s) => s.name === 'openssl')?.downloadSize).toBeGreaterThan(0);
  });

  it('real rpm: -qa is exactly base + layered; -qf, --whatprovides, -ql, -qi answer; --rebuilddb works', async () => {
    const view = await deployView(layered.commit!);
    const qa = (await rpmq(view, ['-qa', '--qf', '%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n'])).trim().split('\n').sort();
    expect(qa).toEqual([...layered.packages].sort());
    expect((await rpmq(view, ['-qf', '/usr/bin/openssl', '--qf', '%{NAME}\\n'])).trim()).toBe('openssl');
    expect((await rpmq(view, ['-q', '--whatprovides', 'libssl.so.3()(64bit)', '--qf', '%{NAME}\\n'])).trim()).toBe('libssl3');
    expect((await rpmq(view, ['-ql', 'openssl'])).split('\n')).toContain('/usr/bin/openssl');
    expect(await rpmq(view, ['-qi', 'bash'])).toMatch(/^Name\s+: bash$/m);
    await rpmq(view, ['--rebuilddb']);
    const after = (await rpmq(view, ['-qa', '--qf', '%{NAME}\\n'])).trim().split('\n');
    expect(after).toHaveLength(layered.packages.length);
  });

  it('real rpm -Va on the composed tree reports nothing but mtime', async () => {
    const view = await deployView(layered.commit!);
    const res = await run('rpm', ['--root', view, '--dbpath', '/usr/lib/sysimage/rpm', '-Va'], { maxBuffer: 64 << 20 }).catch((e: { stdout: string }) => e);
    const lines = res.stdout.split('\n').filter((l: string) => l.trim() !== '');
    // Checkouts normalise mtime to 0: a line whose only flag is T (mtime) is expected.
    const mtimeOnly = (l: string) => /^\.{7}T\.?\s/.test(l) || /^\.+T\.*\s/.test(l);
    expect(lines.some(mtimeOnly)).toBe(true);
    const real = lines.filter((l: string) => !translated(l) && !mtimeOnly(l));
    expect(real).toEqual([]);
  });

  it("openssl runs inside the composed tree (the tree's own libc and libssl)", async () => {
    const view = await deployView(layered.commit!);
    const { stdout } = await run('bwrap', ['--bind', view, '/', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/openssl', 'version']);
    expect(stdout).toMatch(/^OpenSSL 3\./);
  });

  it('libssl3 %post ldconfig ran: ld.so.cache lists libssl in the layered tree', async () => {
    const cache = await readFile(join(await deployView(layered.commit!), 'etc/ld.so.cache')).catch(() => Buffer.alloc(0));
    expect(cache.includes('libssl.so.3')).toBe(true);
  });

  it('the same request again is detected as unchanged without rebuilding', async () => {
    const again = await composeTree(request(ws, repoSetOf(repos, join(ws.dir, 'md2')), {
      base: { commit: base.commit! }, install: ['openssl'], previous: { commit: layered.commit!, inputDigest: layered.inputDigest },
    }));
    expect(again.unchanged).toBe(true);
    expect(again.commit).toBe(layered.commit);
    expect(again.timings.import).toBeUndefined();
  });

  it('a spec the base provides is reported, not re-installed', async () => {
    const r = await composeTree(request(ws, repoSetOf(repos, join(ws.dir, 'md2')), { base: { commit: base.commit! }, install: ['bash', 'openssl'], options: { dryRun: true } }));
    expect(r.alreadyProvided).toEqual([{ spec: 'bash', by: expect.stringMatching(/^bash-/) }]);
    expect(r.commit).toBeUndefined();
    expect(r.layered.map((n) => n.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['libssl3', 'openssl']);
  });

  it('ostree fsck is clean on the store after the compositions', async () => {
    const out = await ostreeFsck(ws.store);
    expect(out).toMatch(/no errors found/);
    expect(out).not.toMatch(/corrupt/i);
    expect(ws.store.fsck().problems).toEqual([]);
  });
});

void ARCH;
