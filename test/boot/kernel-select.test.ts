/**
 * Kernels are install-only packages with several versions side by side in the fixture repo:
 * `kernel` solves to the newest, `kernel-<version>-<release>` to that one, and only one goes in.
 * Checked with the built CLI's dry run (`layer init -n --json`), which solves and composes nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootFixtures, type BootFixtures } from './support.js';

const LAYER = resolve(import.meta.dirname, '../../dist/bin/layer.cjs');
let f: BootFixtures;
let work: string;

beforeAll(async () => {
  if (!existsSync(LAYER)) throw new Error(`${LAYER} is missing: run npm run build`);
  f = await bootFixtures();
  work = mkdtempSync(join(tmpdir(), 'layer-boot-select-'));
  mkdirSync(join(work, 'repos.d'));
  const repos = { base: f.demo.base, kernel: f.kernel.repo };
  writeFileSync(join(work, 'repos.d/boot.repo'), Object.entries(repos).map(([id, dir]) => `[${id}]\nname=${id}\nbaseurl=file://${dir}\ngpgcheck=0\n`).join('\n'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function kernelsSolved(spec: string): string[] {
  const r = spawnSync('node', [LAYER, 'init', '-n', '--json', '--sysroot', join(work, 'sysroot'), '--osname', 'demo', '--reposdir', join(work, 'repos.d'), 'filesystem', 'bash', spec], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`layer init -n exited ${r.status}:\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { transaction: { name: string; version: string; release: string }[] };
  return out.transaction.filter((s) => s.name === 'kernel').map((s) => `${s.version}-${s.release}`);
}

describe('kernel selection', () => {
  it('has two kernel versions in the repo; `kernel` gets the newest, a versioned spec the one named', () => {
    const evrs = f.kernel.kernels.map((k) => k.evr);
    expect(evrs).toHaveLength(2);
    expect(new Set(f.kernel.kernels.map((k) => k.kver)).size).toBe(2);
    expect(kernelsSolved('kernel')).toEqual([evrs[1]]);
    expect(kernelsSolved(`kernel-${evrs[0]}`)).toEqual([evrs[0]]);
  });
});
