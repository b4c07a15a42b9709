/**
 * `layer upgrade`: a newer base, the layered requests re-solved on it against fresh metadata,
 * and a new deployment only when the result changed.
 *
 * - An OSTree-ref base: the ref's newest commit (BaseSource.fetch, verbs.ts) becomes the base
 *   of the request, and the one transaction pipeline (engine.ts) plans, applies and deploys it;
 *   `--check` is that pipeline's dry run (the base commit is pulled into the store, so the
 *   layered packages can be planned on its rpmdb; no package is downloaded). `--security` /
 *   `--advisory` restrict the layered packages only: the image is taken whole.
 * - A recipe base: its commit does not exist until it is composed, and the layered packages
 *   cannot be planned on a commit that does not exist. So the preview (and every upgrade) is
 *   planned as ONE solve of the recipe and the layered requests together from nothing (the
 *   `combined` plan, metadata only). The real upgrade then composes the base from the recipe,
 *   plans the layered requests on that commit, and refuses to deploy unless the result's
 *   package set equals the combined plan's: what `--check` printed is what is deployed.
 *
 * A snapshot (`layer deploy --lockfile`, recipe-deploy.ts) is this recipe pipeline under the
 * lockfile: each repo shows the solver only the pinned packages (pinsOf), the combined plan is
 * checked against the lockfile, the lockfile's recipe and version are composed, and the origin
 * records the pin. `--lockfile-out` writes the combined plan's lockfile, with the version.
 *
 * "Nothing new" is decided after the solve: the new tree's package set (and request) equals
 * the current deployment's.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { apply, baseFromRows, plan as planCompose, scratchRemoved, type Plan } from '../compose/index.js';
import type { ApplyContext, PlanContext } from '../compose/types.js';
import { dnfComposeOptions, readMainConf } from './dnf-options.js';
import type { DnfMainConfig } from '../repos/index.js';
import { LayerError } from '../errors.js';
import { formatEvr, parseNevra, type Nevra } from '../nevra.js';
import { CollectingReport, type Report } from '../report.js';
import { addPackages, removePackages, setBase, type Recipe, type Request } from '../request/index.js';
import type { RepoSet } from '../repos/index.js';
import type { Checksum } from '../store/index.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';
import { loadSolver } from '../solver/index.js';
import { installedLike, securityAdvisories, type Advisory } from './advisories.js';
import { restricted, selects, type AdvisorySelection } from './advisory-filter.js';
import { clearCachedUpdate, writeCachedUpdate, type CachedUpdate, type Restriction } from './cached-update.js';
import { diffPackages, listCommitPackages, type ListedPackage } from './db.js';
import { deployPlan, packageTrust, runTransaction, trustOnBase } from './engine.js';
import { keptLocalRpm } from './local-rpms.js';
import { pinsOf, withLockfile } from './lockfile.js';
import { hostArch, openRepos } from './repos.js';
import type { EngineRequest, EngineResult, PackageDiff } from './types.js';
import { commitVersion, versionFor } from './version.js';
import type { Edited } from './verbs.js';

export interface UpgradeRequest extends Omit<EngineRequest, 'change' | 'confirm'> {
  /** Metadata only: plan, store the cached update, change nothing (`--check`, `--preview`). */
  check?: boolean;
  install?: string[];
  uninstall?: string[];
  /** Only what the chosen advisories require (`--security`, `--advisory ID`; advisory-filter.ts). */
  advisories?: AdvisorySelection;
  /** `layer deploy --unpin`: past a pin, and a pinned current deployment counts as a change. */
  unpin?: boolean;
  /**
   * `layer deploy --lockfile FILE` of a recipe base (recipe-deploy.ts): the recipe of `lockfile`
   * composed against its pinned packages, the result pinned. Requires `lockfile`.
   */
  snapshot?: boolean;
}

