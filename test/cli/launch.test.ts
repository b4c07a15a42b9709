/**
 * The `layer` command as installed: dist/bin/layer (src/cli/bin.sh) starts Node without
 * NODE_EXTRA_CA_CERTS, whose certificates still count for https repos; dist/bin/layer.cjs
 * (src/cli/launch.ts) runs the CLI bundle through a V8 code cache per verb (and one for its dry
 * runs). The first run of a verb writes the cache, later runs use it unchanged (V8 accepted it),
 * damaged data is replaced, and dynamic imports inside the bundle (undici for http repos) still
 * work. Runs a private copy of dist/bin, so other test files
 * using the bin never see a cache change under them.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../support/http-server.js';
import { requireTool } from '../support/tools.js';
import { cloneSysroot, ensureBuilt, initSysroot, layerAsync, repoFile, removeTempDirs, ROOT, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let sysroot: string;
let bin: string;
let cacheDir: string;
/** dist/bin/layer of the private copy: the command a user runs. */
let command: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  sysroot = initSysroot(f, 'launch');
  // dist/bin beside links to wasm/ and node_modules/, as the bundle finds them from the repo root.
  const root = tempDir('launch-root');
  mkdirSync(join(root, 'dist/bin'), { recursive: true });
  for (const n of ['layer', 'layer.cjs', 'layer-main.cjs']) copyFileSync(join(ROOT, 'dist/bin', n), join(root, 'dist/bin', n));
  symlinkSync(join(ROOT, 'wasm'), join(root, 'wasm'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  bin = join(root, 'dist/bin/layer.cjs');
  command = join(root, 'dist/bin/layer');
  cacheDir = join(root, 'dist/bin/.code-cache');
}, 300_000);

afterAll(() => removeTempDirs());

const run = (args: string[]) => layerAsync(args, { bin });

/** dist/bin/layer ARGS with `env` on top of this process's environment, without blocking it. */
type Result = { code: number | null; stdout: string; stderr: string };
function runCommand(args: string[], env: Record<string, string | undefined>): Promise<Result> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

/** A CA and a certificate it signed for 127.0.0.1, made by openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  requireTool('openssl');
  const p = (n: string) => join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=layer test CA');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

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
        // Fetched each time (no cached metadata): the second run's undici comes from a bundle
        // run from the code cache, where Node 20 cannot import() (scripts/bundle.mjs).
        rmSync(join(sysroot, 'ostree/layer/cache/repos'), { recursive: true, force: true });
        const seen = server.requests.length;
        const r = await run(['install', '-n', '--sysroot', sysroot, '--reposdir', reposdir, 'dep-a']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/dep-a/);
        expect(server.requests.slice(seen).some((p) => p.endsWith('repomd.xml'))).toBe(true);
        expect(existsSync(join(cacheDir, 'install.look.bin'))).toBe(true);
      }
    } finally {
      await server.stop();
    }
  });

  it('keeps a dry run\'s cache apart from a real run\'s, which compiles more', async () => {
    const look = join(cacheDir, 'install.look.bin');
    const dry = await run(['install', '-n', '--sysroot', sysroot, 'dep-a']);
    expect(dry.code, dry.stderr).toBe(0);
    const lookMtime = statSync(look).mtimeMs;
    const real = await run(['install', '--sysroot', cloneSysroot(sysroot, 'launch-real'), 'dep-a', '--json']);
    expect(real.code, real.stderr).toBe(0);
    const full = join(cacheDir, 'install.bin');
    expect(existsSync(full)).toBe(true);
    expect(statSync(look).mtimeMs).toBe(lookMtime);
    // The real run's data carries the apply and deploy code a dry run never compiles.
    expect(statSync(full).size).toBeGreaterThan(statSync(look).size);
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

  it("runs better-sqlite3's JavaScript from the bundle and loads only its addon from node_modules", async () => {
    const dir = tempDir('launch-sqlite');
    const probe = join(dir, 'probe.cjs');
    const out = join(dir, 'loaded.json');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)},
      JSON.stringify(Object.keys(require.cache))))`);
    // A real install writes the new tree's rpmdb.
    const r = spawnSync('node', ['--require', probe, bin, 'install', '--sysroot', cloneSysroot(sysroot, 'launch-sqlite'), 'dep-a'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(readFileSync(out, 'utf8')) as string[]).filter((f) => f.includes('better-sqlite3'));
    expect(files).toEqual([join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')]);
  });

  it('starts Node without NODE_EXTRA_CA_CERTS and puts it back for child processes', async () => {
    const dir = tempDir('launch-env');
    const probe = join(dir, 'probe.cjs');
    const out = join(dir, 'env.json');
    // Preloaded (NODE_OPTIONS reaches Node through the script): what Node started with, and
    // what the process holds at its end, which its child processes inherit.
    writeFileSync(probe, `const atStart = process.env.NODE_EXTRA_CA_CERTS ?? null;
      process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)},
        JSON.stringify({ atStart, atExit: process.env.NODE_EXTRA_CA_CERTS ?? null, moved: process.env.LAYER_EXTRA_CA_CERTS ?? null })));`);
    const certs = join(dir, 'extra.pem');
    writeFileSync(certs, '');
    const r = await runCommand(['status', '--sysroot', sysroot], { NODE_EXTRA_CA_CERTS: certs, NODE_OPTIONS: `--require ${probe}` });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ atStart: null, atExit: certs, moved: null });
    // Without the variable nothing is set.
    const plain = await runCommand(['status', '--sysroot', sysroot], { NODE_EXTRA_CA_CERTS: undefined, NODE_OPTIONS: `--require ${probe}` });
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ atStart: null, atExit: null, moved: null });
  });

  it('trusts the certificates NODE_EXTRA_CA_CERTS names for an https repo', async () => {
    const dir = tempDir('launch-tls');
    const { ca, cert, key } = makeCertificates(dir);
    const requests: string[] = [];
    // The extra repo over https, signed by the test CA only.
    const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      requests.push(req.url ?? '');
      const path = join(f.extra, normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
      try {
        const body = readFileSync(path);
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const reposdir = tempDir('launch-tls-repos');
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      writeFileSync(join(reposdir, 'tls.repo'), repoFile({ base: f.base, 'extra-tls': url }));
      const args = ['install', '-n', '--sysroot', sysroot, '--reposdir', reposdir, 'dep-a'];
      // Not trusted without the CA: Node's own roots do not hold it.
      const untrusted = await runCommand(args, { NODE_EXTRA_CA_CERTS: undefined });
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.stderr).toMatch(/certificate/i);
      expect(untrusted.stderr).toContain(url);
      // Trusted with it, although Node started without the variable.
      const trusted = await runCommand(args, { NODE_EXTRA_CA_CERTS: ca });
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(trusted.stdout).toMatch(/dep-a/);
      expect(requests.some((p) => p.endsWith('repomd.xml'))).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    }
  });
});
