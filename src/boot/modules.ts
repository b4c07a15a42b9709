/**
 * Which kernel modules an initramfs carries and in what order it loads them. busybox's
 * `insmod` loads one file and resolves nothing, so the order is computed here from each
 * module's own `.modinfo` (what depmod would write to modules.dep and modprobe would follow):
 * `depends=` (hard dependencies) and `softdep=pre:` (loaded first, e.g. ext4 and jbd2 need a
 * `crypto-crc32c` provider for metadata checksums). A softdep may name an alias; it resolves
 * to every module declaring that alias, found by reading the modules' `.modinfo` once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LayerError } from '../errors.js';
import { modinfo } from './elf.js';

/** The root-disk drivers a VM boot needs: virtio PCI transport and block device, ext4. */
export const REQUIRED_MODULES = ['virtio_pci', 'virtio_blk', 'ext4'] as const;
/** Other disk controllers and filesystems, carried when the tree has them (real disks). */
export const OPTIONAL_MODULES = ['virtio_scsi', 'sd_mod', 'ahci', 'nvme', 'xfs'] as const;

/** Module names compare with `-` and `_` equal (the kernel's own rule). */
export const moduleName = (s: string) => s.replace(/-/g, '_');

export interface ModuleFile {
  name: string;
  /** Path relative to `usr/lib/modules/<kver>`, e.g. `kernel/fs/ext4/ext4.ko`. */
  rel: string;
}

export class ModuleTree {
  private readonly files = new Map<string, string>();
  private readonly builtin = new Set<string>();
  private readonly info = new Map<string, [string, string][]>();
  private aliases: Map<string, string[]> | undefined;

  /** Index the uncompressed `.ko` files under `kdir` (`usr/lib/modules/<kver>`). */
  constructor(readonly kdir: string) {
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ko')) this.files.set(moduleName(e.name.slice(0, -3)), relative(kdir, p));
        else if (/\.ko\.(xz|zst|gz)$/.test(e.name)) {
          // busybox insmod of a compressed module depends on how busybox was built; refuse clearly.
          throw new LayerError('LAYER_BOOT', `${p}: compressed kernel modules are not supported by layer's initramfs`, { hint: 'ship the modules uncompressed (.ko)' });
        }
      }
    };
    if (existsSync(join(kdir, 'kernel'))) walk(join(kdir, 'kernel'));
    const builtinList = join(kdir, 'modules.builtin');
    if (existsSync(builtinList)) {
      for (const line of readFileSync(builtinList, 'utf8').split('\n')) {
        const m = /([^/]+)\.ko$/.exec(line.trim());
        if (m) this.builtin.add(moduleName(m[1]!));
      }
    }
  }

  has(name: string): boolean {
    return this.files.has(moduleName(name));
  }

  isBuiltin(name: string): boolean {
    return this.builtin.has(moduleName(name));
  }

  private modinfoOf(name: string): [string, string][] {
    let kv = this.info.get(name);
    if (!kv) {
      const file = join(this.kdir, this.files.get(name)!);
      let buf: Buffer;
      try {
        buf = readFileSync(file);
      } catch (err) {
        throw new LayerError('LAYER_BOOT', `reading kernel module ${file}`, { cause: err });
      }
      kv = modinfo(buf, file);
      this.info.set(name, kv);
    }
    return kv;
  }

  /** Modules declaring `alias`, sorted (read once from every module's .modinfo). */
  private byAlias(alias: string): string[] {
    if (!this.aliases) {
      this.aliases = new Map();
      for (const name of [...this.files.keys()].sort()) {
        for (const [k, v] of this.modinfoOf(name)) {
          if (k === 'alias') this.aliases.set(v, [...(this.aliases.get(v) ?? []), name]);
        }
      }
    }
    return this.aliases.get(alias) ?? [];
  }

  /** Hard dependencies and `softdep=pre:` modules of `name` that exist as files. */
  private prerequisites(name: string): string[] {
    const out: string[] = [];
    for (const [k, v] of this.modinfoOf(name)) {
      if (k === 'depends') out.push(...v.split(',').filter(Boolean).map(moduleName));
      if (k === 'softdep') {
        const pre = /(?:^|\s)pre:\s*(.*?)(?:\s+post:.*)?$/.exec(v)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
        for (const dep of pre) out.push(...(this.has(dep) ? [moduleName(dep)] : this.byAlias(dep)));
      }
    }
    // A dependency that is built in (or missing from a trimmed tree) needs no loading here;
    // a missing hard dependency makes insmod of `name` fail, which loadOrder reports.
    return out;
  }

  /**
   * The modules to load for `wanted` (names; absent and built-in ones skipped by the caller),
   * dependencies first, ties in name order so the list is deterministic.
   * LAYER_BOOT when a hard dependency is neither a file nor built in.
   */
  loadOrder(wanted: readonly string[]): ModuleFile[] {
    const order: ModuleFile[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, from: string | undefined) => {
      const s = state.get(name);
      if (s === 'done') return;
      if (s === 'visiting') throw new LayerError('LAYER_BOOT', `kernel module dependency cycle at ${name}`);
      if (!this.files.has(name)) {
        if (this.builtin.has(name)) return;
        throw new LayerError('LAYER_BOOT', `kernel module ${name}${from ? ` (needed by ${from})` : ''} is not in ${this.kdir}`);
      }
      state.set(name, 'visiting');
      for (const dep of [...new Set(this.prerequisites(name))].sort()) {
        // Softdeps may be absent (an optional provider); only hard deps must resolve.
        if (!this.files.has(dep) && !this.builtin.has(dep) && !this.isHardDep(name, dep)) continue;
        visit(dep, name);
      }
      state.set(name, 'done');
      order.push({ name, rel: this.files.get(name)! });
    };
    for (const w of [...wanted].map(moduleName).sort()) visit(w, undefined);
    return order;
  }

  private isHardDep(name: string, dep: string): boolean {
    return this.modinfoOf(name).some(([k, v]) => k === 'depends' && v.split(',').map(moduleName).includes(dep));
  }
}