export interface UpgradeResult {
  /**
   * available: --check found an update; unchanged: nothing new; downloaded: --download-only;
   * pinned: the base was chosen by `layer deploy REV` and stays until `deploy --unpin` or a rebase.
   */
  outcome: 'deployed' | 'unchanged' | 'available' | 'downloaded' | 'pinned';
  baseKind: 'recipe' | 'ostree-local';
  base: {
    from: Checksum;
    /** The new base commit; null for a recipe base not (yet) composed (--check). */
    to: Checksum | null;
    changed: boolean;
    version: string | null;
    timestamp: number;
  };
  /** Old tree → new tree (previewed for --check; read from the deployed tree otherwise). */
  diff: PackageDiff;
  /** Every package of the new tree. */
  packages: Nevra[];
  /** The transaction's result when something was deployed or downloaded. */
  result?: EngineResult;
  /** Security advisories the update fixes (--check, --preview). */
  advisories?: Advisory[];
  cachedUpdate?: CachedUpdate;
  /** `--security` / `--advisory`: what restricted the upgrade (absent: nothing did). */
  restriction?: Restriction;
}

export async function runUpgrade(req: UpgradeRequest): Promise<UpgradeResult> {
  // The solver's wasm compiles on V8's background threads meanwhile, as in runTransaction.
  loadSolver().catch(() => {});
  const sysroot = Sysroot.open(req.sysroot);
  const current = sysroot.deployments()[0];
  if (!current) throw new LayerError('LAYER_SYSROOT', `${req.sysroot} has no deployments`, { hint: 'run layer init first' });
  if (current.origin.pinned && !req.unpin && !req.snapshot) {
    const c = sysroot.store.readCommit(current.origin.baseCommit);
    const version = commitVersion(sysroot.store, current.origin.baseCommit) ?? null;
    const at = current.origin.baseCommit;
    const base = { from: at, to: at, changed: false, version, timestamp: Number(c.timestamp) };
    return { outcome: 'pinned', baseKind: current.origin.recipe ? 'recipe' : 'ostree-local', base, diff: emptyDiff(), packages: [] };
  }
  if (current.origin.recipe && req.lockfile && !req.snapshot) {
    // Pinning a recipe upgrade is choosing a snapshot: that is deploy's job (and it pins the origin).
    throw new LayerError('LAYER_USAGE', 'upgrade of a recipe base does not take --lockfile', {
      hint: 'layer deploy --lockfile FILE composes the recipe base exactly as FILE pins it',
    });
  }
  const { before, ...out } = current.origin.recipe ? await recipeUpgrade(req, sysroot, current) : await refUpgrade(req, sysroot, current);
  const restriction = restrictionOf(req.advisories, out.baseKind);
  if (restriction) out.restriction = restriction;
  if (req.check && !req.options.downloadOnly) {
    if (out.outcome === 'available') {
      out.advisories = await securityAdvisories({
        ...(req.reposdir ? { reposdir: req.reposdir } : {}), ...(req.arch ? { arch: req.arch } : {}),
        tree: (sysroot.deployments().find((d) => d.booted) ?? current).path, cacheDir: join(sysroot.stateDir, 'cache'),
        ...(req.options.cacheOnly ? { cacheOnly: true } : {}), report: req.report,
        before: before ?? await listCommitPackages(sysroot.store, current.checksum, join(sysroot.stateDir, 'cache')), after: out.packages,
      });
      out.cachedUpdate = cachedUpdateOf(current, out);
      writeCachedUpdate(sysroot.stateDir, out.cachedUpdate);
    } else clearCachedUpdate(sysroot.stateDir);
  }
  if (out.outcome === 'deployed') clearCachedUpdate(sysroot.stateDir);
  const d = out.diff;
  req.report.record(`upgrade.${out.outcome}`, {
    'base-kind': out.baseKind, from: out.base.from, to: out.base.to, version: out.base.version,
    upgraded: d.upgraded.length, downgraded: d.downgraded.length, removed: d.removed.length, added: d.added.length,
  });
  return out;
}

/**
 * What recipeUpgrade and refUpgrade found, with the current tree's packages when they read
 * them: --check's advisories need the same list, and reading a commit's rpmdb again (extract,
 * open, parse every header) was a tenth of a `--check`.
 */
type Found = UpgradeResult & { before?: ListedPackage[] };

