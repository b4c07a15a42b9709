/**
 * The one transaction pipeline every changing verb uses:
 *
 *   edit the request (verbs.ts) → plan (compose/plan.ts) → refuse / confirm → apply
 *   (compose/apply) → deploy (sysroot) → package diff
 *
 * The origin records the request; every change is recomposed from the base commit with the
 * whole request, as rpm-ostree does, so uninstall is "compose again without it". Whether
 * anything changed is decided after the solve, by the plan's input digest (base commit +
 * resolved package set + request), not by comparing requests: the same request against repos
 * with newer packages is a change, and a command whose result equals the current deployment
 * makes none.
 *
 * Locking: writers wait for the sysroot lock (in arrival order, sysroot/lock.ts) from before
 * reading the current deployment until the new one is the default. Dry runs and
 * --download-only take no lock: they change no deployment, and their scratch space is their
 * own (compose/scratch.ts), so they can run beside a transaction.
 */
import { apply, BASE_LOCKED_HINT, baseLockedMessage, cleanStaleScratch, createScratch, inputDigestOf, plan as planCompose, readBase, scratchRemoved, type BaseSet, type PendingRef, type Plan, type Scratch } from '../compose/index.js';
import type { RepoSet } from '../repos/index.js';
import { pubkeyEntry } from '../rpmdb/pubkey.js';
import { createPackageVerifier, keysFromRpmdb } from '../trust/index.js';
import { LayerError } from '../errors.js';
import { nameOf } from '../nevra.js';
import { CollectingReport } from '../report.js';
import { localsToInstall, type Request } from '../request/index.js';
import { loadSolver } from '../solver/index.js';
import type { Checksum } from '../store/index.js';
import { Sysroot, type DeployRef, type Deployment, type Origin } from '../sysroot/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffPackages, listCommitPackages, listedFromPlan, type ListedPackage } from './db.js';
import { keepLocalRpm, keptLocalRpm } from './local-rpms.js';
import { dnfComposeOptions, readMainConf } from './dnf-options.js';
import type { DnfMainConfig } from '../repos/index.js';
import type { PlanContext } from '../compose/types.js';
import { installedLike } from './advisories.js';
import { restricted, selects } from './advisory-filter.js';
import { pinsOf, withLockfile } from './lockfile.js';
import { sourceDateEpoch } from '../compose/apply/rpmdb.js';
import { hostArch, openRepos } from './repos.js';
import type { EngineRequest, EngineResult } from './types.js';
import { editRequest, type Edited } from './verbs.js';
import { versionFor } from './version.js';

/** Run one change (init, install, uninstall) on a sysroot. */
export async function runTransaction(req: EngineRequest): Promise<EngineResult> {
  const report = new CollectingReport(req.report);
  const mutates = !req.options.dryRun && !req.options.downloadOnly;
  // Start compiling the solver's wasm now: V8 compiles it on background threads while this
  // thread reads the sysroot, rpmdb and repo configs (~10 ms off a warm dry run). A failure
  // is reported by plan's own loadSolver() call, which retries.
  if (req.change.kind !== 'init' || !(req.change.fromOstree || req.change.fromOci)) loadSolver().catch(() => {});
  const sysroot = req.change.kind === 'init' ? Sysroot.init(req.sysroot) : Sysroot.open(req.sysroot);
  if (mutates || req.change.kind === 'init') {
    await sysroot.lockWait(req.command, {
      ...(req.options.lockTimeout !== undefined ? { timeoutSeconds: req.options.lockTimeout } : {}),
      ...(req.onLockWait ? { onWait: req.onLockWait } : {}),
    });
  }
  try {
    cleanStaleScratch(join(sysroot.stateDir, 'cache'));
    const current = sysroot.deployments()[0];
    if (req.change.kind !== 'init' && !current) {
      throw new LayerError('LAYER_SYSROOT', `${req.sysroot} has no deployments`, { hint: 'run layer init first' });
    }
    const edited = await editRequest(sysroot, req, current?.origin);
    const collected = () => ({ timings: report.timings, scriptlets: report.records('scriptlet.ran'), warnings: report.warnings });
    if (req.change.kind === 'init' && edited.request.baseCommit !== '' && !hasLayering(edited.request)) {
      // A plain OSTree commit as the base: nothing to compose.
      const d = await report.section('deploy', () => sysroot.deploy(req.change.kind === 'init' ? req.change.osname : '', edited.request.baseCommit, edited.request));
      return { outcome: 'deployed', steps: [], alreadyProvided: [], commit: edited.request.baseCommit, deployment: d.deployment, etc: d.etc, ...collected() };
    }
    const outcome = await composeFor(req, report, sysroot, current, edited);
    if (outcome.result) return { ...outcome.result, ...collected() };
    const { plan: p, commit, refs } = outcome;
    const deployed = await deployPlan(req, report, sysroot, current, edited, p, commit, refs);
    return { ...deployed, ...collected() };
  } finally {
    // apply's scratch directory was removed while the deploy ran (removeScratchLater).
    await scratchRemoved();
    sysroot.release();
  }
}

