/**
 * `Sysroot`: deployments on a directory laid out like OSTree's (formats.md §3):
 *
 *   ostree/repo                                   the Store
 *   ostree/deploy/<os>/deploy/<csum>.<serial>     hardlink checkout + merged /etc copy
 *   ostree/deploy/<os>/deploy/<csum>.<serial>.origin
 *   ostree/deploy/<os>/var                        the stateroot's shared /var
 *   boot/loader -> loader.N, boot/loader.N/entries/ostree-<k>-<os>.conf
 *   boot/ostree/<os>-<bootcsum>/, ostree/boot.N  kernels and OSTree's symlink farm (bootloader.ts)
 *   ostree/layer/{lock,booted,local-rpms/,cache/} layer's state
 *   ostree/layer/{lock-queue/,config.json}       waiting writers (lock.ts), settings (config.ts)
 *
 * The boot entries are the deployment list (as `ostree admin status` reads it). Booted: on a
 * host booted with an `ostree=` karg and sysroot `/`, from /proc/cmdline; on a directory sysroot
 * from `ostree/layer/booted`, which `markBooted` (the CLI's `layer boot-pending`) moves.
 *
 * Crash safety: a deployment is checked out, its /etc merged, its origin written and the
 * filesystem synced before the boot entries are swapped (bootloader.ts); until that rename
 * the old default stays. Anything a killed run left behind (deployment directories no entry
 * names, inactive loader dirs, deployment refs) is removed by `cleanLeftovers`, which every
 * locked transaction runs first.
 * Locking: verbs that change the sysroot must run between `lock()` (or `lockWait()`) and `release()`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import { Store, type Checksum } from '../store/index.js';
import { cleanBootLeftovers, readBootEntries, stageKernel, swapBootEntries, type BootEntry, type BootKernel } from './bootloader.js';
import { writeMergedEtc, type EtcChanges } from './etc-merge.js';
import { syncFilesystem, writeFileBeforeSync, writeFileDurable } from './fsutil.js';
import { readConfig } from './config.js';
import { SysrootLock, type LockWaitOptions } from './lock.js';
import { formatOrigin, parseOrigin } from './origin.js';
import { readHeld, writeHeld } from './held.js';
import { isPinned, withPinned } from './pin.js';
import type { Deployment, Origin, SysrootStatus } from './types.js';

const DEPLOY_REF_PREFIX = 'layer/deploy/';

/** A ref a deploy sets once its syncfs made the objects durable (no second syncfs; see Repo.setRef). */
export interface DeployRef {
  ref: string;
  commit: Checksum;
  /**
   * A cache ref (a package's import): its value is written before the syncfs and renamed in
   * after it without an fsync, so a power loss may lose it (the package is imported again).
   * Other refs (a base ref) are set with their own fsync after the syncfs.
   */
  cache?: boolean;
}

export interface DeployResult {
  deployment: Deployment;
  etc: EtcChanges;
  /** Deployments removed by retention. */
  removed: string[];
}

export class Sysroot {
  readonly store: Store;
  private lockHandle: SysrootLock | undefined;

  private constructor(readonly path: string) {
    this.store = Store.open(join(path, 'ostree/repo'));
  }

  /** Open an existing sysroot; LAYER_SYSROOT naming the path when there is none. */
  static open(path: string): Sysroot {
    if (!existsSync(join(path, 'ostree/repo/config'))) {
      throw new LayerError('LAYER_SYSROOT', `${path} is not a sysroot (no ostree/repo)`, { hint: `create one with: layer init --sysroot ${path} --osname NAME --reposdir DIR PKG...` });
    }
    return new Sysroot(path);
  }

  /** Create the layout (repo, state dir) in an absent or empty directory, or open it if it is an empty sysroot. */
  static init(path: string): Sysroot {
    const fresh = !existsSync(join(path, 'ostree/repo/config'));
    if (fresh && existsSync(path) && readdirSync(path).length > 0) {
      throw new LayerError('LAYER_SYSROOT', `cannot create a sysroot in ${path}: directory not empty`);
    }
    mkdirSync(join(path, 'ostree/layer'), { recursive: true });
    mkdirSync(join(path, 'boot'), { recursive: true });
    Store.init(join(path, 'ostree/repo'));
    const s = new Sysroot(path);
    if (s.deployments().length > 0) throw new LayerError('LAYER_SYSROOT', `${path} already has deployments`, { hint: 'use layer install/uninstall on it' });
    return s;
  }

