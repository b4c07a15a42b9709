/**
 * Plain data that crosses the solver boundary. Nothing here owns wasm memory:
 * repos/, rpmdb/ and compose/ build these records, the solver consumes them and
 * hands back a Transaction or Problems as plain values too.
 *
 * Dependencies are kept as the strings rpm itself prints (`foo >= 1.2-3`,
 * `(a if b)`, `/usr/bin/sh`), so every producer (rpm-md XML, rpm headers,
 * rpmdb) can fill them without knowing libsolv ids.
 */

/** `name-[epoch:]version-release.arch`, epoch omitted when 0/absent. */
export type { Nevra } from '../nevra.js';
import type { Nevra } from '../nevra.js';

/** One package as the solver sees it. Arrays may be empty; never undefined. */
export interface PackageRecord {
  name: string;
  /** 0 when the package has no epoch. */
  epoch: number;
  version: string;
  release: string;
  arch: string;
  provides: string[];
  /** Plain requires; pre-requires (`Requires(pre)`) go to `prerequires`. */
  requires: string[];
  prerequires: string[];
  conflicts: string[];
  obsoletes: string[];
  recommends: string[];
  suggests: string[];
  supplements: string[];
  enhances: string[];
  /** File paths the package ships that should act as provides (primary's subset or full filelists). */
  files: string[];
  /** Optional payload facts carried through to the transaction for display and fetching. */
  summary?: string;
  /** Location relative to the repo's baseurl (rpm-md `location href`). */
  location?: string;
  /** Download size in bytes. */
  downloadSize?: number;
  /** Installed size in bytes. */
  installSize?: number;
  /** Package checksum as `type:hex` (rpm-md `checksum`). */
  checksum?: string;
  /** rpm build time (seconds since epoch). */
  buildTime?: number;
  /** Source rpm file name. */
  sourceRpm?: string;
}

/** How a repo's packages are handed to the pool. */
export type RepoSource =
  | { kind: 'records'; records: Iterable<PackageRecord> }
  /** A `.solv` file as written by libsolv's repo_write (ours or rpmmd2solv's). */
  | { kind: 'solv'; bytes: Uint8Array }
  /**
   * The same read from a file by libsolv in chunks: the file is never held whole in memory
   * (the 63k-package cache is 10 MB; as bytes it sat twice in the peak RSS).
   */
  | { kind: 'solv-file'; path: string }
  /**
   * Decompressed rpm-md XML parsed by libsolv's own reader inside the wasm module
   * (repo_add_rpmmd); the rival of the TypeScript parser in repos/.
   */
  | { kind: 'rpmmd'; primary: Uint8Array; filelists?: Uint8Array };

export interface RepoOptions {
  /** Higher wins (libsolv priority). dnf's `priority=` is inverted by the caller: lower dnf number -> higher here. */
  priority?: number;
  /** Tie-breaker within equal priority; lower is preferred (dnf `cost`). */
  subpriority?: number;
}

/** What a job selects. */
export type Selector =
  /** A package name, exactly (`openssl`). */
  | { by: 'name'; name: string }
  /** Anything providing this dependency (`libssl.so.3()(64bit)`, `/usr/bin/sh`, `webserver`). */
  | { by: 'provides'; dep: string }
  /** An exact NEVRA (`openssl-1:3.0.7-1.el9.x86_64`). */
  | { by: 'nevra'; nevra: string }
  /**
   * dnf-style spec: tries name, then NEVRA / name-version forms, then provides, then file path.
   * `obsoleters`: when the spec names packages (a name or a name glob), packages whose
   * Obsoletes match them are candidates too, as dnf's install by name (the solver prefers them).
   */
  | { by: 'spec'; spec: string; obsoleters?: boolean }
  /** One specific package previously returned by the solver (repo name + NEVRA). */
  | { by: 'package'; repo: string; nevra: string };

