/**
 * composeTree: base commit + request → a new committed root tree. The stages, each a timed
 * Report section:
 *
 *   solve       base rpmdb → installed repo; repos refreshed and loaded; locked solve
 *   download    .rpm files into the package cache (repos/packages.ts)
 *   import      one store commit per package (reused when already imported)
 *   checkout    base (minus removed packages' files) unioned with the packages, by hardlinks;
 *               file conflicts name both owners (a base package by its rpmdb entry)
 *   scriptlets  %pre, ownership, %post, %posttrans, %transfiletriggerin in bubblewrap, on an
 *               overlay so the store's objects are never written (overlay.ts)
 *   rpmdb       base headers kept verbatim + layered packages' headers with install tags
 *   commit      parent = base; metadata: request, packages, repos, input digest
 *
 * Crash safety: everything is built in a scratch directory under `cacheDir`, removed at the
 * end whatever happens; the store only gains objects (unreferenced until the commit, which is
 * written last; prune removes leftovers). The base commit and every deployment stay as they
 * were. Locking: the caller holds the sysroot lock; one compose per cacheDir at a time.
 */
import { lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import type { Report } from '../report.js';
import { downloadPackages, type PackageDownload, type PayloadSizes } from '../repos/index.js';
import { openRpm, readScriptlets, TAG, type RpmPackage } from '../rpm/index.js';
import { installedEntry, packageEntry, RPMDB_DIR, writeRpmdb, type InstalledPackage, type RpmdbEntry } from '../rpmdb/index.js';
import { loadSolver, Pool, type Job, type Nevra, type PackageRecord, type TransactionStep } from '../solver/index.js';
import { FileConflictError, importRpm, type Checksum } from '../store/index.js';
import { readBase, type BaseSet } from './base.js';
import { buildMetadata, inputDigest } from './digest.js';
import { releaseStale, withWritableView } from './overlay.js';
import { runTransactionScriptlets, type TransactionOptions, type TransactionPackage } from './scriptlets-transaction.js';
import { slotOf } from './scriptlets.js';
// Not (yet) re-exported by src/rpm/index.ts: the header → scriptlets reader, for rpmdb headers.
import { solveRequest, type Wanted } from './solve.js';
import type { ComposeRequest, ComposeResult, ComposeStep } from './types.js';

const INSTALLING = new Set(['install', 'upgrade', 'downgrade', 'reinstall']);
const LOCAL_REPO = '@commandline';
/** Mount points bwrap creates when the tree lacks them. */
const MOUNT_POINTS = ['tmp', 'run', 'proc', 'dev', 'sys', 'var'];

const evrOf = (p: { epoch: number; version: string; release: string }) => `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
const nevraOf = (p: { name: string; epoch: number; version: string; release: string; arch: string }) => `${p.name}-${evrOf(p)}.${p.arch}` as Nevra;

async function timed<T>(report: Report, timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await report.section(name, fn);
  } finally {
    timings[name] = (timings[name] ?? 0) + (performance.now() - t0);
  }
}

/** Specs the base already satisfies: by name, NEVRA, provide, or file. */
function providedByBase(base: BaseSet, spec: string): string | undefined {
  const direct = base.packages.find((p) => p.name === spec || p.nevra === spec);
  if (direct) return direct.nevra;
  if (!base.rpmdb) return undefined;
  const hit = spec.startsWith('/') ? base.rpmdb.ownersOf(spec)[0] : base.rpmdb.whatProvides(spec)[0];
  return hit?.nevra;
}

/** The path as rpm knows it, from a path in the tree (import moved /etc and /boot). */
function rpmPath(treePath: string): string {
  if (treePath === 'usr/etc' || treePath.startsWith('usr/etc/')) return `/etc${treePath.slice(7)}`;
  if (treePath.startsWith('usr/lib/ostree-boot')) return `/boot${treePath.slice(19)}`;
  return `/${treePath}`;
}

/** Compose the tree for `req`. See the module comment for the stages and guarantees. */
export async function composeTree(req: ComposeRequest): Promise<ComposeResult> {
  const { store, report, options: o } = req;
  const timings: Record<string, number> = {};
  if (req.base === null && req.remove.length > 0) throw new LayerError('LAYER_USAGE', 'cannot remove packages without a base commit');
  await mkdir(req.cacheDir, { recursive: true });
  await releaseStale(req.cacheDir);
  const scratch = await mkdtemp(join(req.cacheDir, 'compose-'));
  let base: BaseSet | undefined;
  try {
    await loadSolver();
    using pool = new Pool({ arch: req.arch });
    const locals: RpmPackage[] = [];
    const solved = await timed(report, timings, 'solve', async () => {
      base = await readBase(store, req.base?.commit ?? null, scratch, req.cacheDir);
      const sys = pool.addRepo('@System', { kind: 'records', records: base.records });
      pool.setInstalled(sys);
      await req.repos.refresh(o.cacheOnly ? { cacheOnly: true } : {});
      await req.repos.load(pool, { specs: req.install });
      for (const path of req.localRpms) {
        try {
          locals.push(await openRpm(path));
        } catch (err) {
          throw withContext(`local package ${path}`, err);
        }
      }
      if (locals.length) pool.addRepo(LOCAL_REPO, { kind: 'records', records: locals.map((p) => p.toRecord()) }, { priority: 1000 });
      const alreadyProvided: string[] = [];
      const wanted: Wanted[] = [];
      for (const spec of req.install) {
        const by = providedByBase(base, spec);
        if (by !== undefined) {
          alreadyProvided.push(`${spec} (by ${by})`);
          report.info(`${spec} is already provided by base package ${by}`);
        } else wanted.push({ label: spec, job: { action: 'install', select: { by: 'spec', spec } } });
      }
      for (const p of locals) {
        const job: Job = { action: 'install', select: { by: 'package', repo: LOCAL_REPO, nevra: nevraOf(p) } };
        wanted.push({ label: `${p.nevra} (${p.path})`, job });
      }
      const steps = solveRequest({
        pool, base, wanted, remove: req.remove,
        allowBaseChanges: o.allowBaseChanges === true,
        flags: { ignoreWeakDeps: o.ignoreWeakDeps === true },
      });
      return { steps, alreadyProvided };
    });
    const b = base!;
    const { steps, alreadyProvided } = solved;

    // The new tree's package set: base minus what the transaction removes, plus what it installs.
    const removed = new Set<string>();
    for (const s of steps) {
      if (s.kind === 'erase' || s.kind === 'obsoleted') removed.add(s.pkg.nevra);
      for (const r of s.replaces ?? []) if (r.repo === '@System') removed.add(r.nevra);
    }
    const installs = steps.filter((s) => INSTALLING.has(s.kind));
    const kept = b.packages.filter((p) => !removed.has(nevraOf(p)) && !removed.has(p.nevra));
    const layered = installs.map((s) => s.pkg.nevra);
    const packages = [...kept.map((p) => p.nevra), ...layered];

    // A dry run only shows sizes: those come from a small sidecar, not a parse of primary.xml.
    const records = o.dryRun ? new Map<string, PackageRecord>() : await recordsOf(req, installs);
    const sizes: Map<string, PayloadSizes> = o.dryRun ? await sizesOf(req, installs) : records;
    const transaction = steps.map((s) => toStep(s, sizes));
    const digest = inputDigest({ req, base: b.commit, locals, steps });
    const result: ComposeResult = { transaction, alreadyProvided, inputDigest: digest, unchanged: false, packages, layered, timings };
    const unchanged = req.previous !== undefined && req.previous.inputDigest === digest;
    // The last moment to say no: nothing has been downloaded, imported or written yet.
    if (!o.dryRun && req.confirm && !(await req.confirm({ transaction, alreadyProvided, unchanged }))) {
      return { ...result, aborted: true };
    }
    if (unchanged) {
      report.info('nothing changed since the last composition');
      return { ...result, unchanged: true, commit: req.previous!.commit };
    }
    if (o.dryRun) return result;

    const paths = await timed(report, timings, 'download', () => fetchAll(req, installs, records, locals));
    if (o.downloadOnly) return result;

    const pkgs = new Map<string, { rpm: RpmPackage; commit: Checksum }>();
    await timed(report, timings, 'import', async () => {
      for (const s of installs) {
        const path = paths.get(s.pkg.nevra)!;
        const rpm = locals.find((p) => p.path === path) ?? (await openRpm(path));
        const imported = await importRpm(store, path, { report });
        pkgs.set(s.pkg.nevra, { rpm, commit: imported.commit });
      }
    });

    const root = join(scratch, 'root');
    await timed(report, timings, 'checkout', () => assemble(req, b, [...removed], installs, pkgs, root, scratch));

    await timed(report, timings, 'scriptlets', async () => {
      if (installs.length === 0) return;
      const txn: TransactionPackage[] = installs.map((s) => {
        const { rpm } = pkgs.get(s.pkg.nevra)!;
        const prefixes = rpm.header.strings(1098);
        return { name: rpm.name, nevra: rpm.nevra, scriptlets: rpm.scriptlets, files: rpm.files, ...(prefixes.length ? { prefixes } : {}) };
      });
      // bwrap creates the mount points it needs (/tmp, /run, ...) in the tree: not ours to ship.
      const before = new Set(await readdir(root));
      await withEtc(root, () =>
        withWritableView(root, scratch, (view) =>
          runTransactionScriptlets(view, txn, {
            report,
            installed: baseTriggers(kept),
            ...(o.scriptletTimeoutMs ? { timeoutMs: o.scriptletTimeoutMs } : {}),
          }), report,
        ),
      );
      for (const m of MOUNT_POINTS) if (!before.has(m)) await rmdir(join(root, m)).catch(() => {});
    });

    await timed(report, timings, 'rpmdb', async () => {
      const entries: RpmdbEntry[] = [
        ...kept.map((p) => installedEntry(p)),
        ...installs.map((s) => packageEntry(pkgs.get(s.pkg.nevra)!.rpm)),
      ];
      const written = writeRpmdb(root, entries, { installTid: Math.floor(Date.now() / 1000) });
      // A base keeping its database elsewhere (rpm-ostree's usr/share/rpm) keeps it there;
      // usr/lib/sysimage/rpm then points at it, so rpm's current default path finds it too.
      const sysimage = join(root, RPMDB_DIR);
      if (dirname(written.file) !== sysimage && !(await lstat(sysimage).catch(() => undefined))) {
        await mkdir(dirname(sysimage), { recursive: true, mode: 0o755 });
        await symlink(relative(dirname(sysimage), dirname(written.file)), sysimage);
      }
    });

    result.commit = await timed(report, timings, 'commit', () =>
      store.commitTree(root, {
        parent: (b.commit as Checksum | null) ?? null,
        subject: layered.length ? `layer: ${layered.join(', ')}` : 'layer: base',
        metadata: buildMetadata({ req, base: b.commit, packages, layered, digest }),
        ...(req.ref ? { ref: req.ref } : {}),
      }),
    );
    return result;
  } finally {
    base?.rpmdb?.close();
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * The base packages' %transfiletriggerin scriptlets (glibc's ldconfig, systemd's reloads...):
 * they fire for layered files under their prefixes; nothing else of the base runs.
 */
function baseTriggers(kept: readonly InstalledPackage[]): NonNullable<TransactionOptions['installed']> {
  const out: NonNullable<TransactionOptions['installed']>[number][] = [];
  for (const p of kept) {
    if (!p.header.has(TAG.TRANSFILETRIGGERSCRIPTS)) continue;
    const scriptlets = readScriptlets(p.header, `base package ${p.nevra}`).filter((s) => slotOf(s) === 'transfiletriggerin');
    if (scriptlets.length) out.push({ name: p.name, nevra: p.nevra, scriptlets });
  }
  return out;
}

/** Primary records (location, checksum, sizes) of the packages to install, by NEVRA. */
async function recordsOf(req: ComposeRequest, installs: readonly TransactionStep[]): Promise<Map<string, PackageRecord>> {
  const out = new Map<string, PackageRecord>();
  const repoIds = new Set(installs.map((s) => s.pkg.repo).filter((r) => r !== LOCAL_REPO));
  for (const repo of req.repos.active) {
    if (!repoIds.has(repo.id)) continue;
    for (const r of await repo.records()) {
      const key = `${repo.id}\0${nevraOf(r)}`;
      if (!out.has(key)) out.set(key, r);
    }
  }
  return out;
}

async function sizesOf(req: ComposeRequest, installs: readonly TransactionStep[]): Promise<Map<string, PayloadSizes>> {
  const out = new Map<string, PayloadSizes>();
  const repoIds = new Set(installs.map((s) => s.pkg.repo).filter((r) => r !== LOCAL_REPO));
  for (const repo of req.repos.active) {
    if (!repoIds.has(repo.id)) continue;
    for (const [nevra, sizes] of await repo.payloadSizes()) {
      const key = `${repo.id}\0${nevra}`;
      if (!out.has(key)) out.set(key, sizes);
    }
  }
  return out;
}

function toStep(s: TransactionStep, records: Map<string, PayloadSizes>): ComposeStep {
  const rec = records.get(`${s.pkg.repo}\0${s.pkg.nevra}`);
  const step: ComposeStep = { kind: s.kind, nevra: s.pkg.nevra, name: s.pkg.name, repo: s.pkg.repo, reason: s.reason };
  if (s.replaces?.length) step.replaces = s.replaces.map((r) => r.nevra);
  if (rec?.downloadSize !== undefined) step.downloadSize = rec.downloadSize;
  if (rec?.installSize !== undefined) step.installSize = rec.installSize;
  return step;
}

async function fetchAll(req: ComposeRequest, installs: readonly TransactionStep[], records: Map<string, PackageRecord>, locals: readonly RpmPackage[]): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  const remote: { nevra: string; item: PackageDownload }[] = [];
  for (const s of installs) {
    if (s.pkg.repo === LOCAL_REPO) {
      const local = locals.find((p) => nevraOf(p) === s.pkg.nevra);
      if (!local) throw new LayerError('LAYER_INTERNAL', `solver chose local package ${s.pkg.nevra} that was not given`);
      paths.set(s.pkg.nevra, local.path);
      continue;
    }
    const repo = req.repos.active.find((r) => r.id === s.pkg.repo);
    const record = records.get(`${s.pkg.repo}\0${s.pkg.nevra}`);
    if (!repo || !record) throw new LayerError('LAYER_INTERNAL', `no metadata record for ${s.pkg.nevra} in repo ${s.pkg.repo}`);
    remote.push({ nevra: s.pkg.nevra, item: { repo, record: { ...record, nevra: s.pkg.nevra } } });
  }
  const got = await downloadPackages(remote.map((r) => r.item), {
    cacheDir: join(req.cacheDir, 'packages'),
    report: req.report,
    ...(req.options.cacheOnly ? { cacheOnly: true } : {}),
  });
  remote.forEach((r, i) => paths.set(r.nevra, got[i]!.path));
  return paths;
}

/** Files (tree paths) a base package owns, from its header (dirnames + basenames). */
function ownedPaths(header: { strings(tag: number): string[]; numbers(tag: number): number[] }): string[] {
  const names = header.strings(1117);
  const dirs = header.strings(1118);
  const idx = header.numbers(1116);
  return names.map((n, i) => `${dirs[idx[i] ?? 0] ?? '/'}${n}`);
}

function treePathOf(rpmFile: string): string {
  const p = rpmFile.replace(/^\/+/, '');
  if (p === 'etc' || p.startsWith('etc/')) return `usr/${p}`;
  if (p === 'boot' || p.startsWith('boot/')) return `usr/lib/ostree-boot${p.slice(4)}`;
  return p;
}

/** Check out base + packages into `root`; conflicts name both owners. */
async function assemble(
  req: ComposeRequest,
  base: BaseSet,
  removed: readonly string[],
  installs: readonly TransactionStep[],
  pkgs: Map<string, { commit: Checksum }>,
  root: string,
  scratch: string,
): Promise<void> {
  const { store } = req;
  let baseCommit = base.commit as Checksum | null;
  if (baseCommit && removed.length > 0) {
    // Drop the removed packages' files (not directories: other packages may own them), then
    // commit that intermediate tree so the union below sees a base without them.
    const pruned = join(scratch, 'pruned');
    await store.checkout(baseCommit, pruned);
    const keep = new Set(base.packages.filter((p) => !removed.includes(p.nevra)).flatMap((p) => ownedPaths(p.header)));
    for (const p of base.packages.filter((x) => removed.includes(x.nevra))) {
      for (const f of ownedPaths(p.header)) {
        if (keep.has(f)) continue;
        const at = join(pruned, treePathOf(f));
        const st = await stat(at).catch(() => undefined);
        if (st && !st.isDirectory()) await rm(at, { force: true });
      }
    }
    baseCommit = await store.commitTree(pruned, { parent: null, subject: 'layer: base minus removed packages' });
    await rm(pruned, { recursive: true, force: true });
  }
  const layers = [
    ...(baseCommit ? [{ commit: baseCommit, owner: '@base' }] : []),
    ...installs.map((s) => ({ commit: pkgs.get(s.pkg.nevra)!.commit, owner: s.pkg.nevra })),
  ];
  try {
    if (layers.length === 0) await mkdir(root, { mode: 0o755 });
    else await store.checkoutUnion(layers, root, req.options.replaceFiles ? { replaceFiles: true } : {});
  } catch (err) {
    if (!(err instanceof FileConflictError)) throw err;
    const { path, owners } = err.conflict;
    const name = (o: string) => {
      if (o !== '@base') return `package ${o}`;
      const owner = base.rpmdb?.ownersOf(rpmPath(path))[0];
      return owner ? `base package ${owner.nevra}` : 'the base image';
    };
    throw new LayerError('LAYER_FILE_CONFLICT', `file conflict at ${rpmPath(path)}: ${name(owners[0])} and ${name(owners[1])} both ship it with different content`, {
      hint: 'remove one of the packages, or allow replacing files (--replace-files)',
      cause: err,
    });
  }
}

/**
 * Scriptlets expect /etc; the tree keeps it at usr/etc (ostree's layout). Move it for the
 * duration of `fn` and back afterwards, whatever happens.
 */
async function withEtc<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const usrEtc = join(root, 'usr/etc');
  const etc = join(root, 'etc');
  const move = (await stat(usrEtc).catch(() => undefined))?.isDirectory() && !(await stat(etc).catch(() => undefined));
  if (!move) return fn();
  await rename(usrEtc, etc);
  try {
    return await fn();
  } finally {
    await rename(etc, usrEtc);
  }
}
