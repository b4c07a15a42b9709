/**
 * `layer run`, `layer health-check` and `layer rollback --if-unhealthy` (issue 13) through the
 * CLI, on sysroots made by `layer init` of the demo fixtures (real Debian bash, coreutils and
 * OpenSSL) with real bubblewrap. Health checks come from fixture RPMs that ship executables
 * under /etc/layer/health.d/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';
import { cloneSysroot, ensureBuilt, MAIN, initSysroot, layer, layerJson, removeTempDirs, repoFile, requireTool, tempDir, testFixtures, type Fixtures } from './helpers.js';

/** Health-check packages: one file each under /etc/layer/health.d/<kind>/, named for what it does. */
const HEALTH_PACKAGES: FixtureSpec[] = [
  { name: 'health-ok', files: [{ path: '/etc/layer/health.d/required/10-x', content: '#!/bin/sh\necho "service answers"\n', mode: 0o755 }] },
  { name: 'health-broken', files: [{ path: '/etc/layer/health.d/required/20-db', content: '#!/bin/sh\necho "checking the database"\necho "database unreachable" >&2\nexit 1\n', mode: 0o755 }] },
  { name: 'health-wanted-fails', files: [{ path: '/etc/layer/health.d/wanted/50-cache', content: '#!/bin/sh\necho "cache cold"\nexit 2\n', mode: 0o755 }] },
  { name: 'health-hangs', files: [{ path: '/etc/layer/health.d/required/30-hang', content: '#!/bin/sh\necho "waiting forever"\nexec sleep 31337\n', mode: 0o755 }] },
];

let f: Fixtures;
let base: string;
let reposdir: string;
/** base + openssl + health-ok, as a second deployment (pending). */
let withOpenssl: string;

beforeAll(async () => {
  requireTool('bwrap', 'bubblewrap');
  ensureBuilt();
  f = await testFixtures();
  const rpms = await Promise.all(HEALTH_PACKAGES.map((s) => buildRpm(s)));
  const stage = tempDir('health-rpms');
  const named = rpms.map((r, i) => {
    const to = join(stage, `${HEALTH_PACKAGES[i]?.name ?? 'x'}-1.0-1.noarch.rpm`);
    writeFileSync(to, readFileSync(r));
    return to;
  });
  const health = makeRepo(join(tempDir('health-repo'), 'repo'), named);
  reposdir = tempDir('health-reposdir');
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, updates: f.updates, extra: f.extra, health }));
  base = initSysroot({ ...f, reposdir }, 'run');
  withOpenssl = cloneSysroot(base, 'run-openssl');
  const r = layer(['install', '-y', '--sysroot', withOpenssl, 'openssl', 'health-ok']);
  if (r.code !== 0) throw new Error(`install failed:\n${r.stderr}`);
}, 300_000);

afterAll(() => removeTempDirs());

function sharedVar(sysroot: string): string {
  return join(sysroot, 'ostree/deploy/demo/var');
}

/** A TCP listener on 127.0.0.1 that records what it receives. */
async function listener(): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  let got = '';
  const server: Server = createServer((sock) => sock.on('data', (d: Buffer) => (got += d.toString())));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { port: addr.port, received: () => got, close: () => new Promise((res) => server.close(() => res())) };
}

