/**
 * Solving a compose request against the base's installed set.
 *
 * Base packages are locked by default (a `lock` job per installed package), so a request can
 * only add packages. When the locked solve fails, the same request is solved unlocked: if that
 * succeeds by changing base packages, the failure is LAYER_BASE_LOCKED naming the base
 * package and the requested item that forces the change (each requested item is solved alone
 * to find it) — the culprit rpm-ostree users are never told.
 */
import { LayerError } from '../errors.js';
import { nameOf } from '../nevra.js';

/** What to do about a locked base package the repos have newer (upgrade lands with `layer upgrade`). */
export const BASE_LOCKED_HINT = 'upgrade the base to get it (the base image decides base packages), or request a package that fits the base';

/** The words for a base package the repos have in a newer version (one message for every spelling). */
export function baseLockedMessage(base: string, newer: string): string {
  return `base has ${base}; ${newer} is available but the base is locked`;
}
import type { Report } from '../report.js';
import type { Job, Pool, Problem, SolveFlags, Transaction, TransactionStep } from '../solver/index.js';
import type { BaseSet } from './base.js';

export interface Wanted {
  /** What the user typed (spec) or the local file's NEVRA. */
  label: string;
  job: Job;
  /** Jobs to try instead, in order, when `job` cannot be installed and `best` is off (a version glob's older matches). */
  older?: Job[];
}

export interface SolveInput {
  pool: Pool;
  base: BaseSet;
  wanted: Wanted[];
  /** Base package names to erase. */
  remove: string[];
  /** Base package names a local replacement stands in for (`override replace`): not locked. */
  replace?: string[];
  allowBaseChanges: boolean;
  flags: SolveFlags;
  /** Repo packages kept out of the solve (`exclude` jobs: `upgrade --security`). */
  exclude?: Job[];
  /** Capabilities whose providers install beside other versions of their name (dnf's installonlypkgs). */
  installonly?: readonly string[];
  /** Specs (names, globs) never pulled in as weak dependencies (dnf's exclude_from_weak). */
  excludeFromWeak?: readonly string[];
}

/** Steps that change a base package: [base nevra, how, by which new package]. */
function baseChanges(steps: readonly TransactionStep[]): { base: string; how: string; by?: string }[] {
  const out: { base: string; how: string; by?: string }[] = [];
  for (const s of steps) {
    if (s.kind === 'erase' && s.pkg.repo === '@System') out.push({ base: s.pkg.nevra, how: 'remove' });
    else if (s.kind === 'obsoleted') out.push({ base: s.pkg.nevra, how: 'replace (obsoleted)', by: s.obsoletedBy?.nevra });
    else for (const r of s.replaces ?? []) if (r.repo === '@System') out.push({ base: r.nevra, how: s.kind === 'install' ? 'replace' : s.kind, by: s.pkg.nevra });
  }
  return out;
}

function problemText(problems: readonly Problem[]): string {
  return problems.map((p) => `  - ${p.text}${p.rules.length ? `\n${p.rules.map((r) => `      ${r.text}`).join('\n')}` : ''}`).join('\n');
}

/**
 * The steps of an accepted transaction. A weak dependency the solver left out because the
 * result could not satisfy its Requires (libsolv 0.7.23 picks such a package for a rich
 * `Recommends: (A if B else C)`; newer libsolv does not) is warned about, since dnf 4.14
 * would have failed the transaction on it.
 */
function accepted(t: Transaction, report: Report | undefined): TransactionStep[] {
  for (const l of t.leftOut ?? []) {
    report?.warn('solve.weak-left-out', `weak dependency ${l.pkg.nevra} left out: it requires ${l.dep}, which nothing provides`, { package: l.pkg.nevra, requires: l.dep });
  }
  return t.steps;
}

/**
 * Solve; returns the steps in install order or throws LAYER_NO_MATCH / LAYER_UNSOLVABLE /
 * LAYER_BASE_LOCKED. `report` gets the warnings of the solve that is kept.
 */
