/**
 * The `layer` bin as installed (dist/bin/layer.cjs, src/cli/launch.ts): it runs the CLI bundle
 * through a V8 code cache per verb. The first run of a verb writes the cache, later runs use it
 * unchanged (V8 accepted it), damaged data is replaced, and dynamic imports inside the bundle
 * (undici for http repos) still work. Runs a private copy of dist/bin, so other test files
 * using the bin never see a cache change under them.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../support/http-server.js';
import { ensureBuilt, initSysroot, layerAsync, repoFile, removeTempDirs, ROOT, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let sysroot: string;
let bin: string;
let cacheDir: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  sysroot = initSysroot(f, 'launch');
  // dist/bin beside links to wasm/ and node_modules/, as the bundle finds them from the repo root.
  const root = tempDir('launch-root');
  mkdirSync(join(root, 'dist/bin'), { recursive: true });
  for (const n of ['layer.cjs', 'layer-main.cjs']) copyFileSync(join(ROOT, 'dist/bin', n), join(root, 'dist/bin', n));
  symlinkSync(join(ROOT, 'wasm'), join(root, 'wasm'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  bin = join(root, 'dist/bin/layer.cjs');
  cacheDir = join(root, 'dist/bin/.code-cache');
}, 300_000);

afterAll(() => removeTempDirs());

const run = (args: string[]) => layerAsync(args, { bin });

describe('the layer bin', () => {
  it('writes a code cache per verb on its first run and then uses it as it is', async () => {
    const first = await run(['status', '--sysroot', sysroot]);
    expect(first.code, first.stderr).toBe(0);
    const cache = join(cacheDir, 'status.bin');
    expect(existsSync(cache)).toBe(true);
    const written = readFileSync(cache);
    const mtime = statSync(cache).mtimeMs;
    const second = await run(['status', '--sysroot', sysroot]);
    expect(second.stdout).toBe(first.stdout);
    // Accepted data is never rewritten; rejected data would be.
    expect(statSync(cache).mtimeMs).toBe(mtime);
    expect(readFileSync(cache).equals(written)).toBe(true);
    expect(existsSync(join(cacheDir, 'install.bin'))).toBe(false);
  });

  it('replaces damaged cache data and answers the same', async () => {
    const before = await run(['status', '--sysroot', sysroot, '--json']);
    const cache = join(cacheDir, 'status.bin');
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const after = await run(['status', '--sysroot', sysroot, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
    expect(readFileSync(cache).equals(Buffer.alloc(4096, 7))).toBe(false);
  });

  it('loads undici on demand for an http repo, with and without the cache', async () => {
    const server = await new FaultServer(f.extra).start();
    try {
      const reposdir = tempDir('launch-repos');
      writeFileSync(join(reposdir, 'http.repo'), repoFile({ base: f.base, 'extra-http': server.url }));
      for (let i = 0; i < 2; i++) {
        const r = await run(['install', '-n', '--sysroot', sysroot, '--reposdir', reposdir, 'dep-a']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/dep-a/);
      }
      expect(server.requests.some((p) => p.endsWith('repomd.xml'))).toBe(true);
      expect(existsSync(join(cacheDir, 'install.bin'))).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('holds only ASCII, so V8 keeps its source as a one-byte string (half the heap)', async () => {
    const text = readFileSync(join(ROOT, 'dist/bin/layer-main.cjs'), 'utf8');
    expect(text.match(/[^\x00-\x7f]/g) ?? []).toEqual([]);
    // The escapes (scripts/bundle.mjs) left it valid JavaScript.
    const r = await run(['install', '--help']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('loads neither SQLite nor the modules a dry run has no use for', async () => {
    // A preloaded probe writes, at exit, the Node modules and the packages the process loaded.
    const dir = tempDir('launch-probe');
    const probe = join(dir, 'probe.cjs');
    const out = join(dir, 'loaded.json');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)},
      JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));`);
    // Twice: the first run of a base extracts its rpmdb and writes the header list.
    for (let i = 0; i < 2; i++) {
      const r = spawnSync('node', ['--require', probe, bin, 'install', '-n', '--sysroot', sysroot, 'dep-a'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/dep-a/);
    }
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] };
    expect(loaded.files.filter((f) => f.includes('better-sqlite3'))).toEqual([]);
    // perf_hooks (the performance global), WebCrypto (the crypto global) and readline (prompts).
    const unwanted = ['NativeModule perf_hooks', 'NativeModule internal/crypto/webcrypto', 'NativeModule readline'];
    expect(loaded.builtins.filter((m) => unwanted.includes(m))).toEqual([]);
    // The probe sees what it should: the bin's own modules.
    expect(loaded.builtins).toContain('NativeModule vm');
  });
});
