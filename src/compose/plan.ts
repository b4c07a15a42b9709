/**
 * plan(request) → Plan: every decision of a composition, made before anything is downloaded or
 * written. Reads the base's rpmdb (from the store), refreshes and loads the repos, solves with
 * the base locked, and answers plain records: steps with versions, sizes, actions and reasons;
 * requests the base already provides; the new tree's package set; the input digest.
 *
 * A plan owns a scratch directory only while it runs (scratch.ts); it holds no lock and touches
 * nothing another process uses, so dry runs may run beside a transaction.
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { LayerError, withContext } from '../errors.js';
import { compareEvr, formatNevra, nameOf, parseNevra, type Nevra, type NevraParts } from '../nevra.js';
import { repoPackageKey, type PayloadSizes } from '../repos/index.js';
import { canonicalRequest, localsToInstall, specsToInstall, type Request } from '../request/index.js';
import { openRpm, type RpmPackage } from '../rpm/index.js';
import { loadSolver, Pool, type Job, type PackageRef, type TransactionStep } from '../solver/index.js';
import type { Checksum } from '../store/index.js';
import { withBase, type BaseSet } from './base.js';
import { cleanStaleScratch } from './scratch.js';
import { versionGlobJobs } from './glob-spec.js';
import { checkInstallonlyLimit, DEFAULT_INSTALLONLY_LIMIT, INSTALLONLY_PKGS } from './installonly.js';
import { repoReplacementJobs } from './repo-replace.js';
import { solveSkippingBroken } from './skip-broken.js';
import { type Wanted } from './solve.js';
import type { ComposeOptions, Plan, PlanContext, PlanLocal, PlanRepo, PlanStep, ProvidedRequest, StepAction } from './types.js';

export const LOCAL_REPO = '@commandline';

/** Bumped when what a compose produces for the same inputs changes. */
export const COMPOSE_VERSION = 2;

const ACTION: Record<TransactionStep['kind'], StepAction> = {
  install: 'install', erase: 'remove', upgrade: 'upgrade', downgrade: 'downgrade', reinstall: 'reinstall', obsoleted: 'obsolete',
};

/** Actions that put a package into the tree. */
export const INSTALLING: ReadonlySet<StepAction> = new Set(['install', 'upgrade', 'downgrade', 'reinstall']);

/** Plan the composition of `request`. Errors: LAYER_NO_MATCH, LAYER_UNSOLVABLE, LAYER_BASE_LOCKED, repo errors. */
export async function plan(request: Request, ctx: PlanContext): Promise<Plan> {
  if (request.baseCommit === '' && request.removed.length > 0) {
    throw new LayerError('LAYER_USAGE', 'cannot remove packages without a base commit');
  }
  cleanStaleScratch(ctx.cacheDir);
  const commit = request.baseCommit === '' ? null : request.baseCommit;
  if (ctx.base !== undefined && ctx.base.commit === commit) {
    const given = ctx.base;
    return ctx.report.section('solve', async () => {
      await loadSolver();
      return solveAndDescribe(request, ctx, given);
    });
  }
  return ctx.report.section('solve', async () => {
    await loadSolver();
    return withBase(ctx.store, commit, ctx.cacheDir, (base) => solveAndDescribe(request, ctx, base));
  });
}

/** Large pools are kept as heap snapshots beside the repo caches (src/solver/snapshot.ts). */
function snapshotDir(cacheDir: string): string {
  return join(cacheDir, 'solver');
}

