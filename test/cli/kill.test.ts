/**
 * Crash safety and locking through the CLI.
 *
 * Kill test: `layer install` is SIGKILLed at 20 randomised points (seeded; the seed is printed
 * and LAYER_KILL_SEED replays a run). After each kill: `status` works, the default deployment
 * is the old one or the complete new one (its rpmdb and files hold the package), `ostree fsck`
 * is clean, and the next install (the same request, --idempotent) succeeds.
 *
 * Concurrency: two installs started together: one deploys, the other deploys after it or fails
 * with LAYER_LOCKED (exit 3) naming the holder; the sysroot is consistent afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from '../../src/compose/scratch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, MAIN, ostreeFsck, testFixtures, removeTempDirs } from './helpers.js';
import { mulberry32 as prng } from '../support/prng.js';

let base: string;

beforeAll(async () => {
  ensureBuilt();
  base = initSysroot(await testFixtures(), 'kill');
}, 180_000);

afterAll(() => removeTempDirs());


function spawnLayer(args: string[]): { done: Promise<{ code: number | null; signal: string | null; stderr: string }>; kill: () => void } {
  const child = spawn('node', [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety', () => {
  it('SIGKILL at 20 random points leaves the old or the complete new default; the next install succeeds', async () => {
    const s = cloneSysroot(base, 'kill');
    // Calibrate: how long a whole install takes here, so kills land across all of it.
    const t0 = performance.now();
    const first = layer(['install', '--sysroot', s, 'many-dep01']);
    expect(first.code, first.stderr).toBe(0);
    // Re-measured on every full install below: later installs carry more packages.
    let full = performance.now() - t0;
    const seed = Number(process.env.LAYER_KILL_SEED ?? Date.now() % 1_000_000);
    console.log(`kill test: seed ${seed}, full install ${Math.round(full)} ms`);
    const rand = prng(seed);
    const outcomes = { old: 0, new: 0, finished: 0 };
    const targets = [...Array.from({ length: 19 }, (_, i) => `many-dep${String(i + 2).padStart(2, '0')}`), 'dep-a'];
    let before = layerJson(['status', '--sysroot', s]).deployments[0];
    for (const pkg of targets) {
      // Spread over the whole run and a bit past it (the swap and cleanup come last).
      const delay = Math.round(rand() * full * 1.3);
      const run = spawnLayer(['install', '--sysroot', s, pkg]);
      await sleep(delay);
      run.kill();
      const r = await run.done;
      const after = layerJson(['status', '--sysroot', s]).deployments;
      const def = after[0];
      if (r.code === 0) outcomes.finished++;
      if (def.checksum === before.checksum && def.serial === before.serial) {
        outcomes.old++;
        expect(def['requested-packages']).not.toContain(pkg);
        // Intact: its tree and rpmdb are still there and readable.
        expect(existsSync(join(def.path, 'usr/bin/bash'))).toBe(true);
        expect(layerJson(['db', 'list', '--sysroot', s]).packages).not.toContain(`${pkg}-1.0-1.noarch`);
      } else {
        outcomes.new++;
        // The complete new deployment: its request, rpmdb and files all hold the package.
        expect(def['requested-packages']).toContain(pkg);
        expect(def['layered-nevras']).toContain(`${pkg}-1.0-1.noarch`);
        expect(existsSync(join(def.path, pkg === 'dep-a' ? 'usr/share/dep-a/README' : `usr/share/${pkg}/data`))).toBe(true);
        expect(layerJson(['db', 'list', '--sysroot', s]).packages).toContain(`${pkg}-1.0-1.noarch`);
      }
      for (const d of after) expect(existsSync(`${d.path}.origin`), `delay ${delay} ms`).toBe(true);
      ostreeFsck(s);
      // The next install (the same request) succeeds and cleans up what the kill left.
      const t1 = performance.now();
      const next = layer(['install', '--sysroot', s, '--idempotent', pkg]);
      if (!next.stdout.includes('No change')) full = performance.now() - t1;
      expect(next.code, `after a kill at ${delay} ms: ${next.stderr}`).toBe(0);
      before = layerJson(['status', '--sysroot', s]).deployments[0];
      expect(before['requested-packages']).toContain(pkg);
      // Nothing of the killed run is left: no scratch overlay still mounted in the sysroot.
      expect(mountsUnder(s), `after a kill at ${delay} ms`).toEqual([]);
    }
    console.log(`kill test outcomes: ${JSON.stringify(outcomes)}`);
    ostreeFsck(s);
    // Only deployments the boot entries name are left on disk.
    const listed = layerJson(['status', '--sysroot', s]).deployments.length;
    expect(listed).toBeLessThanOrEqual(3);
    const c = layerJson(['cleanup', '--sysroot', s]);
    expect(c['removed-deployments']).toEqual([]);
  }, 240_000);
});

describe('locking', () => {
  it('two concurrent installs: one proceeds, the other waits its turn or fails naming the holder', async () => {
    const s = cloneSysroot(base, 'concurrent');
    const a = spawnLayer(['install', '--sysroot', s, 'dep-a']);
    const b = spawnLayer(['install', '--sysroot', s, 'weak-b']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const codes = [ra.code, rb.code].sort();
    expect(codes[0]).toBe(0);
    expect([0, 3]).toContain(codes[1]);
    const loser = ra.code === 3 ? ra : rb.code === 3 ? rb : undefined;
    if (loser) expect(loser.stderr).toMatch(/^error: sysroot is locked by pid \d+ \(layer install --sysroot .* (dep-a|weak-b), since .*\) \[LAYER_LOCKED\]$/m);
    const ds = layerJson(['status', '--sysroot', s]).deployments;
    const requested = ds[0]['requested-packages'];
    expect(requested.length).toBe(loser ? 1 : 2);
    ostreeFsck(s);
    expect(layer(['install', '--sysroot', s, '--idempotent', 'dep-a', 'weak-b']).code).toBe(0);
  }, 120_000);

  it('status (no lock) keeps working while an install swaps and cleans up', async () => {
    const s = cloneSysroot(base, 'readers');
    const run = spawnLayer(['install', '--sysroot', s, 'with-weak']);
    let finished = false;
    void run.done.then(() => (finished = true));
    let reads = 0;
    while (!finished) {
      const r = layer(['status', '--sysroot', s, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).deployments.length).toBeGreaterThan(0);
      reads++;
      await sleep(10);
    }
    expect((await run.done).code).toBe(0);
    expect(reads).toBeGreaterThan(0);
  }, 60_000);
});