/** An OSTree-ref base: the engine's own pipeline with an `upgrade` change (verbs.ts moves the base). */
async function refUpgrade(req: UpgradeRequest, sysroot: Sysroot, current: Deployment): Promise<Found> {
  const r = await runTransaction({
    ...req,
    change: { kind: 'upgrade', install: req.install ?? [], uninstall: req.uninstall ?? [], ...(req.advisories ? { advisories: req.advisories } : {}) },
    options: { ...req.options, ...(req.check ? { dryRun: true } : {}) },
  });
  const to = r.plan?.request.baseCommit ?? current.origin.baseCommit;
  const c = sysroot.store.readCommit(to);
  const base = {
    from: current.origin.baseCommit, to, changed: to !== current.origin.baseCommit,
    version: commitVersion(sysroot.store, to) ?? null, timestamp: Number(c.timestamp),
  };
  const packages = r.plan?.packages ?? [];
  if (r.outcome === 'unchanged') return { outcome: 'unchanged', baseKind: 'ostree-local', base, diff: emptyDiff(), packages };
  if (r.outcome === 'deployed') return { outcome: 'deployed', baseKind: 'ostree-local', base, diff: r.diff ?? emptyDiff(), packages, result: r };
  if (r.outcome === 'downloaded') return { outcome: 'downloaded', baseKind: 'ostree-local', base, diff: emptyDiff(), packages, result: r };
  const before = await listCommitPackages(sysroot.store, current.checksum, join(sysroot.stateDir, 'cache'));
  return { outcome: 'available', baseKind: 'ostree-local', base, diff: diffPackages(before, listed(packages)), packages, before };
}

/** A recipe base: see the module comment. */
async function recipeUpgrade(req: UpgradeRequest, sysroot: Sysroot, seen: Deployment): Promise<Found> {
  const o = req.options;
  const mutates = !req.check && !o.downloadOnly;
  const report = new CollectingReport(req.report);
  if (mutates) await lockWait(req, sysroot);
  // Read again under the lock: a transaction that finished while this one waited is the current one.
  const current = (mutates ? sysroot.deployments()[0] : undefined) ?? seen;
  const cacheDir = join(sysroot.stateDir, 'cache');
  const merge = sysroot.deployments().find((d) => d.booted) ?? current;
  const arch = req.arch ?? hostArch();
  const main = readMainConf(merge.path, report);
  const repos = await openRepos({
    ...(req.reposdir ? { reposdir: req.reposdir } : {}), tree: merge.path, arch, cacheDir, report, main, ...pinsOf(req),
  });
  try {
    const edit = { idempotent: o.idempotent === true };
    const request = removePackages(addPackages(requestOf(current), req.install ?? [], edit), req.uninstall ?? [], edit);
    if (request.removed.length > 0) {
      throw new LayerError('LAYER_USAGE', `upgrade of a recipe base with removed base packages (${request.removed.join(', ')}) is not supported`, {
        hint: 'layer uninstall is for layered packages; change the recipe instead (layer rebase)',
      });
    }
    // The recipe's local files (layer init ./x.rpm) come with it, from the state dir.
    const local = request.recipe?.local ?? [];
    const recipe: Recipe = {
      packages: [...recipePackages(req, request)], repos: repos.active.map((r) => r.id), ...(local.length ? { local } : {}),
    };
    const planCtx = planContextOf(req, sysroot, { repos, arch, cacheDir, report }, request, main);
    const before = await listCommitPackages(sysroot.store, current.checksum, cacheDir);
    const version = snapshotVersion(req) ?? versionFor(sysroot.store, null, current.origin.baseCommit, o.version);
    // The preview: recipe and layered requests solved together from nothing (metadata only); its
    // lockfile (--lockfile-out) pins that whole tree, and a snapshot's lockfile checks it.
    const fromNothing = { ...request, baseCommit: '' as Checksum, recipe };
    const combined = await restricted(req.advisories, planCtx, installedLike(before),
      () => withLockfile(withVersion(req, version), repos, report, () => planCompose(fromNothing, planCtx)));
    const diff = diffPackages(before, listed(combined.packages));
    const base = { from: current.origin.baseCommit, to: null, changed: true, version, timestamp: Math.floor(Date.now() / 1000) };
    const o0 = current.origin;
    const sameRequests = JSON.stringify([request.requested, request.requestedLocal]) === JSON.stringify([o0.requested, o0.requestedLocal]);
    // A pin set (snapshot) or dropped (unpin) is a change even when the packages are the same.
    const samePin = Boolean(o0.pinned) === Boolean(req.snapshot);
    if (isEmpty(diff) && sameRequests && samePin) {
      const was = { ...base, to: o0.baseCommit, changed: false, version: commitVersion(sysroot.store, o0.baseCommit) ?? null };
      return { outcome: 'unchanged', baseKind: 'recipe', base: was, diff, packages: combined.packages };
    }
    if (req.check) return { outcome: 'available', baseKind: 'recipe', base, diff, packages: combined.packages, before };
    const change: EngineRequest['change'] = req.snapshot ? { kind: 'deploy' } : { kind: 'upgrade', install: req.install ?? [], uninstall: req.uninstall ?? [] };
    const engineReq: EngineRequest = { ...req, change };
    const applyCtx: Omit<ApplyContext, 'verify'> = {
      store: sysroot.store, repos, cacheDir, report, ...(o.cacheOnly ? { cacheOnly: true } : {}),
    };
    if (o.downloadOnly) {
      // Every package of the combined plan: the base's and the layered ones, for a later `upgrade -C`.
      const trust = await packageTrust(engineReq, sysroot, repos, combined, cacheDir);
      await apply(combined, { ...applyCtx, verify: trust.verify, until: 'import' });
      const result = resultOf('downloaded', combined, report);
      return { outcome: 'downloaded', baseKind: 'recipe', base, diff, packages: combined.packages, result };
    }
    const deployed = await composeRecipe({
      req: engineReq, sysroot, current, repos, report, planCtx, applyCtx, request, recipe, combined, version, pinned: req.snapshot === true, before,
    });
    const to = deployed.baseCommit;
    return { outcome: 'deployed', baseKind: 'recipe', base: { ...base, to }, diff: deployed.result.diff ?? diff, packages: combined.packages, result: deployed.result };
  } finally {
    await repos.close();
    sysroot.release();
  }
}

