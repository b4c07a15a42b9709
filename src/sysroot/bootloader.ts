/**
 * BLS entries and the atomic `boot/loader` swap (formats.md §3, ostree's
 * write_deployments_bootswap): entries for the new deployment list are written to the
 * inactive `boot/loader.(1-B)`, fsynced, then `boot/loader.tmp -> loader.(1-B)` is renamed over
 * `boot/loader`. That rename is the commit point: before it the old list is the boot list, after
 * it the new one.
 *
 * Difference from ostree: there are no kernels to copy (a directory sysroot boots nothing), so
 * the `ostree=` karg names the deployment directory itself (`/ostree/deploy/<os>/deploy/<id>`)
 * instead of a `/ostree/boot.B/...` symlink.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { fsyncDir, writeFileDurable } from './fsutil.js';

export interface BootEntry {
  osname: string;
  /** Deployment directory name `<checksum>.<serial>`. */
  id: string;
  title: string;
}

const KARG = /(?:^|\s)ostree=\/ostree\/deploy\/([^/\s]+)\/deploy\/([0-9a-f]{64}\.[0-9]+)(?:\s|$)/;

/** The active boot version (0 or 1), or undefined before the first deployment. */
export function bootVersion(sysroot: string): 0 | 1 | undefined {
  let target: string;
  try {
    target = readlinkSync(join(sysroot, 'boot/loader'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LayerError('LAYER_SYSROOT', `reading ${sysroot}/boot/loader`, { cause: err });
  }
  if (target === 'loader.0') return 0;
  if (target === 'loader.1') return 1;
  throw new LayerError('LAYER_SYSROOT', `${sysroot}/boot/loader points at '${target}', expected loader.0 or loader.1`);
}

/** Boot entries in boot order (default first): sorted by `version`, highest first. */
export function readBootEntries(sysroot: string): BootEntry[] {
  const v = bootVersion(sysroot);
  if (v === undefined) return [];
  const dir = join(sysroot, `boot/loader.${v}/entries`);
  const out: { version: number; entry: BootEntry }[] = [];
  for (const name of readdirSync(dir).filter((n) => /^ostree-\d+-.+\.conf$/.test(n))) {
    const file = join(dir, name);
    const fields = new Map<string, string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim());
      if (m) fields.set(m[1]!, m[2]!);
    }
    const k = KARG.exec(fields.get('options') ?? '');
    const version = Number(fields.get('version'));
    if (!k || !Number.isInteger(version)) throw new LayerError('LAYER_SYSROOT', `${file}: not a layer boot entry (no version or ostree= karg)`);
    out.push({ version, entry: { osname: k[1]!, id: k[2]!, title: fields.get('title') ?? '' } });
  }
  return out.sort((a, b) => b.version - a.version).map((e) => e.entry);
}

/**
 * Make `entries` (boot order, default first) the boot list, atomically.
 * Crash safety: a crash before the final rename leaves the old list in force; the half-written
 * `loader.(1-B)` and `loader.tmp` are overwritten by the next swap.
 */
export function swapBootEntries(sysroot: string, entries: readonly BootEntry[]): void {
  const boot = join(sysroot, 'boot');
  mkdirSync(boot, { recursive: true });
  const cur = bootVersion(sysroot);
  const next = cur === 0 ? 1 : 0;
  const nextDir = join(boot, `loader.${next}`);
  rmSync(nextDir, { recursive: true, force: true });
  mkdirSync(join(nextDir, 'entries'), { recursive: true });
  entries.forEach((e, index) => {
    const n = entries.length - index;
    writeFileDurable(
      join(nextDir, 'entries', `ostree-${n}-${e.osname}.conf`),
      [`title ${e.title} (ostree:${index})`, `version ${n}`, `options ostree=/ostree/deploy/${e.osname}/deploy/${e.id}`, ''].join('\n'),
    );
  });
  fsyncDir(join(nextDir, 'entries'));
  fsyncDir(nextDir);
  const tmp = join(boot, 'loader.tmp');
  rmSync(tmp, { force: true });
  symlinkSync(`loader.${next}`, tmp);
  fsyncDir(boot);
  renameSync(tmp, join(boot, 'loader'));
  fsyncDir(boot);
  if (cur !== undefined) rmSync(join(boot, `loader.${cur}`), { recursive: true, force: true });
  if (!existsSync(join(boot, 'boot'))) symlinkSync('.', join(boot, 'boot'));
}

/** Remove swap leftovers (an inactive loader.N, loader.tmp) after a crash. Caller holds the lock. */
export function cleanBootLeftovers(sysroot: string): void {
  const v = bootVersion(sysroot);
  const boot = join(sysroot, 'boot');
  rmSync(join(boot, 'loader.tmp'), { force: true });
  if (v !== undefined) rmSync(join(boot, `loader.${v === 0 ? 1 : 0}`), { recursive: true, force: true });
}