async function solveAndDescribe(asked: Request, ctx: PlanContext, base: BaseSet): Promise<Plan> {
  let request = asked;
  const snapshots = { dir: snapshotDir(ctx.cacheDir) };
  using pool = new Pool({ arch: ctx.arch, snapshots });
  pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: base.records }));
  const specs = specsToInstall(request);
  await ctx.repos.refresh(ctx.options.cacheOnly ? { cacheOnly: true } : {});
  await ctx.repos.load(pool, { specs });
  const locals = await openLocals(request, ctx);
  if (locals.length) pool.addRepo(LOCAL_REPO, { kind: 'records', records: locals.map((l) => l.rpm.toRecord()) }, { priority: 1000 });

  const alreadyProvided: ProvidedRequest[] = [];
  const wanted: Wanted[] = [];
  const listed = new Map<string, PackageRef[]>();
  for (const spec of specs) {
    const by = providedByBase(base, spec);
    if (by !== undefined) {
      alreadyProvided.push({ spec, by });
      ctx.report.info('request.already-provided', `${spec} is already provided by base package ${by}`, { spec, by });
    } else {
      // A name request may be met by the package obsoleting it (dnf's install), except in an
      // upgrade restricted to advisories (`keep`): there, as in dnf, an obsoleter no chosen
      // advisory lists does not replace what the tree has.
      const obsoleters = ctx.keep === undefined;
      const globbed = versionGlobJobs(pool, spec, listed);
      if (globbed) wanted.push(...globbed.map((g) => ({ label: spec, job: g.job, older: g.older })));
      else wanted.push({ label: spec, job: { action: 'install', select: { by: 'spec', spec, obsoleters } } });
    }
  }
  for (const { rpm, path } of locals) {
    const job: Job = { action: 'install', select: { by: 'package', repo: LOCAL_REPO, nevra: rpm.nevra } };
    wanted.push({ label: `${rpm.nevra} (${path})`, job });
  }
  const fromRepo = repoReplacementJobs(pool, base, request.replacedFromRepo ?? [], ctx.report);
  wanted.push(...fromRepo.wanted);
  const { steps: solved, skipped } = solveSkippingBroken({
    pool, base, wanted, remove: request.removed, replace: [...(request.replacedLocal ?? []).map((l) => nameOf(l.nevra)), ...fromRepo.names],
    exclude: excludedBy(pool, ctx.keep),
    allowBaseChanges: ctx.options.allowBaseChanges === true,
    flags: { ignoreWeakDeps: ctx.options.ignoreWeakDeps === true, ...(ctx.options.best ? { best: true } : {}) },
    installonly: [...INSTALLONLY_PKGS, ...(ctx.options.installonlyPkgs ?? [])],
    ...(ctx.options.excludeFromWeak?.length ? { excludeFromWeak: ctx.options.excludeFromWeak } : {}),
  }, ctx.options.skipBroken === true, ctx.report);
  if (pool.fromSnapshot) ctx.report.info('solve.pool-snapshot', `solver pool put back from a snapshot in ${snapshots.dir}`, { dir: snapshots.dir });
  // A skipped spec is left out of the request that gets recorded.
  if (skipped.length) request = { ...request, requested: request.requested.filter((r) => !skipped.some((s) => s.spec === r)) };
  for (const a of alreadyProvided) {
    if (!ctx.newerFor?.includes(a.spec)) continue;
    const newer = newerInRepos(pool, a.by);
    if (newer) a.newer = newer;
  }
  const sizes = await sizesOf(ctx, solved);
  const steps = solved.map((s) => toStep(s, sizes));
  // Skipped specs stand for nothing: no step is installed instead of them.
  const named = wanted.filter((w) => w.job.select?.by === 'spec' && !skipped.some((s) => s.spec === w.label));
  markStandIns(pool, named.map((w) => w.label), steps);
  const planned = describe(request, ctx, base, steps, alreadyProvided, locals.map((l) => l.local));
  checkInstallonlyLimit(planned.packages, new Set(planned.base.packages), ctx.options.installonlyLimit ?? DEFAULT_INSTALLONLY_LIMIT);
  return planned;
}

/**
 * dnf's install by name takes a package that obsoletes the named one (the solver chose it):
 * the step of such a stand-in names the request it stands in for. A spec is a stand-in's
 * when it names packages in the repos (probed with a lock job, which installs nothing) but no
 * installed step has its name; the stand-in is a requested install whose name no spec has.
 */
