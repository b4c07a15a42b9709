/**
 * The single driver every changing command uses: request → (lock) → origin → repos → compose
 * (solve, confirm, fetch, import, assemble, commit) → deploy → package diff.
 *
 * The origin records the request; every change is recomposed from the base commit with the
 * whole request, as rpm-ostree does, so uninstall is "compose again without it".
 * Locking: the sysroot lock is held from before reading the current deployment until the new
 * one is the default (dry runs and --download-only take no lock: they change no deployment).
 * Crash safety: see sysroot.ts; nothing here writes outside the store, the state dir and the
 * new deployment before the boot swap.
 */
import { LayerError } from '../errors.js';
import { openRpmdb } from '../rpmdb/index.js';
import { loadSolver } from '../solver/index.js';
import type { Checksum } from '../store/index.js';
import { Sysroot, sameRequest, type Deployment, type Origin } from '../sysroot/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeTree, providedSpec, type ComposePlan, type ComposeResult } from './compose-contract.js';
import { diffPackages, listPackages } from './db.js';
import { inspectLocalRpm, keepLocalRpm, keptLocalRpm, type LocalRpm } from './local-rpms.js';
import { cleanComposeLeftovers } from './leftovers.js';
import { hostArch, openRepos } from './repos.js';
import { pullFromOstree } from './from-ostree.js';
import type { EngineRequest, EngineResult } from './types.js';

