/**
 * The compose stage as the engine calls it (issue 6's contract with src/compose). Typed here
 * and loaded dynamically so the engine builds while compose is being written; once
 * `src/compose/index.ts` exports `composeTree`, `loadCompose` returns it.
 */
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { RepoSet } from '../repos/index.js';
import type { Nevra, StepKind, StepReason, PackageRef } from '../solver/types.js';
import type { Checksum, Store } from '../store/index.js';

export interface ComposeOptions {
  replaceFiles?: boolean;
  ignoreWeakDeps?: boolean;
  dryRun?: boolean;
  downloadOnly?: boolean;
  cacheOnly?: boolean;
  allowBaseChanges?: boolean;
}

export interface ComposeStep {
  kind: StepKind;
  reason: StepReason;
  pkg: PackageRef;
  replaces?: PackageRef[];
  downloadSize?: number;
  installSize?: number;
}

export interface ComposeInput {
  store: Store;
  base: { commit: Checksum } | null;
  install: string[];
  localRpms: string[];
  remove: string[];
  repos: RepoSet;
  arch: string;
  cacheDir: string;
  options: ComposeOptions;
  previous?: { commit: Checksum; inputDigest: string };
  report: Report;
}

export interface ComposeResult {
  transaction: { steps: ComposeStep[] };
  alreadyProvided: string[];
  commit?: Checksum;
  inputDigest: string;
  unchanged: boolean;
  packages: Nevra[];
  layered: Nevra[];
  timings?: unknown;
}

export type ComposeTree = (input: ComposeInput) => Promise<ComposeResult>;

let cached: ComposeTree | undefined;

export async function loadCompose(): Promise<ComposeTree> {
  if (cached) return cached;
  const spec = '../compose/index.js';
  let mod: { composeTree?: ComposeTree };
  try {
    mod = (await import(spec)) as { composeTree?: ComposeTree };
  } catch (err) {
    throw new LayerError('LAYER_INTERNAL', 'the compose stage (src/compose/index.ts) is not available in this build', { cause: err });
  }
  if (typeof mod.composeTree !== 'function') throw new LayerError('LAYER_INTERNAL', 'src/compose does not export composeTree');
  cached = mod.composeTree;
  return cached;
}