function markStandIns(pool: Pool, specs: readonly string[], steps: PlanStep[]): void {
  const names = new Set(steps.map((s) => s.name));
  const replaced = specs.filter((spec) => !names.has(spec) && !/[*?[]/.test(spec) && !spec.startsWith('/')
    && pool.solve([{ action: 'lock', select: { by: 'name', name: spec } }]).ok);
  if (replaced.length === 0) return;
  const standIns = steps.filter((s) => s.action === 'install' && s.reason === 'requested' && !specs.includes(s.name) && s.repo !== LOCAL_REPO);
  replaced.forEach((spec, i) => {
    const s = standIns[Math.min(i, standIns.length - 1)];
    if (s) s.insteadOf = [...(s.insteadOf ?? []), spec];
  });
}

/** `exclude` jobs for the repo packages `keep` rejects (none without a filter). */
function excludedBy(pool: Pool, keep: PlanContext['keep']): Job[] {
  if (!keep) return [];
  return pool.repos.filter((r) => r.name !== '@System' && r.name !== LOCAL_REPO).flatMap((r) => r.packages()
    .filter((p) => !keep(p)).map((p): Job => ({ action: 'exclude', select: { by: 'package', repo: r.name, nevra: p.nevra } })));
}

/** The plan record from the solved steps: the new package set, the digest, unchanged or not. */
function describe(
  request: Request, ctx: PlanContext, base: BaseSet, steps: PlanStep[], alreadyProvided: ProvidedRequest[], locals: PlanLocal[],
): Plan {
  const removed = new Set<string>();
  for (const s of steps) {
    if (s.action === 'remove' || s.action === 'obsolete') removed.add(s.nevra);
    for (const r of s.replaces ?? []) removed.add(r);
  }
  const basePackages = base.packages.map((p) => p.nevra);
  const kept = basePackages.filter((n) => !removed.has(n));
  const layered = steps.filter((s) => INSTALLING.has(s.action)).map((s) => s.nevra);
  const inputDigest = inputDigestOf(request, ctx.arch, ctx.options, steps);
  // Origins written before the solution was sorted hold the digest of the solver's order.
  const was = ctx.previous?.inputDigest;
  const unchanged = was !== undefined && (was === inputDigest || was === inputDigestOf(request, ctx.arch, ctx.options, steps, 'solver'));
  return {
    request, arch: ctx.arch, options: planOptions(ctx.options),
    base: { commit: (base.commit as Checksum | null) ?? null, packages: basePackages },
    steps, alreadyProvided,
    packages: [...kept, ...layered],
    layered,
    removed: basePackages.filter((n) => removed.has(n)),
    locals, repos: reposOf(ctx),
    inputDigest, unchanged,
    ...(unchanged && ctx.previous ? { previousCommit: ctx.previous.commit } : {}),
    changes: ctx.current ? changesAgainst(ctx.current, request, steps) : steps,
  };
}

/**
 * The plan's steps as a change of the current deployment: layered packages already there in
 * the same version are left out; one there in another version is an upgrade or downgrade; one
 * no longer in the tree is removed — `requested` when the user dropped it from the request,
 * `cleanup` (an unused dependency) otherwise. Base-package steps are kept as they are.
 */
function changesAgainst(current: NonNullable<PlanContext['current']>, request: Request, steps: readonly PlanStep[]): PlanStep[] {
  // Installonly names (kernel) may have several versions: a version already there stays, and
  // only a name with one version before and after is an upgrade or downgrade.
  const was = new Map<string, (NevraParts & { nevra: Nevra })[]>();
  for (const n of current.layered) {
    const p = parseNevra(n);
    if (p) was.set(p.name, [...(was.get(p.name) ?? []), { ...p, nevra: n as Nevra }]);
  }
  const installing = steps.filter((s) => INSTALLING.has(s.action));
  const after = new Set(installing.map((s) => s.nevra));
  const kept = new Set<string>(current.layered.filter((n) => after.has(n as Nevra)));
  const out: PlanStep[] = [];
  for (const s of steps) {
    if (!INSTALLING.has(s.action)) {
      out.push(s);
      continue;
    }
    if (kept.has(s.nevra)) continue;
    const olds = (was.get(s.name) ?? []).filter((o) => !after.has(o.nevra));
    const single = olds.length === 1 && installing.filter((i) => i.name === s.name).length === 1;
    const old = single ? olds[0] : undefined;
    if (!old) {
      out.push(s);
      continue;
    }
    kept.add(old.nevra);
    out.push({ ...s, action: compareEvr(s, old) > 0 ? 'upgrade' : 'downgrade', replaces: [old.nevra] });
  }
  const dropped = new Set([...current.request.requested, ...current.request.requestedLocal.map((l) => nameOf(l.nevra))]
    .filter((spec) => !request.requested.includes(spec) && !request.requestedLocal.some((l) => nameOf(l.nevra) === spec)));
  for (const [name, olds] of was) {
    for (const old of olds) {
      if (kept.has(old.nevra)) continue;
      out.push({ ...old, action: 'remove', reason: dropped.has(name) ? 'requested' : 'cleanup', repo: '@System' });
    }
  }
  return out;
}

/** Options that change the composed tree (cacheOnly does not). */
function planOptions(o: ComposeOptions): ComposeOptions {
  return {
    ...(o.replaceFiles ? { replaceFiles: true } : {}),
    ...(o.ignoreWeakDeps ? { ignoreWeakDeps: true } : {}),
    ...(o.best ? { best: true } : {}),
    ...(o.excludeFromWeak?.length ? { excludeFromWeak: o.excludeFromWeak } : {}),
    ...(o.installonlyPkgs?.length ? { installonlyPkgs: o.installonlyPkgs } : {}),
    // The default limit is left out: digests of existing deployments stay what they were.
    ...(o.installonlyLimit !== undefined && o.installonlyLimit !== DEFAULT_INSTALLONLY_LIMIT
      ? { installonlyLimit: o.installonlyLimit } : {}),
    ...(o.allowBaseChanges ? { allowBaseChanges: true } : {}),
    ...(o.scriptletTimeoutMs ? { scriptletTimeoutMs: o.scriptletTimeoutMs } : {}),
  };
}

/**
 * The input digest: base commit + resolved package set + request (+ arch and the options that
 * change the tree). Repo metadata is not in it: fresh metadata that resolves to the same
 * packages is no change, and the same request resolving to newer packages is one.
 */
export function inputDigestOf(
  request: Request, arch: string, options: ComposeOptions, steps: readonly PlanStep[], order: 'sorted' | 'solver' = 'sorted',
): string {
  // Sorted: the solver lists the same steps in another order when the pool differs (another
  // repo set, `upgrade --security`'s exclusions), and the result is the set, not the order.
  const solution = steps.map((s) => [s.action, s.nevra, s.repo === LOCAL_REPO ? LOCAL_REPO : 'repo']);
  if (order === 'sorted') solution.sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : a.join(' ') > b.join(' ') ? 1 : 0));
  const input = {
    v: COMPOSE_VERSION,
    arch,
    request: canonicalRequest(request),
    options: planOptions({ ...options, scriptletTimeoutMs: 0 }),
    solution,
  };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

