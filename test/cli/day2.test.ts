/**
 * Day-2 operations through the `layer` CLI (issue 16): pin / unpin, retention in the sysroot's
 * config, `cleanup -p/-r`, `status -v/--booted/--pending-exit-77`, and writers that wait for the
 * sysroot lock (`--lock-timeout`, the wait message) while readers never wait.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPOSE_KEYS } from '../../src/compose/types.js';
import { V, type Variant } from '../../src/store/index.js';
import { Sysroot } from '../../src/sysroot/index.js';
import { commitTree, origin } from '../sysroot/helpers.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, MAIN, ostreeFsck, removeTempDirs, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let base: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'day2');
}, 300_000);

afterAll(() => removeTempDirs());

function deployments(s: string, ...args: string[]): any[] {
  return layerJson(['status', '--sysroot', s, ...args]).deployments;
}

function install(s: string, pkg: string): void {
  const r = layer(['install', '--sysroot', s, pkg]);
  if (r.code !== 0) throw new Error(`layer install ${pkg} exited ${r.code}:\n${r.stderr}`);
}

function bootPending(s: string): void {
  expect(layer(['boot-pending', '--sysroot', s]).code).toBe(0);
}

/** Requested packages of each deployment in boot order, with its pin: a compact picture of the list. */
function picture(s: string): string[] {
  return deployments(s).map((d) => `${d['requested-packages'].join('+') || 'base'}${d.pinned ? ' (pinned)' : ''}${d.booted ? ' (booted)' : ''}`);
}

