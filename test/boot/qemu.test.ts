/**
 * A layer sysroot boots: an ext4 image of it (`mkfs.ext4 -d`), booted by Debian's
 * qemu-system-x86_64 (TCG) with exactly what the default BLS entry says (linux, initrd,
 * options) plus the disk-specific `root=/dev/vda console=ttyS0`, as a bootloader would. In the
 * guest, the fixture package boot-probe runs as init= and prints the booted deployment, the
 * kernel and `openssl version` to the serial console, then `layer status --sysroot /` (the host's
 * node and the built dist/bin/layer.cjs, placed in the stateroot's shared /var: they are not
 * part of any deployment) and powers off. Then, on the host, rollback; the second boot starts
 * the other deployment, which has no openssl.
 *
 * Two sysroots: one made with the engine's lower stages (src/boot + Sysroot, no CLI), and one
 * made by the CLI: `layer init` of the demo base + kernel, `layer install openssl`,
 * `layer rollback`. Boots run one at a time; each is bounded by BOOT_TIMEOUT_MS. Boot times are
 * printed (`boot: ...`) for the record.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareKernel } from '../../src/boot/index.js';
import { silentReport } from '../../src/report.js';
import { Sysroot } from '../../src/sysroot/index.js';
import { origin } from '../sysroot/helpers.js';
import { blsEntries, bootFixtures, bootQemu, makeDiskImage, requireTool, unpackBootTree, type BootFixtures, type BootResult } from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const LAYER = join(ROOT, 'dist/bin/layer.cjs');
/** A TCG boot takes ~10-25 s here (more on a loaded machine); the bound only stops a hung guest. */
const BOOT_TIMEOUT_MS = 300_000;
/** Each test boots twice, each boot bounded above; vitest's default (120 s) would cut a slow pair short on a loaded machine. */
const TWO_BOOTS_MS = 2 * BOOT_TIMEOUT_MS + 60_000;

let f: BootFixtures;
let work: string;

beforeAll(async () => {
  requireTool('qemu-system-x86_64', 'qemu-system-x86');
  requireTool('mkfs.ext4', 'e2fsprogs');
  f = await bootFixtures();
  work = mkdtempSync(join(tmpdir(), 'layer-boot-qemu-'));
});

afterAll(() => {
  if (work && process.env.LAYER_KEEP_TEST_DIRS !== '1') rmSync(work, { recursive: true, force: true });
});

/** The shared libraries `ldd` says `program` loads, except the C library family the tree has. */
function extraLibs(program: string): string[] {
  const out = execFileSync('ldd', [program], { encoding: 'utf8' });
  return [...out.matchAll(/=> (\/\S+)/g)].map((m) => m[1]!).filter((p) => !/\/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so/.test(p));
}

/**
 * Put node and the built `layer` into the stateroot's /var (shared by all deployments, not
 * part of any commit) and a boot-probe hook that runs `layer status --sysroot /` in the guest.
 */
function installGuestLayer(sysroot: string, osname: string): void {
  if (!existsSync(LAYER)) throw new Error(`${LAYER} is missing: run npm run build`);
  const newestSrc = Math.max(...['src/boot/index.ts', 'src/sysroot/bootloader.ts', 'src/sysroot/sysroot.ts'].map((p) => statSync(join(ROOT, p)).mtimeMs));
  if (statSync(join(ROOT, 'dist/bin/layer-main.cjs')).mtimeMs < newestSrc) throw new Error(`${LAYER} is older than src/boot and src/sysroot: run npm run build`);
  const v = join(sysroot, 'ostree/deploy', osname, 'var/lib');
  const g = join(v, 'layer-guest');
  mkdirSync(join(g, 'lib'), { recursive: true });
  mkdirSync(join(g, 'layer/dist/bin'), { recursive: true });
  const node = execFileSync('sh', ['-c', 'readlink -f "$(command -v node)"'], { encoding: 'utf8' }).trim();
  copyFileSync(node, join(g, 'node'));
  chmodSync(join(g, 'node'), 0o755);
  for (const lib of extraLibs(node)) copyFileSync(lib, join(g, 'lib', lib.split('/').pop()!));
  // The bin (a launcher, src/cli/launch.ts) and the CLI bundle it runs.
  for (const f of ['layer.cjs', 'layer-main.cjs']) copyFileSync(join(ROOT, 'dist/bin', f), join(g, 'layer/dist/bin', f));
  mkdirSync(join(g, 'layer/wasm'));
  for (const w of ['libsolv.wasm', 'libsolv.cjs']) copyFileSync(join(ROOT, 'wasm', w), join(g, 'layer/wasm', w));
  // The bundle leaves better-sqlite3 (a native addon: the rpmdb) outside; copy it and its loader.
  for (const m of ['better-sqlite3/package.json', 'better-sqlite3/lib', 'better-sqlite3/build/Release/better_sqlite3.node', 'bindings', 'file-uri-to-path']) {
    const to = join(g, 'layer/node_modules', m);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(ROOT, 'node_modules', m), to, { recursive: true });
  }
  mkdirSync(join(v, 'boot-probe.d'), { recursive: true });
  const hook = join(v, 'boot-probe.d/50-layer-status');
  writeFileSync(hook, [
    '#!/bin/bash',
    '# Kernel messages would interleave with the JSON on the console.',
    'busybox dmesg -n 1',
    'export LD_LIBRARY_PATH=/var/lib/layer-guest/lib',
    'L="/var/lib/layer-guest/node /var/lib/layer-guest/layer/dist/bin/layer.cjs"',
    'echo "LAYER-STATUS-TEXT-BEGIN"; $L status --sysroot /; echo "LAYER-STATUS-TEXT-END rc=$?"',
    'echo "LAYER-STATUS-JSON-BEGIN"; $L status --sysroot / --json; echo "LAYER-STATUS-JSON-END rc=$?"',
    '',
  ].join('\n'));
  chmodSync(hook, 0o755);
}

