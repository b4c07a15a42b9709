/**
 * libsolv's own testcases (test/testcases/**\/*.t from the Debian source package that
 * wasm/build.sh compiles) replayed through the wasm build and through the native `testsolv`
 * of the same libsolv version: the printed results must be identical, file by file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSolver, runTestcase } from '../../src/solver/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const casesDir = join(root, 'wasm/src/libsolv/test/testcases');

/**
 * Testcases not replayed, with the reason. Only features deliberately left out of the wasm
 * build may be listed here. Currently none: every testcase uses inline testtags repos.
 */
const SKIP: Record<string, string> = {};

function ensureSources(): void {
  if (existsSync(casesDir)) return;
  // Same path as the build: apt-get source libsolv into wasm/src (never vendored).
  const r = spawnSync('bash', [join(root, 'wasm/build.sh'), '--fetch'], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(casesDir)) {
    throw new Error(
      `libsolv testcases missing at ${casesDir} and \`bash wasm/build.sh --fetch\` failed ` +
        `(needs dpkg-dev and a bookworm deb-src entry, which the script adds as root): ${r.stderr}`,
    );
  }
}

function listCases(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listCases(p));
    else if (name.endsWith('.t')) out.push(p);
  }
  return out;
}

function nativeTestsolv(file: string): { out: string; err: string; status: number | null } {
  const r = spawnSync('testsolv', ['-r', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`native testsolv not runnable (${r.error.message}): apt-get install -y libsolv-tools`);
  return { out: r.stdout, err: r.stderr, status: r.status };
}

ensureSources();
const cases = listCases(casesDir);

describe('libsolv testcases: wasm runTestcase == native testsolv -r', () => {
  beforeAll(async () => {
    execFileSync('testsolv', ['-h'], { stdio: 'ignore' }); // fails with ENOENT if libsolv-tools is missing
    await loadSolver();
  });

  it('finds the whole testcase suite', () => {
    // libsolv 0.7.23 ships 95 testcases; fewer means a broken or partial source tree.
    expect(cases.length).toBeGreaterThanOrEqual(95);
  });

  const names = cases.map((f) => relative(casesDir, f));
  it.each(names.filter((n) => !(n in SKIP)))('%s', (name) => {
    const file = join(casesDir, name);
    const native = nativeTestsolv(file);
    expect(native.status, `native testsolv exit status for ${name}`).toBe(0);
    const wasm = runTestcase(file);
    expect(wasm.result).toBe(native.out);
    expect(wasm.log, 'libsolv messages (testsolv stderr)').toBe(native.err.trim());
  });
});
