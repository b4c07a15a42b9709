/** The engine's request and result: plain data the CLI builds and renders. */
import type { Plan, PlanStep, ProvidedRequest } from '../compose/index.js';
import type { Nevra } from '../nevra.js';
import type { EventData, Report } from '../report.js';
import type { Checksum } from '../store/index.js';
import type { ImportedKey } from '../trust/index.js';
import type { Deployment, EtcChanges, LockWaitHolder } from '../sysroot/index.js';
import type { AdvisorySelection } from './advisory-filter.js';
import type { Lockfile } from './lockfile.js';
import type { RemoteTrust } from './sources/remote-verify.js';

export interface EngineOptions {
  dryRun?: boolean;
  downloadOnly?: boolean;
  cacheOnly?: boolean;
  /** Asking for what is already requested (or removing what is not) is not an error. */
  idempotent?: boolean;
  /** Allow requesting packages the base already provides (recorded, not layered). */
  allowInactive?: boolean;
  replaceFiles?: boolean;
  ignoreWeakDeps?: boolean;
  /** Seconds to wait for another transaction's lock; undefined waits as long as it takes, 0 fails at once. */
  lockTimeout?: number;
  /** Per-scriptlet time limit in seconds (default 300). */
  scriptletTimeout?: number;
  /** dnf's best: only the newest version of a requested package (--best; --nobest is the default). */
  best?: boolean;
  /** dnf's exclude_from_weak: specs (names, globs) never installed as weak dependencies. */
  excludeFromWeak?: string[];
  /** dnf's --skip-broken: requested specs that cannot be installed are left out with a warning. */
  skipBroken?: boolean;
  /** dnf's installonly_limit: most versions of a kernel-like package in the tree (0: no limit; default 3). */
  installonlyLimit?: number;
  /** dnf's localpkg_gpgcheck: verify local .rpm files' signatures too (default off, as dnf). */
  localGpgcheck?: boolean;
  /** upgrade: accept a base commit older than the current one (rpm-ostree's --allow-downgrade). */
  allowDowngrade?: boolean;
  /** `version` metadata of composed commits; default: the base commit's, else a date (YYYYMMDD.N). */
  version?: string;
}

/** An HTTP archive repo to take the base from: recorded as OSTree remote `remote`, with the keys to verify it. */
export interface RemoteBase {
  url: string;
  ref: string;
  remote: string;
  trust?: RemoteTrust;
}

/** What a command asks of the request (request/verbs.ts does the edit). */
export type Change =
  /** `localRpms`: paths of local `.rpm` files (a recipe base keeps them in its recipe; on an OSTree base they are layered). */
  | { kind: 'init'; osname: string; packages: string[]; localRpms?: string[]; fromOstree?: string; fromRemote?: RemoteBase; fromOci?: string }
  | { kind: 'install'; packages: string[]; localRpms: string[] }
  | { kind: 'uninstall'; packages: string[] }
  /** A newer base (engine/upgrade.ts), the layered requests re-solved on it; `install`/`uninstall` edit them too. */
  | {
    kind: 'upgrade'; install: string[]; uninstall: string[]; unpin?: boolean;
    /** `--security` / `--advisory`: the layered packages move only as far as the chosen advisories require (advisory-filter.ts). */
    advisories?: AdvisorySelection;
  }
  /**
   * A given commit of the base's ref (checksum or `version=V`), pinned; layered requests re-solved
   * on it. No rev: the lockfile's (its base commit, or for a recipe base its snapshot).
   */
  | { kind: 'deploy'; rev?: string }
  /** Another OSTree ref (`REPO:REF`) as the base, layered requests carried. */
  | { kind: 'rebase'; ref: string; fromRemote?: RemoteBase }
  /** rpm-ostree's `override remove`: base packages (each name matching exactly one) left out of the tree. */
  | { kind: 'override-remove'; packages: string[] }
  /** rpm-ostree's `override replace FILE.rpm`: base packages replaced by local packages. */
  | { kind: 'override-replace'; localRpms: string[] }
  /** rpm-ostree's `override replace --from repo=NAME PKG…`: base packages replaced by the version repo NAME has. */
  | { kind: 'override-replace-repo'; repo: string; packages: string[] }
  /** rpm-ostree's `override reset`: overrides dropped (by package name, or all). */
  | { kind: 'override-reset'; packages: string[] | 'all' };

export interface EngineRequest {
  sysroot: string;
  change: Change;
  /** Repo files directory; default: the current deployment's /etc/yum.repos.d. */
  reposdir?: string;
  arch?: string;
  options: EngineOptions;
  report: Report;
  /** The command line, recorded in the lock so a second `layer` can name it. */
  command: string;
  /**
   * Shown the plan right after the solve, before anything is downloaded, imported, committed
   * or deployed (never for dry runs or unchanged results). false aborts: outcome `aborted`,
   * nothing written.
   */
  confirm?: ((plan: Plan) => Promise<boolean>) | undefined;
  /**
   * Asked before a repo's gpgkey is imported to verify a package (dnf's "Importing GPG key"
   * question); absent: keys are imported and reported, as dnf -y does.
   */
  confirmKeyImport?: (key: ImportedKey) => Promise<boolean>;
  /** Pin the composition to a lockfile (engine/lockfile.ts); `file` names it in errors. */
  lockfile?: { lock: Lockfile; file: string };
  /** Called with the plan's lockfile right after the solve, before anything is downloaded (`--lockfile-out`). */
  onLockfile?: (lock: Lockfile) => void;
  /** Called when the sysroot lock is held by another transaction and this one waits. */
  onLockWait?: (holder: LockWaitHolder) => void;
  /**
   * Checks the new deployment must pass before it becomes the default (`upgrade --smoke`,
   * `--health-check`): it is written not-as-default, `gate` runs in it, and it is promoted
   * only when `gate` resolves true; otherwise it stays held (result `held: true`).
   */
  gate?: (deployment: Deployment) => Promise<boolean>;
}

export interface PackageDiff {
  added: Nevra[];
  removed: Nevra[];
  upgraded: { from: Nevra; to: Nevra }[];
  downgraded: { from: Nevra; to: Nevra }[];
}

export interface EngineResult {
  /**
   * deployed: a new default deployment; unchanged: the result equals the current deployment
   * (exit 77 with --unchanged-exit-77); aborted: `confirm` said no, nothing was written.
   */
  outcome: 'deployed' | 'unchanged' | 'dry-run' | 'downloaded' | 'aborted';
  /** The plan (absent only when nothing was composed: a bare --from-ostree init). */
  plan?: Plan;
  /** The change against the current deployment (Plan.changes): what the user is shown and asked about. */
  steps: PlanStep[];
  alreadyProvided: ProvidedRequest[];
  commit?: Checksum;
  deployment?: Deployment;
  previous?: Deployment;
  diff?: PackageDiff;
  etc?: EtcChanges;
  removedDeployments?: string[];
  /** The deployment was written but not made the default: `gate` said no (sysroot/held.ts). */
  held?: boolean;
  /** Milliseconds per stage (refresh, load, solve, download, verify, import, checkout, ...). */
  timings: Record<string, number>;
  /** Every scriptlet that ran: package, kind, duration, output. */
  scriptlets: EventData[];
  /** Warnings, as records. */
  warnings: { code: string; message: string; data?: EventData }[];
}