export type JobAction =
  | 'install'
  | 'erase'
  | 'update'
  | 'distupgrade'
  | 'lock'
  | 'favor'
  | 'disfavor'
  | 'exclude'
  /** Packages that install beside other versions of their name (dnf installonlypkgs; SOLVER_MULTIVERSION). */
  | 'multiversion'
  /** Never pulled in as a weak dependency (dnf exclude_from_weak; SOLVER_EXCLUDEFROMWEAK). */
  | 'exclude-from-weak';

export interface Job {
  action: JobAction;
  /** `update`/`distupgrade` without a selector mean "all". */
  select?: Selector;
  /** Let erase take packages that depend on the target with it (libsolv SOLVER_CLEANDEPS). */
  cleandeps?: boolean;
  /** Job is a wish, not a must (SOLVER_WEAK). */
  weak?: boolean;
}

export interface SolveFlags {
  /** Only the best (newest) candidates are acceptable (SOLVER_FORCEBEST on install/update jobs). */
  best?: boolean;
  allowDowngrade?: boolean;
  allowUninstall?: boolean;
  allowVendorChange?: boolean;
  /** Do not pull in recommends/supplements (dnf install_weak_deps=False). */
  ignoreWeakDeps?: boolean;
}

export type StepKind = 'install' | 'erase' | 'upgrade' | 'downgrade' | 'reinstall' | 'obsoleted';

export type StepReason = 'requested' | 'dependency' | 'weak-dependency' | 'cleanup' | 'unknown';

export interface PackageRef {
  nevra: Nevra;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** Name the repo was added with. */
  repo: string;
}

/**
 * One step. Removal set of a transaction = `erase` steps + `obsoleted` steps + every `replaces`
 * entry (the same package can appear twice: an `obsoleted` step for the old package follows the
 * step of the new package that obsoletes it, as dnf lists them).
 */
export interface TransactionStep {
  /**
   * `install` also covers a new name that replaces installed packages through Obsoletes
   * (those are in `replaces`); `obsoleted` steps name the removed old package in `pkg` and the
   * obsoleting one in `obsoletedBy`.
   */
  kind: StepKind;
  pkg: PackageRef;
  /** For upgrade/downgrade/reinstall/obsoleted: the installed package being replaced. */
  replaces?: PackageRef[];
  /** For `obsoleted` steps: the new package whose Obsoletes removes `pkg`. */
  obsoletedBy?: PackageRef;
  reason: StepReason;
}

/** A weak dependency the solver left out because the result would not satisfy its Requires. */
export interface LeftOutWeak {
  pkg: PackageRef;
  /** Its first Requires that nothing in the result provides, as rpm writes it. */
  dep: string;
}

/** Steps in rpm install order (libsolv transaction_order). */
export interface Transaction {
  steps: TransactionStep[];
  /** Uninstallable weak picks dropped on the way (see exclude_unmet in wasm/shim_solve.c). */
  leftOut?: LeftOutWeak[];
}

/** Raw libsolv rule kinds we render; the record is data, the CLI turns it into words. */
export interface ProblemRule {
  /** e.g. 'nothing-provides', 'conflicts', 'obsoletes', 'not-installable', 'job-unknown-package', ... */
  type: string;
  /** Plain sentence as dnf/libsolv prints it ("nothing provides X needed by Y"). */
  text: string;
  source?: PackageRef;
  target?: PackageRef;
  dep?: string;
}

export interface SolutionElement {
  text: string;
}

export interface Problem {
  /** One-line summary (libsolv's problem2str). */
  text: string;
  /** Set when the problem is a job that matched nothing (`package foo does not exist`). */
  code?: 'LAYER_NO_MATCH';
  rules: ProblemRule[];
  /** Each solution is a set of alternative changes ("do not ask to install X", "allow deinstallation of Y"). */
  solutions: SolutionElement[][];
}

export type SolveResult =
  | { ok: true; transaction: Transaction }
  | { ok: false; problems: Problem[] };