/** The JSON `layer status --sysroot / --json` printed in the guest. */
function guestStatus(r: BootResult): { deployments: { checksum: string; serial: number; booted: boolean }[] } {
  const m = /LAYER-STATUS-JSON-BEGIN\r?\n([\s\S]*?)LAYER-STATUS-JSON-END rc=(\d+)/.exec(r.console);
  if (!m) throw new Error(`no layer status output in the guest console:\n${r.console.slice(-4000)}`);
  expect(m[2], 'layer status exit code in the guest').toBe('0');
  return JSON.parse(m[1]!.replace(/\r/g, ''));
}

/** Image the sysroot, boot its default entry; fail with the console tail when the probe did not finish. */
async function bootDefault(sysroot: string, tag: string): Promise<BootResult> {
  const [e] = blsEntries(sysroot);
  expect(e?.linux, 'the default entry has a kernel').toBeDefined();
  const disk = join(work, `${tag}.img`);
  const mkfsMs = makeDiskImage(sysroot, disk, 1536);
  const r = await bootQemu({
    kernel: join(sysroot, e!.linux!), initrd: join(sysroot, e!.initrd!), disk, timeoutMs: BOOT_TIMEOUT_MS, memMiB: 1024,
    // The entry's options + what a real disk's bootloader config adds; panic=-1 ends qemu on failure.
    append: `${e!.options} root=/dev/vda console=ttyS0 panic=-1 init=/usr/libexec/boot-probe`,
  });
  rmSync(disk, { force: true });
  // Kept with the work dir (LAYER_KEEP_TEST_DIRS=1) to read a failed boot.
  writeFileSync(join(work, `${tag}.console.txt`), r.console);
  const tail = r.console.split('\n').slice(-60).join('\n');
  process.stderr.write(`boot: ${tag}: ${(r.ms / 1000).toFixed(1)} s wall from qemu start to power-off (guest uptime ${r.probe.get('uptime') ?? '?'} s at the probe's end; mkfs.ext4 -d ${Math.round(mkfsMs)} ms)\n`);
  if (r.timedOut) throw new Error(`${tag}: the guest did not power off within ${BOOT_TIMEOUT_MS / 1000} s:\n${tail}`);
  if (!/^BOOT-PROBE: done\r?$/m.test(r.console)) throw new Error(`${tag}: the boot probe did not finish (qemu exit ${r.code}):\n${tail}`);
  const text = /LAYER-STATUS-TEXT-BEGIN\r?\n([\s\S]*?)LAYER-STATUS-TEXT-END/.exec(r.console)?.[1];
  if (text) process.stderr.write(`boot: ${tag}: layer status --sysroot / in the guest:\n${text.replace(/\r/g, '')}`);
  return r;
}