type ResultCore = Omit<EngineResult, 'timings' | 'scriptlets' | 'warnings'>;

function hasLayering(r: Request): boolean {
  return r.requested.length + r.requestedLocal.length + r.removed.length > 0;
}

/** Plan, refuse or confirm, apply: a result when the transaction ends here, else the commit to deploy. */
async function composeFor(
  req: EngineRequest, report: CollectingReport, sysroot: Sysroot, current: Deployment | undefined, edited: Edited,
): Promise<{ result: ResultCore; plan?: undefined; commit?: undefined } | { result?: undefined; plan: Plan; commit: Checksum; refs?: readonly PendingRef[] }> {
  const merge = sysroot.deployments().find((d) => d.booted) ?? current;
  const arch = req.arch ?? hostArch();
  const cacheDir = join(sysroot.stateDir, 'cache');
  // dnf.conf's [main] of the deployment the new one is made from, as dnf would read it.
  const main = readMainConf(merge?.path, report);
  const repos = await openRepos({
    ...(req.reposdir ? { reposdir: req.reposdir } : {}), ...(merge ? { tree: merge.path } : {}),
    arch, cacheDir, report, ...pinsOf(req), main,
  });
  // The base rpmdb, read once for the plan, the signature keys and apply (a scratch directory
  // only when the per-commit cached copy is missing).
  let scratch: Scratch | undefined;
  let baseSet: BaseSet | undefined;
  try {
    let request = edited.request;
    if (request.recipe && request.baseCommit === '') request = { ...request, recipe: { ...request.recipe, repos: repos.active.map((r) => r.id) } };
    baseSet = await readBase(sysroot.store, request.baseCommit === '' ? null : request.baseCommit, async () => (scratch ??= await createScratch(cacheDir)).path, cacheDir);
    const base = baseSet;
    const localPaths = new Map<string, string>([
      ...localsToInstall(request).filter((l) => !edited.newLocal.some((n) => n.sha256 === l.sha256))
        .map((l) => [l.sha256, keptLocalRpm(sysroot.stateDir, l.sha256, l.nevra)] as const),
      ...edited.newLocal.map((l) => [l.sha256, l.path] as const),
    ]);
    const o = req.options;
    const ctx = planContextOf(req, { sysroot, current, repos, arch, cacheDir, report, localPaths, base, main });
    // --lockfile pins the solve and checks its result; --lockfile-out gets the plan's lockfile;
    // `upgrade --security` keeps the repos to what the chosen advisories require.
    const p = await planErrorsExplained(req, current, () => withLockfile(req, repos, report,
      () => restrictedToAdvisories(req, sysroot, current, ctx, () => planCompose(request, ctx))));
    const shown = { plan: p, steps: p.changes, alreadyProvided: p.alreadyProvided, ...(current ? { previous: current } : {}) };
    // Refusals come before the question: nobody is asked to confirm what would fail anyway.
    refuseInactive(req, p);
    const composes = p.steps.length > 0 || p.locals.length > 0 || p.base.commit === null;
    // Nothing to compose on the commit the default already is: the result is that commit.
    const same = !composes && current !== undefined && p.base.commit === current.checksum && sameInactive(current, p);
    if (p.unchanged || same) return { result: { ...shown, outcome: 'unchanged' } };
    if (o.dryRun) return { result: { ...shown, outcome: 'dry-run' } };
    if (req.confirm && !(await req.confirm(p))) return { result: { ...shown, outcome: 'aborted' } };
    if (!composes && !o.downloadOnly) return { plan: p, commit: p.base.commit as Checksum };
    const trust = trustOnBase(req, repos, base.packages);
    const applied = await apply(p, {
      store: sysroot.store, repos, cacheDir, report, verify: trust.verify, extraRpmdbEntries: trust.entries, base,
      version: versionFor(sysroot.store, p.base.commit, current?.checksum, o.version),
      ...(o.cacheOnly ? { cacheOnly: true } : {}), ...(o.downloadOnly ? { until: 'import' as const } : { deferRefs: true }),
      removeScratchLater: true,
    });
    if (o.downloadOnly) return { result: { ...shown, outcome: 'downloaded' } };
    if (!applied.commit) throw new LayerError('LAYER_INTERNAL', 'assertion failed: apply returned no commit');
    return { plan: p, commit: applied.commit, ...(applied.refs ? { refs: applied.refs } : {}) };
  } finally {
    baseSet?.rpmdb?.close();
    await scratch?.release();
    await repos.close();
  }
}

