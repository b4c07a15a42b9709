/**
 * The request: what a deployment asks for, as one value. The origin file reads and writes
 * it, compose takes it whole, the input digest and the commit metadata are made from it, and
 * every verb is a pure edit of it (verbs.ts) — a new verb is a new edit, not a new list
 * threaded through five files.
 */
import type { Checksum } from '../store/index.js';

/** A base package replaced by the newest version an enabled repo has (`override replace --from repo=NAME`). */
export interface RepoReplacement {
  /** The repo id (as in the `.repo` files). */
  repo: string;
  /** The base package's name. */
  name: string;
}

/** A local `.rpm` by content: the file's sha256 and the NEVRA it carries. */
export interface LocalPackage {
  sha256: string;
  nevra: string;
}

/**
 * A recipe base (`layer init PKG…`): the packages and repos the base was composed from, kept
 * so that the base can be composed again later against fresh metadata (upgrade).
 */
export interface Recipe {
  packages: string[];
  /** Ids of the repos the recipe was composed from (informational; repos come from the tree). */
  repos: string[];
  /**
   * Local `.rpm` files of the recipe (`layer init ./x.rpm`), by content: kept in the state dir
   * like layered local packages, so every recomposition of the base installs the same files.
   */
  local?: LocalPackage[];
}

export interface Request {
  /**
   * The base as the user named it: `<osname>/base` for a recipe base, `REPO:REF` for a local
   * OSTree ref (`--from-ostree`). With `recipe` set the base is a recipe base.
   */
  baseRef: string;
  /** The base commit the layered packages go on top of; '' before a recipe base is first composed. */
  baseCommit: Checksum;
  recipe?: Recipe;
  /** Package specs to layer (names, provides, file paths, NEVRAs), in request order. */
  requested: string[];
  requestedLocal: LocalPackage[];
  /** Base packages removed from the tree (by name). */
  removed: string[];
  /** Base packages replaced by local `.rpm` files (`override replace`), by content. */
  replacedLocal?: LocalPackage[];
  /** Base packages replaced from an enabled repo (`override replace --from repo=NAME PKG`), by name. */
  replacedFromRepo?: RepoReplacement[];
  /** The base was chosen by `layer deploy REV`: upgrade keeps it until `deploy --unpin` or a rebase. */
  pinned?: boolean;
}

/** The parts of a request that decide the composed tree, in a canonical order (for digests). */
export function canonicalRequest(r: Request): unknown {
  return {
    base: r.baseCommit,
    ...(r.recipe ? { recipe: [...r.recipe.packages].sort() } : {}),
    // Only when present: the digests of requests without recipe files stay what they were.
    ...(r.recipe?.local?.length ? { recipeLocal: r.recipe.local.map((l) => l.sha256).sort() } : {}),
    requested: [...r.requested].sort(),
    local: r.requestedLocal.map((l) => l.sha256).sort(),
    removed: [...r.removed].sort(),
    ...(r.replacedLocal?.length ? { replacedLocal: r.replacedLocal.map((l) => l.sha256).sort() } : {}),
    ...(r.replacedFromRepo?.length ? { replacedFromRepo: r.replacedFromRepo.map(repoReplacementText).sort() } : {}),
  };
}

/** Same request (what recomposition depends on), ignoring order. */
export function sameRequest(a: Request, b: Request): boolean {
  return JSON.stringify(canonicalRequest(a)) === JSON.stringify(canonicalRequest(b));
}

/** The specs compose installs: a base composed from nothing installs its recipe too. */
export function specsToInstall(r: Request): string[] {
  return r.baseCommit === '' && r.recipe ? [...r.recipe.packages, ...r.requested] : [...r.requested];
}

/**
 * The local packages compose installs: the layered ones, the base replacements, and for a base
 * composed from nothing the recipe's own files.
 */
export function localsToInstall(r: Request): LocalPackage[] {
  const recipe = r.baseCommit === '' ? r.recipe?.local ?? [] : [];
  return [...recipe, ...r.requestedLocal, ...(r.replacedLocal ?? [])];
}

/** A copy of a recipe (its lists copied; `local` only when it has items). */
export function copyRecipe(r: Recipe): Recipe {
  return { packages: [...r.packages], repos: [...r.repos], ...(r.local?.length ? { local: r.local.map((l) => ({ ...l })) } : {}) };
}

/** `REPO:NAME`, as the origin records a repo replacement (repo ids may hold ':', names do not). */
export function repoReplacementText(r: RepoReplacement): string {
  return `${r.repo}:${r.name}`;
}

/** The inverse of repoReplacementText, split at the last ':'; undefined when it has none. */
export function parseRepoReplacement(text: string): RepoReplacement | undefined {
  const i = text.lastIndexOf(':');
  if (i <= 0 || i === text.length - 1) return undefined;
  return { repo: text.slice(0, i), name: text.slice(i + 1) };
}