/** Checks shared by both sysroots: the booted deployment is `want`, openssl as expected, status agrees. */
function expectBooted(r: BootResult, want: { id: string; kver: string; openssl: boolean }): void {
  expect(r.console).toContain(`layer-initramfs: deployment demo/${want.id}`);
  expect(r.probe.get('deployment')).toBe(`/sysroot/ostree/deploy/demo/deploy/${want.id}`);
  expect(r.probe.get('kernel')).toBe(want.kver);
  if (want.openssl) expect(r.probe.get('openssl')).toMatch(/^OpenSSL 3\.0\.\d+/);
  else expect(r.probe.get('openssl')).toBe('absent');
  // What the initramfs promised: shared /var (the hook ran from it), writable /etc, read-only /usr.
  expect(r.probe.get('etc')).toBe('writable');
  expect(r.probe.get('usr')).toBe('read-only');
  expect(r.probe.get('ostree-booted')).toBe('yes');
  const booted = guestStatus(r).deployments.filter((d) => d.booted);
  expect(booted.map((d) => `${d.checksum}.${d.serial}`)).toEqual([want.id]);
}

describe('booting a layer sysroot in QEMU', () => {
  it('boots the default deployment of a sysroot made with src/boot + Sysroot, then the rollback one', async () => {
    const s = Sysroot.init(join(work, 'direct'));
    s.lock('test');
    const ids: string[] = [];
    for (const [name, openssl] of [['base', false], ['with-openssl', true]] as const) {
      const tree = join(work, `tree-${name}`);
      unpackBootTree(f, tree, { openssl });
      renameSync(join(tree, 'etc'), join(tree, 'usr/etc'));
      await prepareKernel(tree, silentReport);
      const c = await s.store.commitTree(tree, { subject: name });
      const d = (await s.deploy('demo', c, origin(c, openssl ? ['openssl'] : []))).deployment;
      ids.push(d.id);
      rmSync(tree, { recursive: true, force: true });
    }
    installGuestLayer(s.path, 'demo');
    const kver = f.kernel.kernels[f.kernel.kernels.length - 1]!.kver;
    const first = await bootDefault(s.path, 'direct-1');
    expectBooted(first, { id: ids[1]!, kver, openssl: true });
    s.rollback();
    s.release();
    const second = await bootDefault(s.path, 'direct-2');
    expectBooted(second, { id: ids[0]!, kver, openssl: false });
  }, TWO_BOOTS_MS);

  it('boots what `layer init` + `layer install openssl` deployed; after `layer rollback` the base without openssl', async () => {
    if (!existsSync(LAYER)) throw new Error(`${LAYER} is missing: run npm run build`);
    const reposdir = join(work, 'repos.d');
    mkdirSync(reposdir);
    const repos = { base: f.demo.base, updates: f.demo.updates, kernel: f.kernel.repo };
    writeFileSync(join(reposdir, 'boot.repo'), Object.entries(repos).map(([id, dir]) => `[${id}]\nname=${id}\nbaseurl=file://${dir}\ngpgcheck=0\n`).join('\n'));
    const sysroot = join(work, 'cli', 'sysroot');
    const layer = (...args: string[]) => {
      const r = spawnSync('node', [LAYER, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new Error(`layer ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
      return r.stdout;
    };
    layer('init', '-y', '--sysroot', sysroot, '--osname', 'demo', '--reposdir', reposdir,
      'filesystem', 'setup', 'demo-release', 'bash', 'coreutils', 'libc-bin', 'kernel', 'boot-probe');
    layer('install', '-y', '--sysroot', sysroot, 'openssl');
    const status = JSON.parse(layer('status', '--sysroot', sysroot, '--json')) as { deployments: { checksum: string; serial: number; path: string; booted: boolean }[] };
    const [withSsl, base] = status.deployments.map((d) => ({ ...d, id: `${d.checksum}.${d.serial}` }));
    expect(base?.booted).toBe(true);
    // The newest of the two kernel packages went in, and only it.
    const kernels = f.kernel.kernels.map((k) => k.kver);
    const newest = kernels[kernels.length - 1]!;
    for (const d of [withSsl!, base!]) expect(readdirSync(join(d.path, 'usr/lib/modules'))).toEqual([newest]);
    installGuestLayer(sysroot, 'demo');
    const first = await bootDefault(sysroot, 'cli-1');
    expectBooted(first, { id: withSsl!.id, kver: newest, openssl: true });
    layer('rollback', '--sysroot', sysroot);
    const second = await bootDefault(sysroot, 'cli-2');
    expectBooted(second, { id: base!.id, kver: newest, openssl: false });
  }, TWO_BOOTS_MS);
});