/** Run one change (init, install, uninstall) on a sysroot. */
export async function runTransaction(req: EngineRequest): Promise<EngineResult> {
  const timings: Record<string, number> = {};
  const report = req.report;
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await report.section(name, fn);
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  const mutates = !req.options.dryRun && !req.options.downloadOnly;
  // Start compiling the solver's wasm now: V8 compiles it on background threads while this
  // thread reads the sysroot, rpmdb and repo configs (~10 ms off a warm dry run). A failure
  // is reported by compose's own loadSolver() call, which retries.
  if (req.change.kind !== 'init' || !req.change.fromOstree) loadSolver().catch(() => {});
  const sysroot = req.change.kind === 'init' ? Sysroot.init(req.sysroot) : Sysroot.open(req.sysroot);
  if (mutates || req.change.kind === 'init') sysroot.lock(req.command);
  try {
    if (mutates) cleanComposeLeftovers(join(sysroot.stateDir, 'cache'));
    const current = sysroot.deployments()[0];
    if (req.change.kind !== 'init' && !current) {
      throw new LayerError('LAYER_SYSROOT', `${req.sysroot} has no deployments`, { hint: 'run layer init first' });
    }
    const merge = sysroot.deployments().find((d) => d.booted) ?? current;
    const { origin, newLocal } = await nextOrigin(sysroot, req, current?.origin);
    if (current && sameRequest(origin, current.origin)) {
      return { outcome: 'unchanged', steps: [], alreadyProvided: [], previous: current, timings };
    }
    if (req.change.kind === 'init' && req.change.fromOstree && origin.requested.length === 0) {
      // A plain ostree commit as the base: nothing to compose.
      const osname = req.change.osname;
      const d = await timed('deploy', () => sysroot.deploy(osname, origin.baseCommit, origin));
      return { outcome: 'deployed', steps: [], alreadyProvided: [], commit: origin.baseCommit, deployment: d.deployment, etc: d.etc, timings };
    }
    if (current && req.change.kind === 'install' && !req.options.allowInactive) checkNotInBase(current, origin, req.change.packages);
    const arch = req.arch ?? hostArch();
    const cacheDir = join(sysroot.stateDir, 'cache');
    const repos = await openRepos({ ...(req.reposdir ? { reposdir: req.reposdir } : {}), ...(merge ? { tree: merge.path } : {}), arch, cacheDir, report });
    const added = req.change.kind === 'install' ? req.change.packages : [];
    const inactiveOf = (provided: readonly string[]) => provided.filter((p) => added.includes(providedSpec(p)));
    const refuseInactive = (provided: readonly string[]) => {
      const inactive = inactiveOf(provided);
      if (inactive.length > 0 && !req.options.allowInactive) {
        throw new LayerError('LAYER_ALREADY_PROVIDED', `${inactive.join(', ')}: already provided by the base`, {
          hint: 'use --allow-inactive to request it anyway',
        });
      }
    };
    // Refusals come before the question: nobody is asked to confirm what would fail anyway.
    const userConfirm = req.confirm;
    const confirm = userConfirm
      ? async (plan: ComposePlan) => {
          refuseInactive(plan.alreadyProvided);
          return userConfirm(plan);
        }
      : undefined;
    let result: ComposeResult;
    try {
      const localRpms = [
        ...origin.requestedLocal.filter((l) => !newLocal.some((n) => n.sha256 === l.sha256)).map((l) => keptLocalRpm(sysroot.stateDir, l.sha256, l.nevra)),
        ...newLocal.map((l) => l.path),
      ];
      const base = origin.baseCommit ? { commit: origin.baseCommit } : null;
      result = await timed('compose', () => composeTree({
        store: sysroot.store, base, install: origin.requested, localRpms, remove: origin.removed, repos, arch, cacheDir, report,
        options: {
          dryRun: req.options.dryRun, downloadOnly: req.options.downloadOnly, cacheOnly: req.options.cacheOnly,
          replaceFiles: req.options.replaceFiles, ignoreWeakDeps: req.options.ignoreWeakDeps,
        },
        ...(current?.origin.inputDigest ? { previous: { commit: current.checksum, inputDigest: current.origin.inputDigest } } : {}),
        ...(confirm ? { confirm } : {}),
      }));
    } finally {
      await repos.close();
    }
    refuseInactive(result.alreadyProvided);
    const base = { steps: result.transaction, alreadyProvided: result.alreadyProvided, timings };
    if (result.aborted) return { ...base, outcome: 'aborted', ...(current ? { previous: current } : {}) };
    if (req.options.dryRun) return { ...base, outcome: 'dry-run', ...(current ? { previous: current } : {}) };
    if (req.options.downloadOnly) return { ...base, outcome: 'downloaded', ...(current ? { previous: current } : {}) };
    const commit = result.commit ?? current?.checksum;
    if (!commit) throw new LayerError('LAYER_INTERNAL', 'assertion failed: compose returned no commit');
    for (const l of newLocal) keepLocalRpm(sysroot.stateDir, l);
    const finalOrigin: Origin = { ...origin, inputDigest: result.inputDigest, layered: result.layered };
    if (req.change.kind === 'init' && !req.change.fromOstree) {
      Object.assign(finalOrigin, { baseCommit: commit, requested: [], layered: [] });
      sysroot.store.setRef(`${req.change.osname}/base`, commit);
    }
    if (result.alreadyProvided.length > 0) finalOrigin.inactive = result.alreadyProvided.map(providedSpec);
    const osname = req.change.kind === 'init' ? req.change.osname : current!.osname;
    const etcFiles = req.change.kind === 'init' && req.reposdir ? repoFiles(req.reposdir) : {};
    const before = current ? listPackages(current.path) : undefined;
    const deployed = await timed('deploy', () => sysroot.deploy(osname, commit, finalOrigin, { etcFiles }));
    const diff = before ? diffPackages(before, listPackages(deployed.deployment.path)) : undefined;
    return {
      ...base, outcome: 'deployed', commit, deployment: deployed.deployment, etc: deployed.etc, removedDeployments: deployed.removed,
      ...(current ? { previous: current } : {}), ...(diff ? { diff } : {}),
    };
  } finally {
    sysroot.release();
  }
}