export function solveRequest(input: SolveInput, report?: Report): TransactionStep[] {
  const { pool, base, wanted, remove } = input;
  const free = new Set([...remove, ...(input.replace ?? [])]);
  const overridden = (nevra: string) => [...free].some((n) => nevra.startsWith(`${n}-`));
  const removeJobs: Job[] = remove.map((name) => ({ action: 'erase', select: { by: 'name', name } }));
  for (const name of remove) {
    if (!base.packages.some((p) => p.name === name)) {
      throw new LayerError('LAYER_NO_MATCH', `cannot remove ${name}: the base has no package of that name`);
    }
  }
  const sys = pool.repos.find((r) => r.name === '@System');
  const locks: Job[] = input.allowBaseChanges || !sys
    ? []
    : sys.packages().filter((p) => !free.has(p.name)).map((p) => ({ action: 'lock', select: { by: 'package', repo: '@System', nevra: p.nevra } }));
  const multiversion: Job[] = (input.installonly ?? []).map((dep) => ({ action: 'multiversion', select: { by: 'provides', dep } }));
  const notWeak: Job[] = (input.excludeFromWeak ?? []).map((spec) => ({ action: 'exclude-from-weak', select: { by: 'spec', spec } }));
  const jobs = [...wanted.map((w) => w.job), ...removeJobs, ...(input.exclude ?? []), ...multiversion, ...notWeak];
  // dnf's default allow_vendor_change=True: a base from one vendor may take repo packages from another.
  // A local replacement may be older than the base's version; every other base package stays locked.
  const flags: SolveFlags = { ...input.flags, allowUninstall: false, allowVendorChange: true, ...(input.replace?.length ? { allowDowngrade: true } : {}) };
  const res = pool.solve([...jobs, ...locks], flags);
  if (res.ok) {
    const changes = baseChanges(res.transaction.steps).filter((c) => !overridden(c.base));
    if (changes.length === 0 || input.allowBaseChanges) return accepted(res.transaction, report);
  } else if (res.problems.some((p) => p.code === 'LAYER_NO_MATCH')) {
    const missing = res.problems.filter((p) => p.code === 'LAYER_NO_MATCH').map((p) => p.rules[0]?.dep ?? p.text);
    throw new LayerError('LAYER_NO_MATCH', `no package matches ${missing.join(', ')}`, {
      hint: 'check the name, or whether the repo that has it is enabled', data: { missing },
    });
  }
  if (locks.length > 0) {
    // Would the request work if the base could change? Then the lock is the reason: name it.
    const unlocked = pool.solve(jobs, { ...flags, allowDowngrade: true });
    const changes = unlocked.ok ? baseChanges(unlocked.transaction.steps).filter((c) => !overridden(c.base)) : [];
    if (changes.length > 0) {
      const c = changes[0]!;
      const culprit = wanted.find((w) => {
        const alone = pool.solve([w.job, ...multiversion], { ...flags, allowDowngrade: true });
        return alone.ok && baseChanges(alone.transaction.steps).some((x) => x.base === c.base);
      });
      const who = culprit ? `installing ${culprit.label}` : `the request (${wanted.map((w) => w.label).join(', ')})`;
      // The user spelled the base package itself (name-version…): the same words as for the bare name.
      const base = nameOf(c.base);
      const spelled = culprit !== undefined && (culprit.label === base || (culprit.label.startsWith(`${base}-`) && /^\d/.test(culprit.label.slice(base.length + 1))));
      if (c.by && spelled && (c.how === 'upgrade' || c.how === 'replace') && nameOf(c.by) === base) {
        throw new LayerError('LAYER_BASE_LOCKED', `${who}: ${baseLockedMessage(c.base, c.by)}`, { hint: BASE_LOCKED_HINT });
      }
      throw new LayerError(
        'LAYER_BASE_LOCKED',
        `${who} would ${c.how} base package ${c.base}${c.by ? ` with ${c.by}` : ''}; base packages are locked`,
        { hint: 'pick a version that fits the base, update the base image, or allow base changes (override)' },
      );
    }
  }
  if (res.ok) return accepted(res.transaction, report);
  throw new LayerError('LAYER_UNSOLVABLE', `cannot install ${wanted.map((w) => w.label).join(', ') || 'the request'}:\n${problemText(res.problems)}`, {
    hint: 'the packages named above need something the enabled repos and the base do not provide',
  });
}
