/**
 * `layer upgrade --security` / `--advisory ID`: which repo packages an upgrade may take, with
 * dnf 4.14's semantics (`dnf upgrade --security`, checked on the v1→v2→v3 fixtures):
 *
 * - The advisories chosen: security ones (`--security`) and those named (`--advisory`, any
 *   type), united, and of those only the ones that apply to the current tree (a package they
 *   list is newer than the installed one of the same name and arch).
 * - A package already in the tree may only move to a version at least as new as one such an
 *   advisory lists (dnf's `advisory__eqg__gt__upgrade` filter: the newest such version wins,
 *   not the advisory's own; that is `upgrade-minimal`); otherwise it keeps its installed version.
 * - Names not in the tree (new dependencies) are not restricted, as dnf's solver pulls them freely.
 *
 * Where it applies: a recipe base's packages and the layered ones (engine/upgrade.ts); on an
 * OSTree-ref base the layered ones only (engine/engine.ts): the new image is taken whole.
 *
 * Difference from dnf: a recipe base and the layered packages are composed again from the
 * repos, so a kept package must still be in an enabled repo (dnf keeps it from the rpmdb); and
 * an installed dependency that a chosen upgrade needs newer is not upgraded past the filter
 * (dnf would): both end in a clear error instead of a partial upgrade.
 */
import { LayerError } from '../errors.js';
import { compareEvr, formatEvr } from '../nevra.js';
import type { RepoSet } from '../repos/index.js';
import type { PlanContext } from '../compose/types.js';
import type { Report } from '../report.js';
import type { PackageRef } from '../solver/index.js';
import type { Advisory, InstalledLike } from '../repos/updateinfo.js';
import { applicable } from '../repos/updateinfo.js';
import { repoAdvisories } from './advisories.js';

export interface AdvisorySelection {
  /** Every applicable security advisory (`--security`). */
  security?: boolean;
  /** Advisory ids (`--advisory`), of any type. */
  ids?: readonly string[];
}

/** True when the selection restricts the upgrade at all. */
export function selects(s: AdvisorySelection | undefined): s is AdvisorySelection {
  return s !== undefined && (s.security === true || (s.ids?.length ?? 0) > 0);
}

/** The chosen advisories that apply to `installed`; an id no repo publishes is warned about (dnf says nothing). */
export function chooseAdvisories(
  all: readonly Advisory[], sel: AdvisorySelection, installed: readonly InstalledLike[], report: Report,
): Advisory[] {
  const ids = new Set(sel.ids ?? []);
  for (const id of ids) {
    if (!all.some((a) => a.id === id)) {
      report.warn('upgrade.advisory-unknown', `no enabled repo publishes advisory ${id}`, { advisory: id });
    }
  }
  const chosen = all.filter((a) => (sel.security === true && a.type === 'security') || ids.has(a.id));
  return applicable(chosen, installed);
}

/**
 * The keep-predicate for the repos' packages: a package of an installed name is kept when it
 * is the installed version or at least a version a chosen advisory lists for it.
 */
export function advisoryKeep(chosen: readonly Advisory[], installed: readonly InstalledLike[]): (p: PackageRef) => boolean {
  const have = new Map<string, string[]>();
  for (const p of installed) have.set(p.name, [...(have.get(p.name) ?? []), p.evr]);
  const fixes = new Map<string, { arch: string; evr: string }[]>();
  for (const a of chosen) {
    for (const p of a.packages) fixes.set(p.name, [...(fixes.get(p.name) ?? []), { arch: p.arch, evr: formatEvr(p) }]);
  }
  return (p) => {
    const evrs = have.get(p.name);
    if (evrs === undefined) return true;
    const evr = formatEvr(p);
    if (evrs.some((e) => compareEvr(e, evr) === 0)) return true;
    // noarch on either side matches any arch, as the applicability test (updateinfo.ts) does.
    const archOk = (arch: string) => arch === p.arch || arch === 'noarch' || p.arch === 'noarch';
    return (fixes.get(p.name) ?? []).some((f) => archOk(f.arch) && compareEvr(evr, f.evr) >= 0);
  };
}

/**
 * The keep-predicate of an upgrade restricted to advisories: the repos refreshed, their
 * updateinfo read, the chosen advisories recorded (`upgrade.advisories` event).
 */
export async function upgradeKeep(
  repos: RepoSet, sel: AdvisorySelection, installed: readonly InstalledLike[], o: { cacheOnly?: boolean; report: Report },
): Promise<(p: PackageRef) => boolean> {
  await repos.refresh(o.cacheOnly ? { cacheOnly: true } : {});
  const chosen = chooseAdvisories(await repoAdvisories(repos), sel, installed, o.report);
  o.report.record('upgrade.advisories', { security: sel.security === true, ids: [...(sel.ids ?? [])], applicable: chosen.map((a) => a.id) });
  return advisoryKeep(chosen, installed);
}

/**
 * Run `plan` with `ctx` restricted to the advisories `sel` chooses (no restriction without a
 * selection). The restriction stays on `ctx`, so every later plan with it is restricted alike.
 */
export async function restricted<T>(
  sel: AdvisorySelection | undefined, ctx: PlanContext, installed: readonly InstalledLike[], plan: () => Promise<T>,
): Promise<T> {
  if (!selects(sel)) return plan();
  ctx.keep = await upgradeKeep(ctx.repos, sel, installed, { cacheOnly: ctx.options.cacheOnly === true, report: ctx.report });
  try {
    return await plan();
  } catch (e) {
    throw restrictedSolveError(e);
  }
}

/** A failed restricted solve, with what the restriction asks of the repos. */
function restrictedSolveError(e: unknown): unknown {
  if (!(e instanceof LayerError) || (e.code !== 'LAYER_NO_MATCH' && e.code !== 'LAYER_UNSOLVABLE')) return e;
  return new LayerError(e.code, `upgrade restricted to advisories: ${e.message}`, {
    cause: e,
    hint: 'the layered packages (and a recipe base) are composed again from the repos: the kept versions must still be in an enabled repo '
      + '(enable the release repo beside the updates repo), and a needed newer dependency must be in a chosen advisory',
  });
}
