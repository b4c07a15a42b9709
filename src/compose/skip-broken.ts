/**
 * dnf's `--skip-broken` (strict=False) for layering: a requested spec that cannot be installed —
 * nothing matches it, or it cannot be resolved against the locked base and the repos — is left
 * out with a warning and the rest goes on. Only when the whole request fails is each spec solved
 * alone to find the broken ones (no extra solves otherwise). A skipped spec is not recorded in
 * the request: the next change would only skip it again. Local packages are never skipped (the
 * user handed over that very file). Requests that fail only together still fail, naming them.
 */
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { TransactionStep } from '../solver/index.js';
import { solveRequest, type SolveInput, type Wanted } from './solve.js';

export interface SkippedRequest {
  spec: string;
  /** The error's first line: why the spec alone cannot be installed. */
  why: string;
}

const SKIPPABLE = new Set(['LAYER_NO_MATCH', 'LAYER_UNSOLVABLE', 'LAYER_BASE_LOCKED']);

function failure(input: SolveInput, w: Wanted): string | undefined {
  try {
    solveRequest({ ...input, wanted: [w], remove: [], replace: [] });
    return undefined;
  } catch (err) {
    if (err instanceof LayerError && SKIPPABLE.has(err.code)) return err.message.split('\n').join(' ').replace(/\s+/g, ' ');
    throw err;
  }
}

/** Solve; with `skipBroken`, leave out the specs that fail alone (warned) and solve the rest. */
export function solveSkippingBroken(
  input: SolveInput, skipBroken: boolean, report: Report,
): { steps: TransactionStep[]; skipped: SkippedRequest[] } {
  try {
    return { steps: solveRequest(input, report), skipped: [] };
  } catch (err) {
    if (!skipBroken || !(err instanceof LayerError) || !SKIPPABLE.has(err.code)) throw err;
  }
  const skipped: SkippedRequest[] = [];
  const kept: Wanted[] = [];
  for (const w of input.wanted) {
    const why = w.job.select?.by === 'spec' ? failure(input, w) : undefined;
    if (why === undefined) kept.push(w);
    else skipped.push({ spec: w.label, why });
  }
  for (const s of skipped) {
    report.warn('request.skipped', `skipping ${s.spec} (--skip-broken): ${s.why}`, { spec: s.spec, why: s.why });
  }
  return { steps: solveRequest({ ...input, wanted: kept }, report), skipped };
}
