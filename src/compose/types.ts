/** Plain data of the compose stage: what composeTree is asked, and what it answers. */
import type { Report } from '../report.js';
import type { RepoSet } from '../repos/index.js';
import type { Nevra, StepKind, StepReason } from '../solver/types.js';
import type { Checksum, Store } from '../store/index.js';

export interface ComposeOptions {
  /** A layered file that differs from one already in the tree (base or earlier package) replaces it. */
  replaceFiles?: boolean;
  /** Do not pull in Recommends/Supplements. */
  ignoreWeakDeps?: boolean;
  /** Solve only: no download, import, checkout or commit. */
  dryRun?: boolean;
  /** Solve and download the packages, then stop. */
  downloadOnly?: boolean;
  /** Use cached metadata and packages only; never the network. */
  cacheOnly?: boolean;
  /** Let the solution upgrade, downgrade, replace or remove base packages (default: locked). */
  allowBaseChanges?: boolean;
  /** Per-scriptlet time limit (default 5 minutes). */
  scriptletTimeoutMs?: number;
}

export interface ComposeRequest {
  store: Store;
  /** The base commit; null composes a tree from nothing (`layer init`). */
  base: { commit: string } | null;
  /** Specs: names, provides, file paths, NEVRAs. */
  install: string[];
  /** Paths of local .rpm files to layer. */
  localRpms: string[];
  /** Base packages to remove (override remove). */
  remove: string[];
  repos: RepoSet;
  arch: string;
  /** Package cache (downloads) and scratch space. */
  cacheDir: string;
  options: ComposeOptions;
  report: Report;
  /** The last composition of the same deployment: an equal inputDigest means nothing to do. */
  previous?: { commit: Checksum; inputDigest: string };
  /** Set this ref to the new commit. */
  ref?: string;
  /**
   * Asked with the solved plan right after the solve, before anything is downloaded, imported
   * or committed (not for dry runs, which stop there anyway). false: composeTree returns with
   * `aborted` set and nothing written.
   */
  confirm?: (plan: ComposePlan) => Promise<boolean>;
}

/** What a composition is about to do: shown to the user before acting. */
export interface ComposePlan {
  /** Solver steps in install order, with reasons and sizes. */
  transaction: ComposeStep[];
  /** Requested specs the base already provides, as `spec (by nevra)`. */
  alreadyProvided: string[];
  /** The request resolves exactly as `previous` did: nothing will be rebuilt. */
  unchanged: boolean;
}

export interface ComposeStep {
  kind: StepKind;
  nevra: Nevra;
  name: string;
  repo: string;
  reason: StepReason;
  /** For upgrade/downgrade/obsoleted: the packages being replaced. */
  replaces?: Nevra[];
  downloadSize?: number;
  installSize?: number;
}

export interface ComposeTimings {
  /** Milliseconds per stage: solve, download, import, checkout, scriptlets, rpmdb, commit. */
  [stage: string]: number;
}

export interface ComposeResult {
  /** Solver steps in install order, with reasons and sizes. */
  transaction: ComposeStep[];
  /** Requested specs the base already provides (not installed again), as `spec (by nevra)`. */
  alreadyProvided: string[];
  /** The new commit; absent for dryRun/downloadOnly and when `unchanged`. */
  commit?: Checksum;
  inputDigest: string;
  /** The request resolves exactly as `previous` did: nothing was rebuilt. */
  unchanged: boolean;
  /** `confirm` answered false: nothing was downloaded, imported or committed. */
  aborted?: true;
  /** Every package of the new tree. */
  packages: Nevra[];
  /** Packages of the new tree that are not from the base. */
  layered: Nevra[];
  timings: ComposeTimings;
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
} as const;