interface RecipeCompose {
  req: EngineRequest;
  sysroot: Sysroot;
  current: Deployment;
  repos: RepoSet;
  report: CollectingReport;
  planCtx: PlanContext;
  applyCtx: Omit<ApplyContext, 'verify'>;
  request: Request;
  recipe: Recipe;
  /** The preview: what must be deployed. */
  combined: Plan;
  version: string;
  /** Record the pin in the origin (a snapshot deployed by `layer deploy --lockfile`). */
  pinned: boolean;
  /** The current tree's packages (read for the preview's diff; the deploy's diff uses them too). */
  before: ListedPackage[];
}

/**
 * The real upgrade of a recipe base: (1) the base composed from the recipe alone (its parent
 * the old base, so the ref keeps a history); (2) the layered requests planned on that commit,
 * refused unless the result is the previewed package set; (3) deployed.
 */
async function composeRecipe(x: RecipeCompose): Promise<{ baseCommit: Checksum; result: EngineResult }> {
  const { req, sysroot, current, repos, report, planCtx, applyCtx, request, recipe, combined } = x;
  const cacheDir = applyCtx.cacheDir;
  const baseRequest: Request = { baseRef: request.baseRef, baseCommit: '' as Checksum, recipe, requested: [], requestedLocal: [], removed: [] };
  const basePlan = await planCompose(baseRequest, planCtx);
  const baseTrust = await packageTrust(req, sysroot, repos, basePlan, cacheDir);
  // Both applies leave their package refs to the deploy's one syncfs (deferRefs).
  const baseApplied = await apply(basePlan, {
    ...applyCtx, verify: baseTrust.verify, extraRpmdbEntries: baseTrust.entries, version: x.version, parent: current.origin.baseCommit, deferRefs: true,
    // Its scratch tree is removed while the layered packages are planned and applied (a whole
    // checked-out base by rm in a child process, off libuv's pool, where it had slowed that
    // plan's reads 20 -> 50 ms); the removal is awaited once the deploy is done.
    removeScratchLater: true,
  });
  const baseCommit = baseApplied.commit;
  const refs = [...(baseApplied.refs ?? [])];
  if (!baseCommit) throw new LayerError('LAYER_INTERNAL', 'assertion failed: apply returned no commit');
  let finalPlan = basePlan;
  let commit = baseCommit;
  let edited: Edited = { request: baseRequest, newLocal: [] };
  if (request.requested.length + request.requestedLocal.length > 0) {
    // The layered requests on that commit, checked against the preview before anything more is written.
    const layeredRequest = setBase(request, request.baseRef, baseCommit, recipe);
    // The new base's packages as its apply wrote them: no read-back of its rpmdb.
    const onBase = baseApplied.rpmdbRows ? { base: baseFromRows(baseCommit, baseApplied.rpmdbRows) } : {};
    finalPlan = await planCompose(layeredRequest, { ...planCtx, ...onBase });
    assertSameSet(finalPlan.packages, combined.packages, report);
    // Keys trusted by the new base come from the rows just written, as its packages do.
    const trust = onBase.base
      ? trustOnBase(req, repos, onBase.base.packages)
      : await packageTrust(req, sysroot, repos, finalPlan, cacheDir);
    const version = versionFor(sysroot.store, baseCommit, current.checksum, req.options.version);
    const applied = await apply(finalPlan, {
      ...applyCtx, ...onBase, verify: trust.verify, extraRpmdbEntries: trust.entries, version, deferRefs: true,
    });
    if (!applied.commit) throw new LayerError('LAYER_INTERNAL', 'assertion failed: apply returned no commit');
    commit = applied.commit;
    refs.push(...(applied.refs ?? []));
    edited = { request: layeredRequest, newLocal: [] };
  } else assertSameSet(basePlan.packages, combined.packages, report);
  // The pin is the origin's, not the commit's: the commits stay those an upgrade composes.
  const deployedPlan = x.pinned ? { ...finalPlan, request: { ...finalPlan.request, pinned: true } } : finalPlan;
  const deployed = await deployPlan(req, report, sysroot, current, edited, deployedPlan, commit, refs, { before: x.before });
  await scratchRemoved();
  // The ref moves once the deployment exists and is the default: a kill before leaves the ref
  // on the deployed base, and a held one (its checks failed) leaves it where it was, so the
  // ref's history (deploy version=V) has only bases that were deployed and the next upgrade
  // composes on the old base again. The held deployment's commit keeps its base alive (parent).
  // The deploy's syncfs already made the base commit's objects durable.
  if (commit !== baseCommit && !deployed.held) sysroot.store.setRef(request.baseRef, baseCommit, { synced: true });
  return { baseCommit, result: { ...deployed, timings: report.timings, scriptlets: report.records('scriptlet.ran'), warnings: report.warnings } };
}