interface PlanInputs {
  sysroot: Sysroot;
  current: Deployment | undefined;
  repos: RepoSet;
  arch: string;
  cacheDir: string;
  report: CollectingReport;
  localPaths: ReadonlyMap<string, string>;
  base: BaseSet;
  main: DnfMainConfig;
}

/** The plan context of one transaction: the command's options over the deployment's dnf.conf. */
function planContextOf(req: EngineRequest, x: PlanInputs): PlanContext {
  const o = req.options;
  const { sysroot, current, repos, arch, cacheDir, report, localPaths, base } = x;
  return {
    store: sysroot.store, repos, arch, cacheDir, report, localPaths,
    options: {
      ...(o.cacheOnly ? { cacheOnly: true } : {}), ...(o.replaceFiles ? { replaceFiles: true } : {}),
      ...(o.ignoreWeakDeps ? { ignoreWeakDeps: true } : {}), ...dnfComposeOptions(o, x.main),
      ...(o.skipBroken ? { skipBroken: true } : {}),
      ...(o.scriptletTimeout ? { scriptletTimeoutMs: o.scriptletTimeout * 1000 } : {}),
    },
    ...(current?.origin.inputDigest ? { previous: { commit: current.checksum, inputDigest: current.origin.inputDigest } } : {}),
    ...(current ? { current: { layered: current.origin.layered ?? [], request: current.origin } } : {}),
    // Only what refuseInactive may refuse needs the newer-version check (an extra solve each).
    ...(req.change.kind === 'install' && !o.allowInactive ? { newerFor: req.change.packages } : {}),
    base,
  };
}

/**
 * `upgrade --security/--advisory` of an OSTree-ref base: the new base is the image's, taken
 * whole; the layered packages are planned with dnf's advisory filter against the tree the
 * current deployment has (advisory-filter.ts). Any other change plans unrestricted.
 */
async function restrictedToAdvisories<T>(
  req: EngineRequest, sysroot: Sysroot, current: Deployment | undefined, ctx: PlanContext, plan: () => Promise<T>,
): Promise<T> {
  const sel = req.change.kind === 'upgrade' ? req.change.advisories : undefined;
  if (!current || !selects(sel)) return plan();
  const installed = installedLike(await listCommitPackages(sysroot.store, current.checksum, ctx.cacheDir));
  return restricted(sel, ctx, installed, plan);
}

/**
 * The signature policy of this transaction (gpgcheck per repo, localpkg_gpgcheck): keys the
 * base already trusts (its gpg-pubkey entries) plus the repos' gpgkey= keys imported as needed;
 * the imported keys become gpg-pubkey entries of the new tree, as rpm records them.
 */
export async function packageTrust(req: EngineRequest, sysroot: Sysroot, repos: RepoSet, p: Plan, cacheDir: string) {
  if (!p.base.commit) return trustOnBase(req, repos, []);
  const scratch = await createScratch(cacheDir);
  try {
    const base = await readBase(sysroot.store, p.base.commit, scratch.path, cacheDir);
    base.rpmdb?.close();
    return trustOnBase(req, repos, base.packages);
  } finally {
    await scratch.release();
  }
}