function spawnLayer(args: string[]): { done: Promise<{ code: number | null; stderr: string; ms: number }>; stderr: () => string; kill: () => void; pid: number } {
  const t0 = Date.now();
  const child = spawn('node', [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((res) => child.on('close', (code) => res({ code, stderr, ms: Date.now() - t0 }))), stderr: () => stderr, kill: () => child.kill('SIGKILL'),
    pid: child.pid ?? -1,
  };
}

function tickets(s: string): string[] {
  const q = join(s, 'ostree/layer/lock-queue');
  return existsSync(q) ? readdirSync(q) : [];
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('layer pin', () => {
  it('pins survive retention and cleanup -r/-p; status shows them; --unpin lets them go', () => {
    const s = cloneSysroot(base, 'pin');
    const pinned = layerJson(['pin', '--sysroot', s]);
    expect(pinned).toMatchObject({ changed: true, deployment: { pinned: true } });
    expect(layer(['pin', '--sysroot', s, '0']).stdout).toContain('Already pinned');
    expect(readFileSync(`${deployments(s)[0].path}.origin`, 'utf8')).toContain('\n[libostree-transient]\npinned=true\n');
    install(s, 'dep-a');
    bootPending(s);
    install(s, 'weak-b');
    bootPending(s);
    install(s, 'many-dep01');
    // Retention keeps one rollback (dep-a) beyond booted and pending; the pinned base stays too.
    expect(picture(s)).toEqual(['dep-a+weak-b+many-dep01', 'dep-a+weak-b (booted)', 'dep-a', 'base (pinned)']);
    const text = layer(['status', '--sysroot', s]).stdout;
    expect(text.match(/Pinned: yes/g)).toHaveLength(1);
    expect(text.indexOf('Pinned: yes')).toBeGreaterThan(text.lastIndexOf(deployments(s)[2].id));

    const rollback = deployments(s)[2];
    const r = layerJson(['cleanup', '--sysroot', s, '-r']);
    expect(r['removed-deployments']).toEqual([`demo/${rollback.checksum}.${rollback.serial}`]);
    expect(picture(s)).toEqual(['dep-a+weak-b+many-dep01', 'dep-a+weak-b (booted)', 'base (pinned)']);
    expect(layerJson(['cleanup', '--sysroot', s, '--pending'])['removed-deployments']).toHaveLength(1);
    expect(picture(s)).toEqual(['dep-a+weak-b (booted)', 'base (pinned)']);
    expect(layer(['status', '--sysroot', s, '--pending-exit-77']).code).toBe(0);

    expect(layerJson(['pin', '--sysroot', s, '--unpin', '1'])).toMatchObject({ changed: true, deployment: { pinned: false } });
    expect(layer(['status', '--sysroot', s]).stdout).not.toContain('Pinned:');
    expect(readFileSync(`${deployments(s)[1].path}.origin`, 'utf8')).not.toContain('libostree-transient');
    layerJson(['cleanup', '--sysroot', s, '-r']);
    expect(picture(s)).toEqual(['dep-a+weak-b (booted)']);
    ostreeFsck(s);
  });

  it('names a missing deployment and refuses two', () => {
    const s = cloneSysroot(base, 'pinbad');
    const r = layer(['pin', '--sysroot', s, '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no deployment '7'");
    expect(layer(['pin', '--sysroot', s, '0', '1']).code).toBe(2);
  });
});

describe('layer config / retention', () => {
  it('get/set retention; 0 keeps no rollback, 2 keeps two; bad values are usage errors', () => {
    const s = cloneSysroot(base, 'retention');
    expect(layer(['config', 'get', 'retention', '--sysroot', s]).stdout).toBe('1\n');
    expect(layerJson(['config', 'list', '--sysroot', s])).toEqual({ retention: 1 });
    expect(layer(['config', 'set', 'retention', '0', '--sysroot', s]).stdout).toBe('retention=0\n');
    expect(JSON.parse(readFileSync(join(s, 'ostree/layer/config.json'), 'utf8'))).toEqual({ retention: 0 });
    install(s, 'dep-a');
    bootPending(s);
    install(s, 'weak-b');
    expect(picture(s)).toEqual(['dep-a+weak-b', 'dep-a (booted)']);
    expect(layerJson(['config', 'set', 'retention', '2', '--sysroot', s])).toEqual({ retention: 2 });
    bootPending(s);
    install(s, 'many-dep01');
    bootPending(s);
    install(s, 'many-dep02');
    expect(picture(s)).toEqual(['dep-a+weak-b+many-dep01+many-dep02', 'dep-a+weak-b+many-dep01 (booted)', 'dep-a+weak-b', 'dep-a']);

    for (const bad of [['set', 'retention', '-1'], ['set', 'retention', 'many'], ['get', 'colour'], ['set', 'retention'], ['frob']]) {
      const r = layer(['config', ...bad, '--sysroot', s]);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).toContain('[LAYER_USAGE]');
    }
    expect(layer(['config', 'get', 'retention', '--sysroot', s]).stdout).toBe('2\n');
  });
});

describe('layer status -v / --booted / --pending-exit-77', () => {
  it('shows layered NEVRAs, the repos and revisions the commit was composed from, pins; --booted only the booted one', () => {
    const s = cloneSysroot(base, 'verbose');
    install(s, 'with-weak');
    const [pending, booted] = deployments(s);
    expect(pending['layered-nevras']).toEqual(expect.arrayContaining(['with-weak-1.0-1.noarch', 'dep-a-1.0-1.noarch', 'weak-b-1.0-1.noarch']));
    // The repos, checked against the fixture repos' own repomd.xml.
    const dirs: Record<string, string> = { base: f.base, updates: f.updates, extra: f.extra };
    const expected = Object.entries(dirs).map(([id, dir]) => {
      const repomd = readFileSync(join(dir, 'repodata/repomd.xml'));
      return { id, digest: createHash('sha256').update(repomd).digest('hex'), revision: /<revision>([^<]*)<\/revision>/.exec(repomd.toString())?.[1] ?? '' };
    }).sort((a, b) => a.id.localeCompare(b.id));
    expect(pending.repos.map((r: any) => ({ id: r.id, digest: r.digest, revision: r.revision })).sort((a: any, b: any) => a.id.localeCompare(b.id))).toEqual(expected);
    expect(pending.pinned).toBe(false);

    const v = layer(['status', '--sysroot', s, '-v']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('LayeredNEVRAs: ');
    expect(v.stdout).toContain('with-weak-1.0-1.noarch');
    expect(v.stdout.match(/Pinned: no/g)).toHaveLength(2);
    for (const r of expected) expect(v.stdout).toContain(`${r.id} (${r.revision ? `revision ${r.revision}, ` : ''}repomd ${r.digest.slice(0, 12)}`);
    expect(v.stdout).toMatch(/Date: \d{4}-\d\d-\d\dT/);
    // Without -v: none of that.
    const plain = layer(['status', '--sysroot', s]).stdout;
    expect(plain).not.toContain('LayeredNEVRAs');
    expect(plain).not.toContain('Repos:');

    const only = deployments(s, '--booted');
    expect(only.map((d) => d.id)).toEqual([booted.id]);
    expect(layer(['status', '--sysroot', s, '-b']).stdout).not.toContain(pending.checksum);

    expect(layer(['status', '--sysroot', s, '--pending-exit-77']).code).toBe(77);
    bootPending(s);
    expect(layer(['status', '--sysroot', s, '--pending-exit-77']).code).toBe(0);
  });
});

describe('status -v: base packages removed or replaced', () => {
  it('compares the base commit\'s package list with the deployment\'s, with versions', async () => {
    // Base changes need --allow-base-changes style requests the CLI does not offer yet: the
    // commits are made with the metadata a compose records (COMPOSE_KEYS.packages).
    const dir = join(tempDir('basechanges'), 'sysroot');
    const sr = Sysroot.init(dir);
    sr.lock('test');
    const pkgs = (list: string[]): [string, Variant][] => [[COMPOSE_KEYS.packages, V.strings(list)]];
    const a = await commitTree(sr, { 'usr/bin/tool': 'v1' }, pkgs(['bash-5.2-1.x86_64', 'gone-1.0-1.noarch', 'kept-1-1.noarch']));
    await sr.deploy('demo', a, origin(a));
    const b = await commitTree(sr, { 'usr/bin/tool': 'v2' }, pkgs(['bash-5.2.15-2.x86_64', 'kept-1-1.noarch', 'new-2-1.noarch']));
    await sr.deploy('demo', b, { ...origin(a, ['new']), removed: ['gone'] });
    sr.release();
    const [d, baseDep] = deployments(dir);
    expect(d['removed-base-nevras']).toEqual(['gone-1.0-1.noarch']);
    expect(d['replaced-base-nevras']).toEqual([{ from: 'bash-5.2-1.x86_64', to: 'bash-5.2.15-2.x86_64' }]);
    expect(d['requested-base-removals']).toEqual(['gone']);
    expect(baseDep['removed-base-nevras']).toEqual([]);
    expect(baseDep['replaced-base-nevras']).toEqual([]);
    const v = layer(['status', '--sysroot', dir, '-v']).stdout;
    expect(v).toContain('RemovedBasePackages: gone-1.0-1.noarch\n');
    expect(v).toContain('ReplacedBasePackages: bash-5.2-1.x86_64 -> bash-5.2.15-2.x86_64\n');
    expect(v).toContain('(none recorded: a base taken as it is)');
    const plain = layer(['status', '--sysroot', dir]).stdout;
    expect(plain).toContain('RemovedBasePackages: gone\n');
    expect(plain).not.toContain('ReplacedBasePackages');
  });
});

describe('waiting for the sysroot lock', () => {
  it('writers wait for the holder and name it; --lock-timeout 0 fails at once with exit 3; readers never wait', async () => {
    const s = cloneSysroot(base, 'lockwait');
    const holder = Sysroot.open(s);
    holder.lock('layer install (test holder)');
    try {
      const now = layer(['pin', '--sysroot', s, '--lock-timeout', '0']);
      expect(now.code).toBe(3);
      expect(now.stderr).toContain(`sysroot is locked by pid ${process.pid} (layer install (test holder)`);
      expect(now.stderr).toContain('[LAYER_LOCKED]');
      expect(now.stderr).not.toContain('Waiting for the sysroot lock');

      const t0 = Date.now();
      const timed = layer(['config', 'set', 'retention', '3', '--sysroot', s, '--lock-timeout', '1']);
      expect(timed.code).toBe(3);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(timed.stderr).toMatch(new RegExp(`Waiting for the sysroot lock: held by pid ${process.pid} \\(layer install \\(test holder\\)\\) since \\d{4}-`));
      expect(timed.stderr).toContain('after waiting 1 s');

      // Readers answer while the lock is held.
      expect(layer(['status', '--sysroot', s]).code).toBe(0);
      expect(layer(['config', 'get', 'retention', '--sysroot', s]).stdout).toBe('1\n');

      const waiting = spawnLayer(['pin', '--sysroot', s]);
      const cleaning = spawnLayer(['cleanup', '--sysroot', s, '--lock-timeout', '60']);
      await new Promise((r) => setTimeout(r, 1500));
      holder.release();
      const [p, c] = await Promise.all([waiting.done, cleaning.done]);
      expect(p.code, p.stderr).toBe(0);
      expect(c.code, c.stderr).toBe(0);
      expect(p.stderr).toContain(`Waiting for the sysroot lock: held by pid ${process.pid}`);
      expect(p.ms).toBeGreaterThanOrEqual(1500);
    } finally {
      holder.release();
    }
    expect(deployments(s)[0].pinned).toBe(true);
    expect(layer(['config', 'get', 'retention', '--sysroot', s]).stdout).toBe('1\n');
  }, 60_000);

  it('a writer SIGKILLed while it waits leaves nothing that blocks the next one; the holder is unaffected', async () => {
    const s = cloneSysroot(base, 'killwait');
    const holder = Sysroot.open(s);
    holder.lock('layer install (test holder)');
    const victim = spawnLayer(['config', 'set', 'retention', '5', '--sysroot', s]);
    await until('the writer to wait', () => victim.stderr().includes('Waiting for the sysroot lock'));
    expect(tickets(s)).toHaveLength(1);
    victim.kill();
    expect((await victim.done).code).toBe(null);
    // The holder still holds the lock and can change the sysroot.
    expect(readFileSync(join(s, 'ostree/layer/lock'), 'utf8')).toContain(`"pid":${process.pid}`);
    holder.setPinned(holder.deployments()[0]!, true);
    holder.release();
    // The next writer does not wait for the dead one (0: it would fail at once if it did).
    const next = layer(['pin', '--sysroot', s, '--unpin', '--lock-timeout', '0']);
    expect(next.code, next.stderr).toBe(0);
    expect(tickets(s)).toEqual([]);
    expect(layer(['config', 'get', 'retention', '--sysroot', s]).stdout).toBe('1\n');
    expect(deployments(s)[0].pinned).toBe(false);
  }, 60_000);
});

describe('concurrent installs', () => {
  it('three installs started at once all succeed, one after another; the final deployment has all three', async () => {
    const s = cloneSysroot(base, 'three');
    const runs = ['dep-a', 'weak-b', 'many-dep01'].map((pkg) => spawnLayer(['install', '--sysroot', s, pkg]));
    const done = await Promise.all(runs.map((r) => r.done));
    for (const d of done) expect(d.code, d.stderr).toBe(0);
    // Two of them found the lock taken and said who held it.
    expect(done.filter((d) => /Waiting for the sysroot lock: held by pid \d+ \(layer install/.test(d.stderr))).toHaveLength(2);
    const [last] = deployments(s);
    expect([...last['requested-packages']].sort()).toEqual(['dep-a', 'many-dep01', 'weak-b']);
    const nevras = layerJson(['db', 'list', '--sysroot', s]).packages as string[];
    for (const n of ['dep-a-1.0-1.noarch', 'weak-b-1.0-1.noarch', 'many-dep01-1.0-1.noarch']) expect(nevras).toContain(n);
    expect(tickets(s)).toEqual([]);
    ostreeFsck(s);
  }, 180_000);

  it('install --lock-timeout 0 exits 3 at once while another transaction holds the lock', () => {
    const s = cloneSysroot(base, 'timeout0');
    const holder = Sysroot.open(s);
    holder.lock('layer uninstall (test holder)');
    try {
      const r = layer(['install', '--sysroot', s, '--lock-timeout', '0', 'dep-a']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`sysroot is locked by pid ${process.pid} (layer uninstall (test holder)`);
      // Dry runs are readers: they never wait.
      expect(layer(['install', '--sysroot', s, '--dry-run', 'dep-a']).code).toBe(0);
    } finally {
      holder.release();
    }
    expect(deployments(s)).toHaveLength(1);
  });

  it('an install SIGKILLed while waiting leaves no ticket; the running install finishes unaffected', async () => {
    const s = cloneSysroot(base, 'killinstall');
    // A test holder first, so that both installs are sure to queue: a whole install can finish
    // here before a second process has started (CI once saw the second never wait).
    const holder = Sysroot.open(s);
    holder.lock('layer install (test holder)');
    const running = spawnLayer(['install', '--sysroot', s, 'many-deps']);
    const victim = await (async () => {
      try {
        await until('the first install to wait', () => running.stderr().includes('Waiting for the sysroot lock'));
        const v = spawnLayer(['install', '--sysroot', s, 'dep-a']);
        await until('the second install to wait', () => v.stderr().includes('Waiting for the sysroot lock'));
        expect(tickets(s)).toHaveLength(2);
        return v;
      } finally {
        holder.release();
      }
    })();
    // The first in line takes the lock and runs; the second, still waiting, is told who holds it now.
    await until('the second install to wait for the first', () => victim.stderr().includes(`held by pid ${running.pid} (layer install`));
    victim.kill();
    expect((await victim.done).code).toBe(null);
    const r = await running.done;
    expect(r.code, r.stderr).toBe(0);
    expect(deployments(s)[0]['requested-packages']).toEqual(['many-deps']);
    const next = layer(['install', '--sysroot', s, '--lock-timeout', '0', 'dep-a']);
    expect(next.code, next.stderr).toBe(0);
    expect(tickets(s)).toEqual([]);
    expect(deployments(s)[0]['requested-packages'].sort()).toEqual(['dep-a', 'many-deps']);
  }, 180_000);
});