/** The new origin: the current request with this change applied (init: an empty request on a new base). */
async function nextOrigin(sysroot: Sysroot, req: EngineRequest, cur: Origin | undefined): Promise<{ origin: Origin; newLocal: LocalRpm[] }> {
  const change = req.change;
  if (change.kind === 'init') {
    if (!change.fromOstree) {
      // The packages ARE the base: composed from scratch; after init nothing is layered.
      return { origin: { baseRef: `${change.osname}/base`, baseCommit: '' as Checksum, requested: [...change.packages], requestedLocal: [], removed: [] }, newLocal: [] };
    }
    const baseCommit = pullFromOstree(sysroot.store, change.fromOstree);
    sysroot.store.setRef(`${change.osname}/base`, baseCommit);
    return { origin: { baseRef: change.fromOstree, baseCommit, requested: [...change.packages], requestedLocal: [], removed: [] }, newLocal: [] };
  }
  if (!cur) throw new LayerError('LAYER_INTERNAL', 'assertion failed: no current origin');
  const o: Origin = { ...cur, requested: [...cur.requested], requestedLocal: [...cur.requestedLocal], removed: [...cur.removed] };
  const newLocal: LocalRpm[] = [];
  if (change.kind === 'install') {
    for (const p of change.packages) {
      if (o.requested.includes(p)) {
        if (!req.options.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `package '${p}' is already requested`, { hint: 'use --idempotent to ignore' });
        continue;
      }
      o.requested.push(p);
    }
    for (const file of change.localRpms) {
      const l = await inspectLocalRpm(file);
      if (o.requestedLocal.some((r) => r.sha256 === l.sha256)) {
        if (!req.options.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `local package ${l.nevra} (${file}) is already requested`, { hint: 'use --idempotent to ignore' });
        continue;
      }
      o.requestedLocal.push({ sha256: l.sha256, nevra: l.nevra });
      newLocal.push(l);
    }
  } else {
    for (const p of change.packages) {
      const i = o.requested.indexOf(p);
      const j = o.requestedLocal.findIndex((l) => l.nevra === p || l.nevra.startsWith(`${p}-`) && nameOfNevra(l.nevra) === p);
      if (i >= 0) o.requested.splice(i, 1);
      else if (j >= 0) o.requestedLocal.splice(j, 1);
      else if (!req.options.idempotent) {
        throw new LayerError('LAYER_NOT_REQUESTED', `package '${p}' is not currently requested`, {
          hint: cur.requested.length + cur.requestedLocal.length > 0 ? `requested: ${[...cur.requested, ...cur.requestedLocal.map((l) => l.nevra)].join(', ')}` : 'nothing is layered',
        });
      }
    }
  }
  return { origin: o, newLocal };
}

/**
 * rpm-ostree refuses to layer what the base already provides unless --allow-inactive: checked
 * on the current deployment's rpmdb (layered packages excluded) before anything is composed.
 */
function checkNotInBase(current: Deployment, origin: Origin, specs: string[]): void {
  const fresh = specs.filter((s) => !current.origin.requested.includes(s) && origin.requested.includes(s));
  if (fresh.length === 0) return;
  const layered = new Set(current.origin.layered ?? []);
  const db = openRpmdb(current.path);
  try {
    const hits: string[] = [];
    for (const spec of fresh) {
      const providers = [
        ...db.packages().filter((p) => p.name === spec || p.nevra === spec),
        ...db.whatProvides(spec),
        ...(spec.startsWith('/') ? db.ownersOf(spec) : []),
      ].filter((p) => !layered.has(p.nevra));
      if (providers[0]) hits.push(`${spec} (by ${providers[0].nevra})`);
    }
    if (hits.length > 0) {
      throw new LayerError('LAYER_ALREADY_PROVIDED', `${hits.join(', ')}: already provided by the base`, { hint: 'use --allow-inactive to request it anyway' });
    }
  } finally {
    db.close();
  }
}

/** The `*.repo` files `layer init --reposdir` was given: they become the deployment's /etc/yum.repos.d. */
function repoFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.repo'))) out[`yum.repos.d/${n}`] = readFileSync(join(dir, n), 'utf8');
  return out;
}

/** `name` of `name-[e:]v-r.arch`. */
function nameOfNevra(nevra: string): string {
  return nevra.replace(/-[^-]+-[^-]+$/, '');
}