  get stateDir(): string {
    return join(this.path, 'ostree/layer');
  }

  /** Take the transaction lock (see lock.ts), then remove what a killed run left behind. */
  lock(command: string): void {
    mkdirSync(this.stateDir, { recursive: true });
    this.lockHandle = SysrootLock.acquire(this.stateDir, command);
    this.cleanLeftovers();
  }

  /**
   * Take the transaction lock as a queued writer: waits (in arrival order behind other writers)
   * until the lock is free, at most `timeoutSeconds` (undefined: no limit; 0: fail at once like
   * `lock`), then removes leftovers as `lock` does. LAYER_LOCKED (exit 3) on timeout.
   */
  async lockWait(command: string, opts: LockWaitOptions = {}): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    this.lockHandle = await SysrootLock.acquireWait(this.stateDir, command, opts);
    this.cleanLeftovers();
  }

  release(): void {
    this.lockHandle?.release();
    this.lockHandle = undefined;
  }

  private requireLock(verb: string): void {
    if (!this.lockHandle) throw new LayerError('LAYER_INTERNAL', `assertion failed: ${verb} without the sysroot lock`);
  }

  deployDir(osname: string): string {
    return join(this.path, 'ostree/deploy', osname, 'deploy');
  }

  /**
   * Deployments in boot order; index 0 is the default. Readers take no lock: a swap or cleanup
   * by a running transaction can remove the entries or origin being read, so a failed read is
   * retried a few times before it is reported.
   */
  deployments(): Deployment[] {
    for (let attempt = 0; ; attempt++) {
      try {
        const booted = this.bootedId();
        const held = readHeld(this.stateDir);
        return readBootEntries(this.path).map((e, index) => this.describe(e, index, booted, held));
      } catch (err) {
        if (attempt >= 4 || this.lockHandle) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 * (attempt + 1));
      }
    }
  }

  private describe(e: BootEntry, index: number, booted: string | undefined, held: Set<string>): Deployment {
    const path = join(this.deployDir(e.osname), e.id);
    const dot = e.id.lastIndexOf('.');
    const originFile = `${path}.origin`;
    let origin: Origin;
    let pinned: boolean;
    try {
      const text = readFileSync(originFile, 'utf8');
      origin = parseOrigin(text, originFile);
      pinned = isPinned(text);
    } catch (err) {
      throw withContext(`deployment ${e.osname}/${e.id}`, err);
    }
    return {
      osname: e.osname, id: e.id, checksum: e.id.slice(0, dot) as Checksum, serial: Number(e.id.slice(dot + 1)),
      path, origin, index, booted: booted === `${e.osname}/${e.id}`, pinned,
      ...(held.has(`${e.osname}/${e.id}`) ? { held: true } : {}),
      ...(e.kernel ? { kernel: e.kernel } : {}),
    };
  }

  /** `<os>/<id>` of the booted deployment, or undefined. */
  private bootedId(): string | undefined {
    if (realpathSync(this.path) === '/') {
      const m = /(?:^|\s)ostree=(\S+)/.exec(safeRead('/proc/cmdline') ?? '');
      if (m) {
        try {
          const real = realpathSync(m[1]!);
          const r = /\/ostree\/deploy\/([^/]+)\/deploy\/([0-9a-f]{64}\.\d+)$/.exec(real);
          if (r) return `${r[1]}/${r[2]}`;
        } catch {
          /* fall back to the state file */
        }
      }
    }
    return safeRead(join(this.stateDir, 'booted'))?.trim() || undefined;
  }

  status(): SysrootStatus {
    const deployments = this.deployments();
    const booted = deployments.find((d) => d.booted);
    const def = deployments[0];
    const pending = def && !def.booted ? def : undefined;
    return { path: this.path, deployments, booted, pending, rollback: rollbackTarget(deployments) };
  }

  /**
   * Check out `commit` as a new deployment of `osname`, merge /etc from the merge deployment
   * (booted, else default), write `origin`, then make it the default. Retention keeps the new
   * one, the booted one, `retention` rollbacks (config.ts; default 1) and every pinned one; the
   * rest are deleted and their objects pruned.
   * `etcFiles` (paths relative to /etc) are written into the new /etc after the merge.
   * `asDefault: false` (ostree's `admin deploy --not-as-default`) appends the new deployment
   * to the boot order instead, held (held.ts), every other deployment kept: the caller checks
   * it, then `promote`s it or leaves it held. A kill before the promotion leaves the old default.
   * `refs` (the compose's package refs, apply's deferRefs; a recomposed base's ref) are set
   * after this deploy's syncfs, which makes their objects durable too — one sync for the whole
   * transaction — and before the cleanup, so its prune keeps them. Cache refs (DeployRef.cache)
   * are written before the syncfs and only renamed in after it, with no fsync each.
   */
  async deploy(
    osname: string, commit: Checksum, origin: Origin,
    opts: { etcFiles?: Record<string, string>; asDefault?: boolean; refs?: readonly DeployRef[] } = {},
  ): Promise<DeployResult> {
    this.requireLock('deploy');
    const before = this.deployments();
    const dir = this.deployDir(osname);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(this.path, 'ostree/deploy', osname, 'var'), { recursive: true });
    const serial = Math.max(-1, ...before.filter((d) => d.checksum === commit && d.osname === osname).map((d) => d.serial)) + 1;
    const id = `${commit}.${serial}`;
    const path = join(dir, id);
    let etc: EtcChanges;
    let kernel: BootKernel | undefined;
    try {
      await this.store.checkout(commit, path);
      if (existsSync(join(path, 'etc'))) {
        if (existsSync(join(path, 'usr/etc'))) throw new LayerError('LAYER_SYSROOT', `commit ${commit} has both /etc and /usr/etc`);
        // Like ostree: a tree with /etc only gets it moved to /usr/etc (the defaults).
        renameSync(join(path, 'etc'), join(path, 'usr/etc'));
      }
      const merge = before.find((d) => d.booted) ?? before[0];
      etc = writeMergedEtc(path, merge && { usrEtc: join(merge.path, 'usr/etc'), etc: join(merge.path, 'etc') });
      for (const [rel, content] of Object.entries(opts.etcFiles ?? {})) {
        // Admin-style additions (e.g. the repo files `layer init` was given): later merges carry them.
        mkdirSync(join(path, 'etc', rel, '..'), { recursive: true });
        writeFileSync(join(path, 'etc', rel), content);
      }
      // The tree's kernel + initramfs into boot/ostree/<os>-<bootcsum>/ (shared when already there).
      kernel = await stageKernel(this.path, osname, path);
      // Made durable by the syncfs below, before the deployment is in the boot list (two fsyncs less).
      writeFileBeforeSync(`${path}.origin`, formatOrigin(origin));
      // The package refs are a cache (a lost one means importing the package again): their
      // values are written before the syncfs, which makes them durable with the objects, and
      // renamed in after it, without an fsync each.
      const refs = opts.refs ?? [];
      const staged = refs.filter((r) => r.cache).map((r) => this.store.stageRef(r.ref, r.commit));
      syncFilesystem(path);
      // Keep the commit from being pruned before it is in the boot list (the syncfs above covered the objects).
      this.store.setRef(DEPLOY_REF_PREFIX + `${osname}/${id}`, commit, { synced: true });
      for (const r of refs) if (!r.cache) this.store.setRef(r.ref, r.commit, { synced: true });
      for (const r of staged) this.store.publishRef(r);
    } catch (err) {
      throw withContext(`deploying ${commit.slice(0, 12)}`, err);
    }
    const entry: BootEntry = { osname, id, title: `${osname} ${commit.slice(0, 12)}`, ...(kernel ? { kernel } : {}) };
    if (opts.asDefault === false && before.length > 0) {
      // Held first, listed second: a kill between the two leaves a held leftover directory, never a default.
      writeHeld(this.stateDir, [...readHeld(this.stateDir), `${osname}/${id}`]);
      swapBootEntries(this.path, [...before.map(toEntry), entry]);
      return { deployment: this.find(`${osname}/${id}`), etc, removed: [] };
    }
    const keep: BootEntry[] = [entry, ...retained(before, readConfig(this.stateDir).retention).map(toEntry)];
    swapBootEntries(this.path, keep);
    if (before.length === 0) this.markBooted();
    const removed = before.filter((d) => !keep.some((k) => k.id === d.id && k.osname === d.osname)).map((d) => `${d.osname}/${d.id}`);
    this.cleanup({ ifRemoved: true });
    return { deployment: this.deployments()[0]!, etc, removed };
  }

  /**
   * Make a held deployment (deploy `asDefault: false`) the default, as `deploy` would have:
   * one boot-entry swap, then retention and cleanup as after a deploy.
   */
  promote(d: Deployment): Omit<DeployResult, 'etc'> {
    this.requireLock('promote');
    const others = this.deployments().filter((x) => x.id !== d.id || x.osname !== d.osname);
    const keep = [d, ...retained(others, readConfig(this.stateDir).retention)];
    swapBootEntries(this.path, keep.map(toEntry));
    const held = readHeld(this.stateDir);
    held.delete(`${d.osname}/${d.id}`);
    writeHeld(this.stateDir, held);
    const removed = others.filter((x) => !keep.includes(x)).map((x) => `${x.osname}/${x.id}`);
    this.cleanup({ ifRemoved: true });
    return { deployment: this.find(`${d.osname}/${d.id}`), removed };
  }

  /**
   * Make the rollback deployment the default: only the boot entries change (constant time).
   * A second rollback undoes the first.
   */
  rollback(): Deployment {
    this.requireLock('rollback');
    const list = this.deployments();
    const target = rollbackTarget(list);
    if (!target) throw new LayerError('LAYER_SYSROOT', 'no rollback deployment', { hint: 'there is only one deployment' });
    const order = [target, ...list.filter((d) => d !== target)];
    swapBootEntries(this.path, order.map(toEntry));
    return this.deployments()[0]!;
  }

  /** The stand-in for a reboot on a directory sysroot: the default deployment becomes the booted one. */
  markBooted(): Deployment {
    this.requireLock('markBooted');
    const d = this.deployments()[0];
    if (!d) throw new LayerError('LAYER_SYSROOT', `${this.path} has no deployments`);
    writeFileDurable(join(this.stateDir, 'booted'), `${d.osname}/${d.id}\n`);
    return { ...d, booted: true };
  }

  /**
   * Pin or unpin a deployment (`ostree admin pin [--unpin]`): a pinned one survives retention
   * and `cleanup` of pending/rollback deployments. Only its origin file changes.
   */
  setPinned(d: Deployment, pinned: boolean): Deployment {
    this.requireLock('setPinned');
    const file = `${d.path}.origin`;
    writeFileDurable(file, withPinned(readFileSync(file, 'utf8'), pinned));
    return { ...d, pinned };
  }

  /**
   * Remove everything no boot entry names: leftover deployment dirs and refs; then prune the
   * repo. `pending` / `rollback` (rpm-ostree's `cleanup -p` / `-r`) first drop the unpinned
   * deployments before / after the booted one in boot order from the boot entries.
   * `ifRemoved` (after a deploy or promote): prune only when a deployment went. Otherwise no
   * object lost its last reference — package refs and deployment refs only grow — and the walk
   * of every reachable object is the deploy's largest cost after the sync; what a killed run
   * left unreferenced waits for the next removal or `layer cleanup`.
   */
  cleanup(opts: { pending?: boolean; rollback?: boolean; ifRemoved?: boolean } = {}): { removedDeployments: string[]; freedBytes: number; removedObjects: number } {
    this.requireLock('cleanup');
    if (opts.pending || opts.rollback) {
      const list = this.deployments();
      const anchor = list.find((d) => d.booted) ?? list[0];
      const drop = (d: Deployment): boolean => !!anchor && d !== anchor && !d.pinned && (d.index < anchor.index ? !!opts.pending : !!opts.rollback);
      if (list.some(drop)) swapBootEntries(this.path, list.filter((d) => !drop(d)).map(toEntry));
    }
    // Held deployments (held.ts) stay until a cleanup.
    const list = this.deployments();
    if (list.some((d) => d.held && d.index > 0)) swapBootEntries(this.path, list.filter((d) => !d.held || d.index === 0).map(toEntry));
    const removedDeployments = this.cleanLeftovers();
    if (opts.ifRemoved && removedDeployments.length === 0) return { removedDeployments, freedBytes: 0, removedObjects: 0 };
    const r = this.store.prune();
    return { removedDeployments, freedBytes: r.freedBytes, removedObjects: r.removedObjects };
  }

  private cleanLeftovers(): string[] {
    cleanBootLeftovers(this.path);
    const listed = new Set(this.deployments().map((d) => `${d.osname}/${d.id}`));
    const removed: string[] = [];
    const deployRoot = join(this.path, 'ostree/deploy');
    for (const os of existsSync(deployRoot) ? readdirSync(deployRoot) : []) {
      const dir = join(deployRoot, os, 'deploy');
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const id = name.replace(/\.origin(\.tmp-\d+)?$/, '');
        if (listed.has(`${os}/${id}`)) continue;
        rmSync(join(dir, name), { recursive: true, force: true });
        if (/^[0-9a-f]{64}\.\d+$/.test(name)) removed.push(`${os}/${name}`);
      }
    }
    const held = readHeld(this.stateDir);
    if ([...held].some((h) => !listed.has(h))) writeHeld(this.stateDir, [...held].filter((h) => listed.has(h)));
    for (const ref of this.store.listRefs(DEPLOY_REF_PREFIX).keys()) {
      if (!listed.has(ref.slice(DEPLOY_REF_PREFIX.length))) this.store.setRef(ref, null);
    }
    return removed;
  }

  /** A deployment by index in boot order, `<os>/<id>`, id, or checksum prefix (≥ 6 hex). */
  find(spec: string): Deployment {
    const list = this.deployments();
    const hit = /^\d+$/.test(spec) && Number(spec) < list.length ? list[Number(spec)]
      : list.find((d) => `${d.osname}/${d.id}` === spec || d.id === spec)
        ?? (spec.length >= 6 && /^[0-9a-f]+$/.test(spec) ? list.find((d) => d.checksum.startsWith(spec)) : undefined);
    if (!hit) throw new LayerError('LAYER_USAGE', `no deployment '${spec}' in ${this.path}`, { hint: 'name one by index (0 = default), id or checksum prefix; see layer status' });
    return hit;
  }
}