/** `layer run` as a child process without blocking the event loop (the listener must answer meanwhile). */
function runAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn('node', [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('layer run', () => {
  it('passes the exit status, stdout and stderr through', () => {
    const r = layer(['run', '--sysroot', base, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    // Without `--`, options end at the command: its own options are its own.
    expect(layer(['run', '--sysroot', base, 'sh', '-c', 'exit 3']).code).toBe(3);
    // stdin is the command's too.
    const cat = spawnSync('node', [MAIN, 'run', '--sysroot', base, '--', 'tr', 'a-z', 'A-Z'], { input: 'piped in\n', encoding: 'utf8' });
    expect(cat.status, cat.stderr).toBe(0);
    expect(cat.stdout).toBe('PIPED IN\n');
    // A signal is 128+N, as a shell reports it.
    expect(layer(['run', '--sysroot', base, '--', 'sh', '-c', 'kill -9 $$']).code).toBe(137);
  });

  it('runs openssl in the deployment that layers it, and not in the base', () => {
    const r = layer(['run', '--sysroot', withOpenssl, '--deployment', 'pending', '--', 'openssl', 'version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^OpenSSL 3\.0\.\d+/);
    const b = layer(['run', '--sysroot', withOpenssl, '--deployment', 'booted', '--', 'openssl', 'version']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/openssl: command not found in deployment .*\[LAYER_RUN\]/);
  });

  it('has no network unless --net: a listener on 127.0.0.1 gets nothing, then gets the line', async () => {
    const l = await listener();
    try {
      const send = ['--', 'bash', '-c', `echo hello-from-run > /dev/tcp/127.0.0.1/${l.port}`];
      const off = await runAsync(['run', '--sysroot', base, ...send]);
      expect(off.code).not.toBe(0);
      expect(off.stderr).toMatch(/Connection refused|Network is unreachable/);
      expect(l.received()).toBe('');
      const on = await runAsync(['run', '--sysroot', base, '--net', ...send]);
      expect(on.code, on.stderr).toBe(0);
      for (let i = 0; i < 50 && l.received() === ''; i++) await new Promise((res) => setTimeout(res, 20));
      expect(l.received()).toBe('hello-from-run\n');
    } finally {
      await l.close();
    }
  });

  it('keeps /usr and the rest of the tree read-only; /etc, /tmp and the shared /var are writable', () => {
    const s = cloneSysroot(base, 'run-ro');
    const d = layerJson(['status', '--sysroot', s]).deployments[0].path as string;
    const usr = layer(['run', '--sysroot', s, '--', 'sh', '-c', 'echo x > /usr/bin/evil']);
    expect(usr.code).not.toBe(0);
    expect(usr.stderr).toMatch(/Read-only file system/);
    expect(layer(['run', '--sysroot', s, '--', 'touch', '/new-top-level']).stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(d, 'usr/bin/evil'))).toBe(false);
    const ok = layer(['run', '--sysroot', s, '--', 'sh', '-c', 'echo v > /var/from-run && echo e > /etc/from-run && echo t > /tmp/t']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(sharedVar(s), 'from-run'), 'utf8')).toBe('v\n');
    // /etc is the deployment's own: the change persists, as on the booted host.
    expect(readFileSync(join(d, 'etc/from-run'), 'utf8')).toBe('e\n');
    // Mount points the sandbox made (/var, /tmp, /run) are not created in the deployment directory.
    expect(readdirSync(d).filter((n) => ['var', 'tmp', 'run'].includes(n))).toEqual([]);
  });

  it('--ephemeral leaves the shared /var and the deployment /etc untouched', () => {
    const s = cloneSysroot(base, 'run-eph');
    const d = layerJson(['status', '--sysroot', s]).deployments[0].path as string;
    mkdirSync(sharedVar(s), { recursive: true });
    writeFileSync(join(sharedVar(s), 'kept'), 'state\n');
    const before = readdirSync(sharedVar(s)).sort();
    const r = layer(['run', '--sysroot', s, '--ephemeral', '--', 'sh', '-c',
      'test ! -e /var/kept && echo x > /var/eph && echo y > /etc/eph && cat /etc/os-release >/dev/null && echo done']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(readdirSync(sharedVar(s)).sort()).toEqual(before);
    expect(existsSync(join(d, 'etc/eph'))).toBe(false);
  });

  it('--bind SRC:DST binds a host directory read-write', () => {
    const host = tempDir('run-bind');
    writeFileSync(join(host, 'in'), 'from host\n');
    const r = layer(['run', '--sysroot', base, '--bind', `${host}:/work`, '--', 'sh', '-c', 'cat /work/in; echo back > /work/out']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from host\n');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('back\n');
    expect(layer(['run', '--sysroot', base, '--bind', '/no/such/dir:/work', '--', 'true']).stderr).toMatch(/does not exist \[LAYER_USAGE\]/);
  });

  it('`layer run -- CMD --help` is CMD\'s --help, not layer\'s', () => {
    const r = layer(['run', '--sysroot', base, '--', 'sh', '-c', 'echo "$1"', 'sh', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('--help\n');
  });
});

describe('layer health-check', () => {
  it('runs the required check a package ships and reports it passed, with output and duration', () => {
    const j = layerJson(['health-check', '--sysroot', withOpenssl, '--deployment', 'pending']);
    expect(j.healthy).toBe(true);
    expect(j.checks).toHaveLength(1);
    expect(j.checks[0]).toMatchObject({ kind: 'required', name: '10-x', passed: true, status: 0, output: 'service answers\n' });
    expect(j.checks[0].ms).toBeGreaterThanOrEqual(0);
    const t = layer(['health-check', '--sysroot', withOpenssl, '--deployment', 'pending']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/pass {2}required\/10-x/);
    expect(t.stdout).toMatch(/1 checks: 1 passed, 0 failed; healthy/);
    // The base has no checks: nothing to fail.
    expect(layer(['health-check', '--sysroot', withOpenssl, '--deployment', 'booted']).stdout).toMatch(/No health checks/);
  });

  it('a failing required check fails the command naming it, with its output; a failing wanted one is a warning', () => {
    const s = cloneSysroot(base, 'hc-fail');
    expect(layer(['install', '-y', '--sysroot', s, 'health-ok', 'health-broken', 'health-wanted-fails']).code).toBe(0);
    const r = layer(['health-check', '--sysroot', s]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/pass {2}required\/10-x/);
    expect(r.stdout).toMatch(/FAIL {2}required\/20-db {2}exit 1/);
    expect(r.stdout).toMatch(/\| database unreachable/);
    expect(r.stdout).toMatch(/warn {2}wanted\/50-cache {2}exit 2/);
    expect(r.stderr).toMatch(/warning: wanted health check 50-cache failed \(exit 2\)/);
    expect(r.stderr).toMatch(/error: required health check 20-db failed in demo .*: exit 1 \[LAYER_HEALTH_CHECK\]/);
    expect(r.stderr).toMatch(/hint: its output ended: checking the database \| database unreachable/);
    // --json: one document with the verdict and the error.
    const j = layer(['health-check', '--sysroot', s, '--json']);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout);
    expect(doc.healthy).toBe(false);
    expect(doc.error.code).toBe('LAYER_HEALTH_CHECK');
    expect(doc.checks.map((c: { name: string; passed: boolean }) => [c.name, c.passed])).toEqual([['10-x', true], ['20-db', false], ['50-cache', false]]);
    // Only the wanted one failing: healthy, exit 0, a warning.
    const w = cloneSysroot(base, 'hc-wanted');
    expect(layer(['install', '-y', '--sysroot', w, 'health-wanted-fails']).code).toBe(0);
    const wr = layer(['health-check', '--sysroot', w]);
    expect(wr.code, wr.stderr).toBe(0);
    expect(wr.stderr).toMatch(/warning: wanted health check 50-cache failed/);
  });

  it('a check that outlives --timeout is killed and fails', () => {
    const s = cloneSysroot(base, 'hc-hang');
    expect(layer(['install', '-y', '--sysroot', s, 'health-hangs']).code).toBe(0);
    const t0 = Date.now();
    const r = layer(['health-check', '--sysroot', s, '--timeout', '1']);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}required\/30-hang {2}timed out after 1 s/);
    expect(r.stdout).toMatch(/waiting forever/);
    expect(r.stderr).toMatch(/required health check 30-hang failed .*timed out after 1 s \[LAYER_HEALTH_CHECK\]/);
    // No sleep left behind: the whole sandbox was killed. (An odd duration: a `sleep 600` of
    // anything else on the machine made this fail once.)
    expect(spawnSync('pgrep', ['-f', '^sleep 31337$']).stdout.toString().trim()).toBe('');
  });

  it('an admin-added check in the deployment /etc runs; a non-executable one is skipped with a warning', () => {
    const s = cloneSysroot(base, 'hc-admin');
    const d = layerJson(['status', '--sysroot', s]).deployments[0].path as string;
    const dir = join(d, 'etc/layer/health.d/required');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '05-admin'), '#!/bin/sh\ntest -w /var && echo var writable\n');
    chmodSync(join(dir, '05-admin'), 0o755);
    writeFileSync(join(dir, '06-noexec'), '#!/bin/sh\nexit 1\n');
    const r = layer(['health-check', '--sysroot', s, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.checks.map((c: { name: string }) => c.name)).toEqual(['05-admin']);
    expect(j.checks[0].output).toBe('var writable\n');
    expect(j.skipped).toEqual([{ kind: 'required', name: '06-noexec', reason: 'not executable' }]);
    expect(r.stderr).toMatch(/warning: health check required\/06-noexec skipped: not executable/);
  });
});

describe('layer rollback --if-unhealthy (the on-host half, on a directory sysroot)', () => {
  it('a healthy booted deployment is left alone', () => {
    const s = cloneSysroot(withOpenssl, 'rb-healthy');
    expect(layer(['boot-pending', '--sysroot', s]).code).toBe(0);
    const before = layerJson(['status', '--sysroot', s]).deployments.map((d: { id: string }) => d.id);
    const r = layer(['rollback', '--sysroot', s, '--if-unhealthy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Healthy: nothing rolled back/);
    expect(layerJson(['status', '--sysroot', s]).deployments.map((d: { id: string }) => d.id)).toEqual(before);
  });

  it('a booted deployment whose required check fails is rolled back, the failing check named', () => {
    const s = cloneSysroot(base, 'rb-broken');
    expect(layer(['install', '-y', '--sysroot', s, 'health-broken']).code).toBe(0);
    expect(layer(['boot-pending', '--sysroot', s]).code).toBe(0);
    const st = layerJson(['status', '--sysroot', s]);
    const [broken, previous] = st.deployments.map((d: { path: string }) => basename(d.path));
    const r = layer(['rollback', '--sysroot', s, '--if-unhealthy', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j['rolled-back']).toBe(true);
    expect(j.booted.id).toBe(broken);
    expect(j.deployment.id).toBe(previous);
    expect(j.error.message).toMatch(/required health check 20-db failed .*rolled back/);
    expect(r.stderr).toMatch(/\[LAYER_HEALTH_CHECK\]/);
    const after = layerJson(['status', '--sysroot', s]).deployments;
    expect(basename(after[0].path)).toBe(previous);
    expect(after.find((d: { path: string }) => basename(d.path) === broken).booted).toBe(true);
  });
});
