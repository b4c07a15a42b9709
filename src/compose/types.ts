/**
 * Plain data of the compose stage. `plan()` answers a Plan — every decision of a composition,
 * as records, before anything is downloaded or written — and `apply(plan)` carries it out.
 * Nothing here is rendered to text: the CLI does that.
 */
import type { Nevra, NevraParts } from '../nevra.js';
import type { PackageRef, StepReason } from '../solver/types.js';
import type { Report } from '../report.js';
import type { RepoSet } from '../repos/index.js';
import type { Request } from '../request/index.js';
import type { RpmPackage } from '../rpm/index.js';
import type { HeaderRow, RpmdbEntry } from '../rpmdb/index.js';
import type { Checksum, Store } from '../store/index.js';
import type { BaseSet } from './base.js';

export interface ComposeOptions {
  /** A layered file that differs from one already in the tree (base or earlier package) replaces it. */
  replaceFiles?: boolean;
  /** Do not pull in Recommends/Supplements. */
  ignoreWeakDeps?: boolean;
  /**
   * dnf's `best`: requested packages must be their newest version (fail when it is not
   * installable) instead of falling back to an older one that is (`--nobest`, the default).
   */
  best?: boolean;
  /** dnf's installonly_limit: most versions of an installonly name (kernel) in the tree; 0 no limit (default 3). */
  installonlyLimit?: number;
  /** dnf.conf's installonlypkgs: capabilities made installonly besides dnf's default list. */
  installonlyPkgs?: string[];
  /** dnf's exclude_from_weak: specs (names, globs) never installed as weak dependencies. */
  excludeFromWeak?: string[];
  /** dnf's --skip-broken: a requested spec that cannot be installed is left out (warned), not an error. */
  skipBroken?: boolean;
  /** Use cached metadata and packages only; never the network. */
  cacheOnly?: boolean;
  /** Let the solution upgrade, downgrade, replace or remove base packages (default: locked). */
  allowBaseChanges?: boolean;
  /** Per-scriptlet time limit (default 5 minutes). */
  scriptletTimeoutMs?: number;
}

/** What a step does to the tree. */
export type StepAction = 'install' | 'upgrade' | 'downgrade' | 'remove' | 'obsolete' | 'reinstall';
/** Why the solver chose it (the solver's own reasons). */
export type { StepReason } from '../solver/types.js';

/** One package of the plan: its NEVRA's parts, and what happens to it and why. */
export interface PlanStep extends NevraParts {
  action: StepAction;
  reason: StepReason;
  nevra: Nevra;
  /** Repo id; `@System` for base packages, `@commandline` for local files. */
  repo: string;
  downloadSize?: number;
  installSize?: number;
  /** For upgrade/downgrade/install-over: the packages this one replaces. */
  replaces?: Nevra[];
  /** Requested names this package is installed for because it obsoletes them (dnf's install by name). */
  insteadOf?: string[];
  /** For an obsolete step (a package leaving the tree): the package that obsoletes it. */
  obsoletedBy?: Nevra;
}

/** A requested spec the base already satisfies: recorded, not layered. */
export interface ProvidedRequest {
  spec: string;
  by: Nevra;
  /** A newer version of the providing base package the enabled repos have (the base is locked). */
  newer?: Nevra;
}

/** A local package of the plan: where compose reads it and what it is. */
export interface PlanLocal {
  nevra: Nevra;
  path: string;
  /** sha256 of the file (the request records it). */
  sha256: string;
}

/** A repo the plan used: id and the metadata it saw (commit metadata, lockfiles). */
export interface PlanRepo {
  id: string;
  /** sha256 of repomd.xml. */
  digest: string;
  revision: string;
  /** Primary's timestamp (seconds). */
  timestamp: number;
}

export interface Plan {
  /** What was asked, whole. */
  request: Request;
  arch: string;
  options: ComposeOptions;
  /** The base: its commit (null when composing from nothing) and its package set. */
  base: { commit: Checksum | null; packages: Nevra[] };
  /** Every package the transaction touches, in install order. */
  steps: PlanStep[];
  alreadyProvided: ProvidedRequest[];
  /** Every package of the new tree. */
  packages: Nevra[];
  /** Packages of the new tree that are not from the base. */
  layered: Nevra[];
  /** Base packages the new tree does not have. */
  removed: Nevra[];
  locals: PlanLocal[];
  repos: PlanRepo[];
  /** Digest of base commit + resolved package set + request: equal digest, equal tree. */
  inputDigest: string;
  /** The digest equals the previous composition's: applying would rebuild the same tree. */
  unchanged: boolean;
  /** The previous composition's commit, when `unchanged`. */
  previousCommit?: Checksum;
  /**
   * What changes against the current deployment (when the plan was made for one): layered
   * packages added, upgraded, downgraded or removed, and base packages removed. A recomposition
   * installs every layered package again (`steps`); this is what the user is asked about.
   */
  changes: PlanStep[];
}