/** Wait for the sysroot lock (--lock-timeout, the waiting message). */
async function lockWait(req: UpgradeRequest, sysroot: Sysroot): Promise<void> {
  const o = req.options;
  await sysroot.lockWait(req.command, {
    ...(o.lockTimeout !== undefined ? { timeoutSeconds: o.lockTimeout } : {}),
    ...(req.onLockWait ? { onWait: req.onLockWait } : {}),
  });
}

/** The plan context of a recipe upgrade (the request's local packages from the state dir). */
function planContextOf(
  req: UpgradeRequest, sysroot: Sysroot, c: Pick<PlanContext, 'repos' | 'arch' | 'cacheDir' | 'report'>, request: Request,
  main: DnfMainConfig,
): PlanContext {
  const o = req.options;
  const localPaths = new Map([
    ...(request.recipe?.local ?? []).map((l) => [l.sha256, keptLocalRpm(sysroot.stateDir, l.sha256, l.nevra, true)] as const),
    ...request.requestedLocal.map((l) => [l.sha256, keptLocalRpm(sysroot.stateDir, l.sha256, l.nevra)] as const),
  ]);
  return {
    ...c, store: sysroot.store, localPaths,
    options: {
      ...(o.cacheOnly ? { cacheOnly: true } : {}), ...(o.replaceFiles ? { replaceFiles: true } : {}),
      ...(o.ignoreWeakDeps ? { ignoreWeakDeps: true } : {}), ...dnfComposeOptions(o, main),
      ...(o.scriptletTimeout ? { scriptletTimeoutMs: o.scriptletTimeout * 1000 } : {}),
    },
  };
}

