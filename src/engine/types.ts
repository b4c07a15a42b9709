/** The engine's request and result: plain data the CLI builds and renders. */
import type { Report } from '../report.js';
import type { Nevra } from '../solver/types.js';
import type { Checksum } from '../store/index.js';
import type { Deployment, EtcChanges } from '../sysroot/index.js';
import type { ComposePlan, ComposeStep } from './compose-contract.js';

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
}

export type Change =
  | { kind: 'init'; osname: string; packages: string[]; fromOstree?: string }
  | { kind: 'install'; packages: string[]; localRpms: string[] }
  | { kind: 'uninstall'; packages: string[] };

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
   * Shown the solved plan right after the solve, before anything is downloaded, imported,
   * committed or deployed (never for dry runs). false aborts: outcome `aborted`, nothing written.
   */
  confirm?: ((plan: ComposePlan) => Promise<boolean>) | undefined;
}

export interface PackageDiff {
  added: Nevra[];
  removed: Nevra[];
  upgraded: { from: Nevra; to: Nevra }[];
  downgraded: { from: Nevra; to: Nevra }[];
}

export interface EngineResult {
  /**
   * deployed: a new default deployment; unchanged: nothing to do (exit 77 with
   * --unchanged-exit-77); aborted: `confirm` said no, nothing was written.
   */
  outcome: 'deployed' | 'unchanged' | 'dry-run' | 'downloaded' | 'aborted';
  steps: ComposeStep[];
  alreadyProvided: string[];
  commit?: Checksum;
  deployment?: Deployment;
  previous?: Deployment;
  diff?: PackageDiff;
  etc?: EtcChanges;
  removedDeployments?: string[];
  /** Section timings in ms. */
  timings: Record<string, number>;
}