/**
 * The old deployments a new one keeps, in boot order after it: the booted one, the first
 * `retention` unpinned deployments after it in boot order (the rollbacks), and every pinned one.
 * A pending deployment that is not pinned is replaced by the new one, as in rpm-ostree.
 */
function retained(before: Deployment[], retention: number): Deployment[] {
  const booted = before.find((d) => d.booted);
  const rollbacks = new Set((booted ? before.slice(booted.index + 1) : before).filter((d) => !d.pinned && !d.held).slice(0, retention));
  return [...(booted ? [booted] : []), ...before.filter((d) => d !== booted && (d.pinned || rollbacks.has(d)))];
}

function toEntry(d: Deployment): BootEntry {
  return { osname: d.osname, id: d.id, title: `${d.osname} ${d.checksum.slice(0, 12)}`, ...(d.kernel ? { kernel: d.kernel } : {}) };
}

/** With a pending deployment, rollback returns to the booted one; otherwise to the next in boot order. */
function rollbackTarget(list: Deployment[]): Deployment | undefined {
  const def = list[0];
  if (!def) return undefined;
  if (!def.booted) {
    const booted = list.find((d) => d.booted);
    if (booted) return booted;
  }
  // A held deployment's checks failed: never a rollback target.
  return list.slice(1).find((d) => !d.held);
}

function safeRead(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