/** The recipe to compose: a snapshot's is its lockfile's, an upgrade's the current one. */
function recipePackages(req: UpgradeRequest, request: Request): readonly string[] {
  const locked = req.snapshot ? req.lockfile?.lock.base.recipe : undefined;
  return locked ?? request.recipe?.packages ?? [];
}

/** The version a snapshot's lockfile records (the upgrade that wrote it composed that version). */
function snapshotVersion(req: UpgradeRequest): string | undefined {
  const v = req.snapshot ? req.lockfile?.lock.base.version : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** `req` whose --lockfile-out lockfile records the version of the composed base. */
function withVersion(req: UpgradeRequest, version: string): UpgradeRequest {
  const out = req.onLockfile;
  return out ? { ...req, onLockfile: (l) => out({ ...l, base: { ...l.base, version } }) } : req;
}

/** The Request part of an origin (the origin's records of the last result left out). */
function requestOf(d: Deployment): Request {
  const { baseRef, baseCommit, recipe, requested, requestedLocal, removed } = d.origin;
  return { baseRef, baseCommit, ...(recipe ? { recipe } : {}), requested, requestedLocal, removed };
}

/** The preview's promise: the composed tree has exactly the previewed packages. */
function assertSameSet(got: readonly Nevra[], previewed: readonly Nevra[], report: Report): void {
  const a = [...got].sort();
  const b = [...previewed].sort();
  if (JSON.stringify(a) === JSON.stringify(b)) {
    report.record('upgrade.preview-verified', { packages: a.length });
    return;
  }
  const extra = a.filter((n) => !b.includes(n));
  const missing = b.filter((n) => !a.includes(n));
  throw new LayerError('LAYER_INTERNAL', `assertion failed: the upgrade would deploy other packages than its preview (not previewed: ${extra.join(', ') || '-'}; `
    + `previewed but absent: ${missing.join(', ') || '-'}); nothing was deployed`);
}

function listed(nevras: readonly Nevra[]): ListedPackage[] {
  return nevras.flatMap((n) => {
    const p = parseNevra(n);
    return p && p.name !== 'gpg-pubkey' ? [{ name: p.name, nevra: n, evr: formatEvr(p) }] : [];
  });
}

function emptyDiff(): PackageDiff {
  return { added: [], removed: [], upgraded: [], downgraded: [] };
}

function isEmpty(d: PackageDiff): boolean {
  return d.added.length + d.removed.length + d.upgraded.length + d.downgraded.length === 0;
}

function resultOf(outcome: EngineResult['outcome'], p: Plan, report: CollectingReport): EngineResult {
  return { outcome, plan: p, steps: p.steps, alreadyProvided: p.alreadyProvided, timings: report.timings, scriptlets: report.records('scriptlet.ran'), warnings: report.warnings };
}

function cachedUpdateOf(current: Deployment, u: UpgradeResult): CachedUpdate {
  const packages = [...u.packages].sort();
  return {
    deployment: current.checksum,
    checksum: u.base.to,
    version: u.base.version,
    timestamp: u.base.timestamp,
    'ref-has-new-commit': u.base.changed,
    'rpm-diff': u.diff,
    packages,
    advisories: (u.advisories ?? []).map((a) => ({ id: a.id, severity: a.severity, title: a.title, cves: a.cves, packages: a.packages })),
    'update-sha256': createHash('sha256').update(JSON.stringify([u.base.to, packages])).digest('hex'),
    restriction: u.restriction ?? null,
  };
}

/**
 * The restriction an upgrade was computed with, for its result and the cached update: an
 * OSTree-ref base's image is taken whole, so there it restricts the layered packages only.
 */
function restrictionOf(sel: AdvisorySelection | undefined, kind: UpgradeResult['baseKind']): Restriction | undefined {
  if (!selects(sel)) return undefined;
  return { security: sel.security === true, advisories: [...new Set(sel.ids ?? [])], scope: kind === 'recipe' ? 'all' : 'layered' };
}
