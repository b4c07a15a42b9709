/**
 * Issue 10 through the `layer` CLI: a --from-ostree base whose /usr/etc (or /etc, /usr, /var)
 * is a symlink out of the tree is refused before anything is deployed, as `ostree admin deploy`
 * fails on it; `layer db` accepts --sysroot before the subcommand instead of silently reading
 * `/`; `refresh-md` against an endless repomd.xml or a dead repo ends quickly with exit 1 and a
 * coded error (it was a RangeError, exit 70, after 6 GB; and 48 s).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../support/http-server.js';
import { MAIN, ensureBuilt, initSysroot, layer, layerJson, removeTempDirs, repoFile, requireTool, tempDir, testFixtures, type Run } from './helpers.js';

beforeAll(() => {
  ensureBuilt();
  requireTool('ostree');
}, 300_000);
afterAll(() => removeTempDirs());

/** An ostree repo holding one commit of a tree made by `make(tree)`; returns `REPO:REF`. */
function ostreeBase(tag: string, make: (tree: string, outside: string) => void): { spec: string; dir: string; outside: string } {
  const dir = tempDir(tag);
  const tree = join(dir, 'tree');
  const outside = join(dir, 'host-etc');
  mkdirSync(join(tree, 'usr/bin'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.conf'), 'from the host\n');
  writeFileSync(join(tree, 'usr/bin/hello'), 'hello\n');
  make(tree, outside);
  const repo = join(dir, 'repo');
  execFileSync('ostree', [`--repo=${repo}`, 'init', '--mode=bare-user']);
  execFileSync('ostree', [`--repo=${repo}`, 'commit', '-b', 'os/base', `--tree=dir=${tree}`, '-s', 'base'], { encoding: 'utf8' });
  return { spec: `${repo}:os/base`, dir, outside };
}

describe('layer init --from-ostree refuses a base that points out of its tree', () => {
  const cases: [string, (tree: string, outside: string) => void, RegExp][] = [
    ['usr/etc symlinked to a host directory', (t, o) => symlinkSync(o, join(t, 'usr/etc')), /\/usr\/etc is a symlink to \/.*\/host-etc, not a directory: the deployments' \/etc would be a host directory/],
    ['etc symlinked to a host directory', (t, o) => symlinkSync(o, join(t, 'etc')), /\/etc is a symlink to \/.*\/host-etc, not a directory/],
    ['usr symlinked out of the tree', (t, o) => {
      execFileSync('rm', ['-r', join(t, 'usr')]);
      symlinkSync(o, join(t, 'usr'));
    }, /\/usr is a symlink to \/.*\/host-etc, not a directory: the deployments would reach outside their tree/],
    ['var symlinked out of the tree', (t, o) => {
      mkdirSync(join(t, 'usr/etc'));
      symlinkSync(o, join(t, 'var'));
    }, /\/var is a symlink to/],
    ['both /etc and /usr/etc', (t) => {
      mkdirSync(join(t, 'usr/etc'));
      mkdirSync(join(t, 'etc'));
    }, /Tree contains both \/etc and \/usr\/etc/],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      const { spec, dir } = ostreeBase('unsafe-base', make);
      const s = join(dir, 'sysroot');
      const r = layer(['init', '--sysroot', s, '--osname', 'ox', '--from-ostree', spec]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('[LAYER_UNSAFE_PATH]');
      expect(r.stderr).toContain(`--from-ostree ${spec}: commit `);
      // Nothing deployed: no deployment directory, no boot entry.
      const deploy = join(s, 'ostree/deploy/ox/deploy');
      expect(existsSync(deploy) ? readdirSync(deploy) : []).toEqual([]);
      expect(existsSync(join(s, 'boot/loader/entries')) ? readdirSync(join(s, 'boot/loader/entries')) : []).toEqual([]);
    });
  }

  it('a normal base with relative top-level symlinks (bin -> usr/bin) is still accepted', () => {
    const { spec, dir } = ostreeBase('safe-base', (t) => {
      mkdirSync(join(t, 'usr/etc'));
      writeFileSync(join(t, 'usr/etc/hello.conf'), 'greeting=hi\n');
      symlinkSync('usr/bin', join(t, 'bin'));
      symlinkSync('var/home', join(t, 'home'));
    });
    const s = join(dir, 'sysroot');
    const r = layer(['init', '--sysroot', s, '--osname', 'ox', '--from-ostree', spec]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('layer db: options before the subcommand', () => {
  let sysroot: string;
  beforeAll(async () => {
    sysroot = initSysroot(await testFixtures(), 'db-opts');
  }, 300_000);

  it('`db --sysroot S list` reads S, exactly as `db list --sysroot S`', () => {
    const after = layerJson(['db', 'list', '--sysroot', sysroot]);
    const before = layerJson(['db', '--sysroot', sysroot, 'list']);
    expect(before).toEqual(after);
    expect(before.packages.some((n: string) => n.startsWith('bash-'))).toBe(true);
    expect(layerJson(['db', '--json', `--sysroot=${sysroot}`, 'list', '0'])).toEqual(after);
  });

  it('`db --sysroot MISSING list` names MISSING (it never falls back to /)', () => {
    const missing = join(tempDir('db-missing'), 'nothing-here');
    const r = layer(['db', '--sysroot', missing, 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(missing);
  });

  it('`db --sysroot S diff` and usage errors', () => {
    expect(layer(['db', '--sysroot', sysroot, 'diff']).stderr).toContain('only one deployment');
    const none = layer(['db', '--sysroot', sysroot]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('layer db: missing subcommand (list or diff)');
    const bad = layer(['db', '--sysroot', sysroot, 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("layer db: unknown subcommand 'frobnicate'");
    expect(layer(['db', 'list', '--frob']).code).toBe(2);
  });
});

/** `layer` without blocking this process's event loop (the fault server answers from it). */
function layerAsync(args: string[]): Promise<Run & { ms: number }> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn('node', [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => done({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

describe('layer refresh-md against a hostile mirror', () => {
  let server: FaultServer;
  let sysroot: string;
  beforeAll(async () => {
    const f = await testFixtures();
    sysroot = initSysroot(f, 'refresh-hostile');
    server = await new FaultServer(f.base).start();
  }, 300_000);
  afterAll(() => server?.stop());

  function reposdir(): string {
    const d = tempDir('hostile-repos');
    writeFileSync(join(d, 'h.repo'), repoFile({ hostile: `${server.url}/` }).replace('metadata_expire=-1\n', ''));
    return d;
  }

  it('an endless repomd.xml: exit 1, LAYER_REPO_CORRUPT, no RangeError', async () => {
    server.clearFaults();
    server.fault('repomd.xml', { kind: 'endless' });
    const r = await layerAsync(['refresh-md', '--sysroot', sysroot, '--reposdir', reposdir()]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("repodata/repomd.xml: reply longer than 1048576 bytes (layer's 1 MiB limit for files of undeclared size)");
    expect(r.stderr).toContain('[LAYER_REPO_CORRUPT]');
    expect(r.stderr).not.toMatch(/RangeError|internal error/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a dead repo (503 to everything, dnf default retries): exit 1 within a couple of seconds', async () => {
    server.clearFaults();
    server.fault(/./, { kind: 'status', code: 503 });
    const r = await layerAsync(['refresh-md', '--sysroot', sysroot, '--reposdir', reposdir()]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('repodata/repomd.xml: HTTP 503 (gave up after 4 attempts: retry budget spent)');
    expect(r.stderr).toContain('[LAYER_REPO_UNREACHABLE]');
    // The process as a whole (node start, sysroot, one repo): the fetch itself is ~0.35 s.
    expect(r.ms).toBeLessThan(5_000);
  });
});