/** What plan() needs besides the request. */
export interface PlanContext {
  store: Store;
  repos: RepoSet;
  arch: string;
  /** Package cache (downloads) and scratch space. */
  cacheDir: string;
  options: ComposeOptions;
  report: Report;
  /** Where each local package of the request is, by sha256. */
  localPaths?: ReadonlyMap<string, string>;
  /** The last composition of the same deployment: an equal inputDigest means nothing to do. */
  previous?: { commit: Checksum; inputDigest: string };
  /**
   * Already-provided specs to check for a newer version in the repos (ProvidedRequest.newer):
   * one extra solve each, so only for specs a caller may refuse (the ones a command adds).
   */
  newerFor?: readonly string[];
  /** The current deployment's layered packages and request: `changes` is the plan against them. */
  current?: { layered: readonly string[]; request: Request };
  /** The base as the caller already read it (readBase), used when its commit is the request's; the caller closes it. */
  base?: BaseSet;
  /**
   * Which repo packages the solve may take (`upgrade --security`): the others are excluded
   * from the solve. Base and local packages are never filtered.
   */
  keep?: (p: PackageRef) => boolean;
}

/** What apply() needs besides the plan. */
export interface ApplyContext {
  store: Store;
  repos: RepoSet;
  cacheDir: string;
  report: Report;
  /** Stop after this step (`import` for --download-only: packages fetched, verified, imported). */
  until?: ApplyStepName;
  /** Set this ref to the new commit. */
  ref?: string;
  /** Commit metadata `version` (shown by status). */
  version?: string;
  /**
   * The new commit's parent when the plan has no base commit: a recipe base composed again
   * (upgrade) continues its ref's history, so `deploy version=V` can walk it.
   */
  parent?: Checksum;
  /** Use cached packages only; never the network. */
  cacheOnly?: boolean;
  /** The package-signature policy: called with every opened package before anything is imported. */
  verify?: PackageVerifier;
  /** More rpmdb entries for the new tree, asked for at the rpmdb step (the gpg-pubkey keys verify imported). */
  extraRpmdbEntries?: () => RpmdbEntry[];
  /** The base as the caller already read it, used when its commit is the plan's; the caller closes it. */
  base?: BaseSet;
  /**
   * Leave the imported packages' refs to the caller (ApplyResult.refs) instead of a syncfs and
   * the refs here: a caller that syncs anyway (the deploy) sets them after its own syncfs, so a
   * transaction makes its objects durable once. Until then they are unreferenced objects only.
   */
  deferRefs?: boolean;
  /**
   * Remove the scratch directory in the background instead of waiting for it: the caller
   * awaits `scratchRemoved()` (compose/scratch.ts) when its own work is done. The engine's
   * install path does, after the deploy, which the removal then overlaps (the deploy works on
   * the main thread; the removal, `rm -rf` in a child process, on the other core).
   */
  removeScratchLater?: boolean;
  /**
   * Build the commit from objects when nothing but the rpmdb writer would touch the tree
   * (apply/direct.ts), and check out only what ldconfig needs when nothing else would
   * (apply/partial.ts); default true. false always checks the whole tree out and commits it again.
   */
  direct?: boolean;
}

/** Checks opened packages before import (signatures); throws LAYER_RPM_SIGNATURE to refuse. */
export type PackageVerifier = (
  packages: { rpm: RpmPackage; path: string; repo: string; local: boolean }[],
  report: Report,
) => Promise<void>;

export type ApplyStepName = 'download' | 'verify' | 'check' | 'import' | 'checkout' | 'scriptlets' | 'kernel' | 'rpmdb' | 'commit';

export interface ApplyResult {
  /** The new commit; absent when stopped early (`until`). */
  commit?: Checksum;
  /** Milliseconds per step. */
  timings: Record<string, number>;
  /** The commit was built from objects, without a checkout (apply/direct.ts). */
  direct?: true;
  /** Only what ldconfig needs was checked out; the commit is the union with it laid over (apply/partial.ts). */
  partial?: true;
  /** With `deferRefs`: the package refs to set (ref → commit) once the objects are durable. */
  refs?: PendingRef[];
  /** The new tree's rpmdb Packages rows: composing on the commit needs no read-back (baseFromRows). */
  rpmdbRows?: HeaderRow[];
}

/** A ref to set once the objects it names are durable (ApplyContext.deferRefs). */
export type PendingRef = readonly [ref: string, commit: Checksum];

/** The one-call convenience: plan + apply for callers without a sysroot (tests, benches, tools). */
export interface ComposeRequest {
  store: Store;
  /** The base commit; null composes a tree from nothing. */
  base: { commit: string } | null;
  /** Specs: names, provides, file paths, NEVRAs. */
  install: string[];
  /** Paths of local .rpm files to layer. */
  localRpms: string[];
  /** Base packages to remove (override remove). */
  remove: string[];
  repos: RepoSet;
  arch: string;
  cacheDir: string;
  options: ComposeOptions & { dryRun?: boolean; downloadOnly?: boolean };
  report: Report;
  previous?: { commit: Checksum; inputDigest: string };
  ref?: string;
}

export interface ComposeResult {
  plan: Plan;
  /** The plan's steps (kept for callers of the one-call form). */
  transaction: PlanStep[];
  alreadyProvided: ProvidedRequest[];
  commit?: Checksum;
  inputDigest: string;
  unchanged: boolean;
  packages: Nevra[];
  layered: Nevra[];
  timings: Record<string, number>;
}

/** Commit metadata keys written on composed commits. */
export const COMPOSE_KEYS = {
  requested: 'layer.compose.requested',
  localRpms: 'layer.compose.local-rpms',
  removed: 'layer.compose.removed',
  packages: 'layer.compose.packages',
  layered: 'layer.compose.layered',
  base: 'layer.compose.base',
  repos: 'layer.compose.repos',
  inputDigest: 'layer.compose.input-digest',
  recipe: 'layer.compose.recipe',
  recipeLocal: 'layer.compose.recipe-local',
  request: 'layer.compose.request',
} as const;