function reposOf(ctx: PlanContext): PlanRepo[] {
  return ctx.repos.active.map((r) => ({
    id: r.id,
    digest: r.digest ?? '',
    revision: r.revision ?? '',
    timestamp: r.record('primary')?.timestamp ?? 0,
  }));
}

async function openLocals(request: Request, ctx: PlanContext): Promise<{ rpm: RpmPackage; path: string; local: PlanLocal }[]> {
  const out: { rpm: RpmPackage; path: string; local: PlanLocal }[] = [];
  for (const l of localsToInstall(request)) {
    const path = ctx.localPaths?.get(l.sha256);
    if (path === undefined) {
      throw new LayerError('LAYER_SYSROOT', `local package ${l.nevra} (sha256 ${l.sha256}) is requested but its file is gone`, {
        hint: `install it again from its .rpm file, or uninstall ${l.nevra}`,
      });
    }
    try {
      const rpm = await openRpm(path);
      out.push({ rpm, path, local: { nevra: rpm.nevra, path, sha256: l.sha256 } });
    } catch (err) {
      throw withContext(`local package ${path}`, err);
    }
  }
  return out;
}

/** The version an update of base package `nevra` would take from the repos, if newer. */
function newerInRepos(pool: Pool, nevra: Nevra): Nevra | undefined {
  const name = nameOf(nevra);
  const r = pool.solve([{ action: 'update', select: { by: 'name', name } }], { allowVendorChange: true });
  if (!r.ok) return undefined;
  return r.transaction.steps.find((s) => s.kind === 'upgrade' && s.pkg.name === name)?.pkg.nevra;
}

/** Specs the base already satisfies: by name, NEVRA, provide, or file. */
function providedByBase(base: BaseSet, spec: string): Nevra | undefined {
  const direct = base.packages.find((p) => p.name === spec || p.nevra === spec);
  if (direct) return direct.nevra;
  if (!base.rpmdb) return undefined;
  const hit = spec.startsWith('/') ? base.rpmdb.ownersOf(spec)[0] : base.rpmdb.whatProvides(spec)[0];
  return hit?.nevra;
}

/**
 * Download and installed sizes of the packages the plan installs, from each repo's small
 * sizes sidecar (never a parse of primary.xml: a table of a few rows must not read 60,000
 * records).
 */
function sizesOf(ctx: PlanContext, steps: readonly TransactionStep[]): Promise<Map<string, PayloadSizes>> {
  return ctx.repos.payloadSizesOf(steps.map((s) => s.pkg));
}

function toStep(s: TransactionStep, sizes: Map<string, PayloadSizes>): PlanStep {
  const p = s.pkg;
  const rec = sizes.get(repoPackageKey(p.repo, p.nevra));
  const step: PlanStep = {
    action: ACTION[s.kind], reason: s.reason,
    name: p.name, epoch: p.epoch, version: p.version, release: p.release, arch: p.arch,
    nevra: formatNevra(p.name && p.version ? p : (parseNevra(p.nevra) ?? p)), repo: p.repo,
  };
  if (s.replaces?.length) step.replaces = s.replaces.map((r) => r.nevra);
  if (s.obsoletedBy) step.obsoletedBy = s.obsoletedBy.nevra;
  if (rec?.downloadSize !== undefined) step.downloadSize = rec.downloadSize;
  if (rec?.installSize !== undefined) step.installSize = rec.installSize;
  return step;
}
