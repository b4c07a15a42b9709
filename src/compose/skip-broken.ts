/**
 * When the whole request cannot be solved, what dnf 4.14 does before giving up:
 *
 * - **Fallback to an older match** (dnf without `best`): a version-glob spec
 *   (`kernel-*.0-1.noarch`) whose newest match cannot be installed takes the newest of its
 *   older matches that can, with a warning (`request.not-best`; dnf lists the newest under
 *   "Skipping packages with broken dependencies"). With `best` the request fails, as in dnf.
 * - **`--skip-broken`** (dnf's strict=False): a requested spec that cannot be installed —
 *   nothing matches it, or it cannot be resolved alone against the locked base and the repos —
 *   is left out with a warning (`request.skipped`). Specs that are installable alone but not
 *   together (two that conflict) are kept in request order and the later one is skipped: dnf
 *   keeps the first of `install a b` and skips b ("Skipping packages with conflicts").
 *
 * Only a failed solve costs extra solves. A skipped spec is not recorded in the request: the
 * next change would only skip it again. Local packages are never skipped (the user handed over
 * that very file).
 */
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { Job, TransactionStep } from '../solver/index.js';
import { solveRequest, type SolveInput, type Wanted } from './solve.js';

export interface SkippedRequest {
  spec: string;
  /** The error's first line: why the spec cannot be installed. */
  why: string;
}

const SKIPPABLE = new Set(['LAYER_NO_MATCH', 'LAYER_UNSOLVABLE', 'LAYER_BASE_LOCKED']);

/**
 * Why `wanted` cannot be solved, or undefined when it can; other errors are thrown. One line:
 * the error's first line and the solver's problems, without the rules behind each (dnf's
 * "Problem:" lines).
 */
function failure(input: SolveInput, wanted: Wanted[], alone = true): string | undefined {
  try {
    solveRequest({ ...input, wanted, ...(alone ? { remove: [], replace: [] } : {}) });
    return undefined;
  } catch (err) {
    if (!(err instanceof LayerError) || !SKIPPABLE.has(err.code)) throw err;
    const [head = '', ...rest] = err.message.split('\n');
    const problems = rest.filter((l) => /^\s+- /.test(l)).map((l) => l.replace(/^\s+- /, '').trim());
    return problems.length ? `${head} ${problems.join('; ')}` : head;
  }
}

/** The problems of a failure() text, without its "cannot install A, B:" head. */
function problemsOf(why: string): string {
  return why.replace(/^cannot install .*?: (?=\S)/, '');
}

/** `report` only for a solve whose result is used: its warnings (weak dependencies left out) are the user's. */
function solvedOrSkippable(input: SolveInput, report?: Report): TransactionStep[] | LayerError {
  try {
    return solveRequest(input, report);
  } catch (err) {
    if (err instanceof LayerError && SKIPPABLE.has(err.code)) return err;
    throw err;
  }
}

/** Solve; without `best`, fall back to older glob matches; with `skipBroken`, leave out what cannot be installed. */
export function solveSkippingBroken(
  input: SolveInput, skipBroken: boolean, report: Report,
): { steps: TransactionStep[]; skipped: SkippedRequest[] } {
  const first = solvedOrSkippable(input, report);
  if (!(first instanceof LayerError)) return { steps: first, skipped: [] };
  const fallen = input.flags.best ? input : { ...input, wanted: fallenBack(input, report) };
  const again = fallen === input ? first : solvedOrSkippable(fallen, report);
  if (!(again instanceof LayerError)) return { steps: again, skipped: [] };
  if (!skipBroken) throw again;
  return skipBrokenSpecs(fallen, report);
}

function nevraOf(job: Job): string {
  return job.select?.by === 'package' ? job.select.nevra : '';
}

/** `input.wanted` with each version-glob job that cannot be installed alone replaced by its newest older match that can. */
function fallenBack(input: SolveInput, report: Report): Wanted[] {
  return input.wanted.map((w) => {
    if (!w.older?.length) return w;
    const why = failure(input, [w]);
    if (why === undefined) return w;
    const alt = w.older.find((job) => failure(input, [{ label: w.label, job }]) === undefined);
    if (!alt) return w;
    const [skipped, taken] = [nevraOf(w.job), nevraOf(alt)];
    report.warn('request.not-best', `${w.label}: installing ${taken}, not the newest match ${skipped}: ${problemsOf(why)}`, { spec: w.label, skipped, taken, why });
    return { label: w.label, job: alt };
  });
}

/** --skip-broken: specs that fail alone go; then, in request order, a spec that fails beside the kept ones goes. */
function skipBrokenSpecs(input: SolveInput, report: Report): { steps: TransactionStep[]; skipped: SkippedRequest[] } {
  const skipped: SkippedRequest[] = [];
  const skippable = (w: Wanted) => w.job.select?.by === 'spec' || w.older !== undefined;
  const alone: Wanted[] = [];
  for (const w of input.wanted) {
    const why = skippable(w) ? failure(input, [w]) : undefined;
    if (why === undefined) alone.push(w);
    else skipped.push({ spec: w.label, why });
  }
  let kept = alone;
  if (solvedOrSkippable({ ...input, wanted: kept }) instanceof LayerError) {
    // Each installable alone, not all together: the earlier requests win, as in dnf.
    kept = alone.filter((w) => !skippable(w));
    for (const w of alone.filter(skippable)) {
      const why = failure(input, [...kept, w], false);
      if (why === undefined) kept.push(w);
      else skipped.push({ spec: w.label, why: `cannot be installed together with the requests before it: ${problemsOf(why)}` });
    }
    kept = alone.filter((w) => kept.includes(w));
  }
  for (const s of skipped) {
    report.warn('request.skipped', `skipping ${s.spec} (--skip-broken): ${s.why}`, { spec: s.spec, why: s.why });
  }
  return { steps: solveRequest({ ...input, wanted: kept }, report), skipped };
}