/** packageTrust on a base already read. */
export function trustOnBase(req: EngineRequest, repos: RepoSet, basePackages: BaseSet['packages']) {
  const baseKeys = keysFromRpmdb(basePackages);
  const verifier = createPackageVerifier(repos.active.map((r) => r.config), {
    baseKeys, localGpgcheck: req.options.localGpgcheck === true,
    ...(req.confirmKeyImport ? { confirmImport: req.confirmKeyImport } : {}),
  });
  const installTid = sourceDateEpoch() ?? Math.floor(Date.now() / 1000);
  return {
    verify: verifier.verify,
    entries: () => (verifier.result()?.imported ?? []).map((k) => pubkeyEntry(k.cert, { installTime: installTid, installTid })),
  };
}

/** Plan errors said in the terms of this command (see explainPlanError). */
async function planErrorsExplained<T>(req: EngineRequest, current: Deployment | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainPlanError(req, current, err);
  }
}

/** The solver speaks of packages and jobs; the user typed a verb: name what the verb did. */
function explainPlanError(req: EngineRequest, current: Deployment | undefined, err: unknown): unknown {
  if (!(err instanceof LayerError)) return err;
  if (err.code === 'LAYER_UNSOLVABLE' && req.change.kind === 'override-remove') return removalRefused(req.change.packages, err);
  if (err.code === 'LAYER_NO_MATCH' && current) return earlierRequestsNamed(req, current, err);
  return err;
}

/**
 * A request made by an earlier command that no longer resolves (it came from repos this command
 * does not have, or the repo dropped it) is named as such: the user did not type it now.
 */
function earlierRequestsNamed(req: EngineRequest, current: Deployment, err: LayerError): LayerError {
  const typed = req.change.kind === 'install' || req.change.kind === 'uninstall' ? req.change.packages : [];
  const missing = (err.data?.missing as string[] | undefined) ?? [];
  const earlier = missing.filter((m) => current.origin.requested.includes(m) && !typed.includes(m));
  if (earlier.length === 0) return err;
  const which = earlier.map((m) => `'${m}'`).join(', ');
  const typedMissing = missing.filter((m) => !earlier.includes(m));
  const now = typedMissing.length ? `no package matches ${typedMissing.join(', ')}; and ` : '';
  const [noun, verb] = earlier.length === 1 ? ['request', 'matches'] : ['requests', 'match'];
  return new LayerError('LAYER_NO_MATCH', `${now}the earlier ${noun} ${which} (layered by a previous command) ${verb} no package in the enabled repos`, {
    hint: `enable the repo it came from (--reposdir DIR), or drop it: layer uninstall ${earlier.join(' ')}`,
    data: { missing, earlier }, cause: err,
  });
}

/** `override remove` of base packages others need: name who needs them (from the solver's problems). */
function removalRefused(names: readonly string[], err: LayerError): LayerError {
  const needers = [...new Set([...err.message.matchAll(/package (\S+) requires /g)].map((m) => m[1] ?? ''))].filter((n) => n !== '');
  const who = needers.length ? `${needers.join(', ')} ${needers.length === 1 ? 'requires' : 'require'} it` : err.message;
  return new LayerError('LAYER_UNSOLVABLE', `cannot remove base package ${names.join(', ')}: ${who}`, {
    hint: needers.length ? `remove them too: layer override remove ${[...names, ...needers.map((n) => nameOf(n))].join(' ')}` : undefined,
    cause: err, data: { needers },
  });
}

/** The deployment records the same inactive requests the plan has (recording one is a change). */
function sameInactive(current: Deployment, p: Plan): boolean {
  const want = p.alreadyProvided.map((a) => a.spec).sort().join('\n');
  return [...(current.origin.inactive ?? [])].sort().join('\n') === want;
}

/**
 * rpm-ostree refuses to layer what the base already provides unless --allow-inactive: only
 * specs this command adds are refused (earlier inactive requests stay recorded).
 */
