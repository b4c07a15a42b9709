/**
 * vitest globalSetup: every temp directory of a test run lives under one run directory, removed
 * when the run ends. Test files make their temp dirs with `mkdtemp(tmpdir())`, and some cannot
 * remove them (a SIGKILLed layer leaves an overlay mounted; real ostree marks deployments
 * immutable), so a day of runs used to leave thousands of `layer-*` dirs (GBs) in /tmp. Pointing
 * TMPDIR at the run directory before the workers fork reaches every file and every child process
 * (layer, rpmbuild, ostree) without touching the tests. LAYER_KEEP_TEST_DIRS=1 keeps it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder } from '../../src/compose/scratch.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'layer-test-run-'));
  // Mode as /tmp's: tests that drop to another user (nobody) make their dirs in here too.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.LAYER_KEEP_TEST_DIRS === '1') {
      console.log(`test temp dirs kept in ${dir}`);
      return;
    }
    for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // ostree's deployment roots carry the immutable flag; lift it and try once more.
      spawnSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
