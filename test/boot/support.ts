/**
 * Boot test support: the default BLS entry of a sysroot as a bootloader reads it, an ext4 disk
 * image of the sysroot (`mkfs.ext4 -d`, no loop mount, no root), and one QEMU boot with the
 * entry's kernel, initrd and options on the serial console, bounded in time.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildDemoFixtures, type DemoFixtures } from '../../fixtures/demo/build.js';
import { buildKernelFixtures, type KernelFixtures } from '../../fixtures/kernel/build.js';
import { requireTool } from '../support/tools.js';
export { requireTool };

/** Fail (never skip) when a tool is missing, naming the Debian package that provides it. */

export interface BlsEntry {
  file: string;
  title: string;
  version: number;
  linux?: string;
  initrd?: string;
  options: string;
}

/** The entries of the active `boot/loader`, default first (highest `version`), as GRUB's blscfg sorts them. */
export function blsEntries(sysroot: string): BlsEntry[] {
  const dir = join(sysroot, 'boot', readlinkSync(join(sysroot, 'boot/loader')), 'entries');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.conf'))
    .map((n) => {
      const f = new Map<string, string>();
      for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) {
        const m = /^(\S+)\s+(.*)$/.exec(line);
        if (m) f.set(m[1]!, m[2]!);
      }
      return {
        file: n, title: f.get('title') ?? '', version: Number(f.get('version')), options: f.get('options') ?? '',
        ...(f.has('linux') ? { linux: f.get('linux')! } : {}), ...(f.has('initrd') ? { initrd: f.get('initrd')! } : {}),
      };
    })
    .sort((a, b) => b.version - a.version);
}

/** An ext4 image of `sysroot` at `image` (sparse, `sizeMiB`), made as an unprivileged user could. */
export function makeDiskImage(sysroot: string, image: string, sizeMiB: number): number {
  const t0 = performance.now();
  const r = spawnSync('mkfs.ext4', ['-q', '-F', '-L', 'layer-sysroot', '-d', sysroot, image, `${sizeMiB}M`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfs.ext4 -d ${sysroot} failed (${r.status}): ${r.stderr}`);
  return performance.now() - t0;
}

export interface BootResult {
  /** Everything the guest wrote to the serial console. */
  console: string;
  ms: number;
  code: number | null;
  timedOut: boolean;
  /** `BOOT-PROBE: key=value` lines of the probe, as a map (last one wins). */
  probe: Map<string, string>;
}

/**
 * Boot `kernel` + `initrd` with `append` on qemu-system-x86_64 (TCG: there is no KVM here),
 * `disk` as a virtio disk, serial console on stdout, no reboot (a panic or reboot ends qemu).
 * Killed after `timeoutMs`.
 */
export function bootQemu(opts: { kernel: string; initrd: string; append: string; disk: string; timeoutMs: number; memMiB?: number }): Promise<BootResult> {
  const args = [
    '-machine', 'q35,accel=tcg', '-cpu', 'max', '-smp', '1', '-m', String(opts.memMiB ?? 768),
    '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-monitor', 'none',
    '-kernel', opts.kernel, '-initrd', opts.initrd, '-append', opts.append,
    '-drive', `file=${opts.disk},format=raw,if=virtio,cache=unsafe`,
  ];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // Decoded once at the end: a UTF-8 character (status's ●) may span two chunks.
      const out = Buffer.concat(chunks).toString('utf8');
      const probe = new Map<string, string>();
      for (const m of out.matchAll(/^BOOT-PROBE: ([a-z-]+)=(.*?)\r?$/gm)) probe.set(m[1]!, m[2]!);
      resolve({ console: out, ms: performance.now() - t0, code, timedOut, probe });
    });
  });
}

export interface BootFixtures {
  demo: DemoFixtures;
  kernel: KernelFixtures;
}

let fixtures: Promise<BootFixtures> | undefined;

/** The demo repos and the kernel repo (built once per process, cached under .cache/). */
export function bootFixtures(): Promise<BootFixtures> {
  fixtures ??= (async () => {
    for (const [tool, pkg] of [['rpmbuild', 'rpm'], ['createrepo_c', 'createrepo-c'], ['rpm2cpio', 'rpm2cpio'], ['cpio', 'cpio'], ['dpkg-deb', 'dpkg']] as const) requireTool(tool, pkg);
    return { demo: await buildDemoFixtures(), kernel: await buildKernelFixtures() };
  })();
  return fixtures;
}

/** Unpack RPMs into `root` with the native tools (rpm2cpio | cpio), as a plain tree. */
export function extractRpms(rpms: readonly string[], root: string): void {
  mkdirSync(root, { recursive: true });
  for (const r of rpms) execFileSync('sh', ['-c', 'rpm2cpio "$1" | (cd "$2" && cpio -idmu --quiet)', 'x', r, root]);
}

/**
 * A bootable tree without the engine: the demo base (+ openssl when `openssl`), one kernel
 * (by kver; default the newest), busybox-static and boot-probe, unpacked.
 */
export function unpackBootTree(f: BootFixtures, root: string, opts: { kver?: string; openssl?: boolean } = {}): void {
  const rpmsIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.rpm')).map((n) => join(dir, n));
  const kver = opts.kver ?? f.kernel.kernels[f.kernel.kernels.length - 1]!.kver;
  extractRpms([
    ...rpmsIn(f.demo.base),
    ...(opts.openssl ? rpmsIn(f.demo.updates) : []),
    ...f.kernel.packages.filter((p) => p.name !== 'kernel' || p.kver === kver).map((p) => p.file),
  ], root);
}