function refuseInactive(req: EngineRequest, p: Plan): void {
  if (req.change.kind !== 'install' || req.options.allowInactive) return;
  const added = req.change.packages;
  const inactive = p.alreadyProvided.filter((a) => added.includes(a.spec));
  if (inactive.length === 0) return;
  const locked = inactive.find((a) => a.newer);
  if (locked?.newer) {
    // The same words as a versioned request gets from the solver: whichever spelling, one answer.
    throw new LayerError('LAYER_BASE_LOCKED', `installing ${locked.spec}: ${baseLockedMessage(locked.by, locked.newer)}`, { hint: BASE_LOCKED_HINT });
  }
  throw new LayerError('LAYER_ALREADY_PROVIDED', `${inactive.map((a) => `${a.spec} (by ${a.by})`).join(', ')}: already provided by the base`, {
    hint: 'use --allow-inactive to request it anyway',
  });
}

/**
 * Record the request in the origin, deploy the commit, and diff against the old default.
 * `refs`: the package refs apply left (deferRefs), set by the deploy after its syncfs.
 */
export async function deployPlan(
  req: EngineRequest, report: CollectingReport, sysroot: Sysroot, current: Deployment | undefined, edited: Edited, p: Plan,
  commit: Checksum, refs: readonly PendingRef[] = [], known?: { before: ListedPackage[] },
): Promise<ResultCore> {
  for (const l of edited.newLocal) keepLocalRpm(sysroot.stateDir, l);
  let origin: Origin = { ...p.request, inputDigest: p.inputDigest, layered: p.layered };
  const gate = current ? req.gate : undefined;
  const deployRefs: DeployRef[] = refs.map(([ref, c]) => ({ ref, commit: c, cache: true }));
  // A recipe base was composed: the commit IS the base and moves the base ref, but a gated
  // one only once its checks passed (a held base leaves the host's refs as they were).
  const baseRef = p.request.baseCommit === '' ? p.request.baseRef : undefined;
  if (baseRef !== undefined) {
    // Nothing is layered on it yet, and the digest is that of "this base, nothing layered",
    // so a later no-op is unchanged.
    origin = { ...origin, baseCommit: commit, requested: [], layered: [] };
    origin.inputDigest = inputDigestOf({ ...origin }, p.arch, p.options, []);
    // Set by the deploy after its syncfs (the objects durable first, as setRef would sync).
    if (!gate) deployRefs.push({ ref: baseRef, commit });
  }
  if (p.alreadyProvided.length > 0) origin.inactive = p.alreadyProvided.map((a) => a.spec);
  const osname = req.change.kind === 'init' ? req.change.osname : (current as Deployment).osname;
  const etcFiles = req.change.kind === 'init' && req.reposdir ? repoFiles(req.reposdir) : {};
  // The current tree's packages, for the diff (the caller's list when it read them already).
  const before = current ? (known?.before ?? await listCommitPackages(sysroot.store, current.checksum, join(sysroot.stateDir, 'cache'))) : undefined;
  const deployed = await report.section('deploy', () => sysroot.deploy(osname, commit, origin, { etcFiles, refs: deployRefs, ...(gate ? { asDefault: false } : {}) }));
  const diff = before ? diffPackages(before, listedFromPlan(p.packages)) : undefined;
  let { deployment, removed } = deployed;
  let held = false;
  if (gate) {
    // Not the default until its checks pass: a kill here leaves the old default (sysroot.ts).
    const passed = await report.section('checks', () => gate(deployment));
    if (passed) {
      ({ deployment, removed } = await report.section('promote', async () => sysroot.promote(deployment)));
      // After the promotion: a kill before it leaves the ref on the old default's base.
      if (baseRef !== undefined) sysroot.store.setRef(baseRef, commit);
    } else held = true;
  }
  return {
    outcome: 'deployed', plan: p, steps: p.changes, alreadyProvided: p.alreadyProvided, commit,
    deployment, etc: deployed.etc, removedDeployments: removed, ...(held ? { held } : {}),
    ...(current ? { previous: current } : {}), ...(diff ? { diff } : {}),
  };
}

/** The `*.repo` files `layer init --reposdir` was given: they become the deployment's /etc/yum.repos.d. */
function repoFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.repo'))) out[`yum.repos.d/${n}`] = readFileSync(join(dir, n), 'utf8');
  return out;
}
