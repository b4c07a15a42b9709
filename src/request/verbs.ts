/**
 * Verbs as pure edits of a Request: each takes a request and returns a new one (or throws a
 * LayerError the user can act on). No I/O: local packages arrive already inspected.
 */
import { LayerError } from '../errors.js';
import { nameOf } from '../nevra.js';
import type { Checksum } from '../store/index.js';
import { copyRecipe, type LocalPackage, type Recipe, type RepoReplacement, type Request } from './request.js';

export interface EditOptions {
  /** Asking for what is already requested, or removing what is not, is not an error. */
  idempotent?: boolean;
}

function copy(r: Request): Request {
  return {
    ...r, requested: [...r.requested], requestedLocal: [...r.requestedLocal], removed: [...r.removed],
    ...(r.replacedLocal ? { replacedLocal: [...r.replacedLocal] } : {}),
    ...(r.replacedFromRepo ? { replacedFromRepo: r.replacedFromRepo.map((x) => ({ ...x })) } : {}),
    ...(r.recipe ? { recipe: copyRecipe(r.recipe) } : {}),
  };
}

/** A request for a new recipe base: the base is composed from `packages`. */
export function recipeRequest(osname: string, recipe: Recipe): Request {
  return { baseRef: `${osname}/base`, baseCommit: '' as Checksum, recipe: copyRecipe(recipe), requested: [], requestedLocal: [], removed: [] };
}

/** A request whose base is an existing commit (`--from-ostree REPO:REF`), layering `packages`. */
export function commitRequest(baseRef: string, commit: Checksum, packages: readonly string[] = []): Request {
  return { baseRef, baseCommit: commit, requested: [...packages], requestedLocal: [], removed: [] };
}

/** `install SPEC…` */
export function addPackages(r: Request, specs: readonly string[], o: EditOptions = {}): Request {
  const out = copy(r);
  for (const spec of specs) {
    if (out.requested.includes(spec)) {
      if (!o.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `package '${spec}' is already requested`, { hint: 'use --idempotent to ignore' });
      continue;
    }
    out.requested.push(spec);
  }
  return out;
}

/** `install FILE.rpm…`: the same file twice (same sha256) is one request. */
export function addLocalPackages(r: Request, locals: readonly (LocalPackage & { path?: string })[], o: EditOptions = {}): Request {
  const out = copy(r);
  for (const l of locals) {
    if (out.requestedLocal.some((x) => x.sha256 === l.sha256)) {
      if (!o.idempotent) {
        throw new LayerError('LAYER_ALREADY_REQUESTED', `local package ${l.nevra}${l.path ? ` (${l.path})` : ''} is already requested`, { hint: 'use --idempotent to ignore' });
      }
      continue;
    }
    out.requestedLocal.push({ sha256: l.sha256, nevra: l.nevra });
  }
  return out;
}

/** `uninstall NAME…`: a requested spec, or a local package by NEVRA or name. */
export function removePackages(r: Request, names: readonly string[], o: EditOptions = {}): Request {
  const out = copy(r);
  for (const p of names) {
    const i = out.requested.indexOf(p);
    const j = out.requestedLocal.findIndex((l) => l.nevra === p || nameOf(l.nevra) === p);
    if (i >= 0) out.requested.splice(i, 1);
    else if (j >= 0) out.requestedLocal.splice(j, 1);
    else if (!o.idempotent) {
      const all = [...r.requested, ...r.requestedLocal.map((l) => l.nevra)];
      throw new LayerError('LAYER_NOT_REQUESTED', `package '${p}' is not currently requested`, {
        hint: all.length > 0 ? `requested: ${all.join(', ')}` : 'nothing is layered',
      });
    }
  }
  return out;
}

/**
 * The base moves to `commit` (a recomposed recipe, a newer ref commit, another ref); layered
 * requests are kept. `recipe`: the new base's recipe, or null for a base that has none.
 */
export function setBase(r: Request, baseRef: string, commit: Checksum, recipe: Recipe | null): Request {
  const out = copy(r);
  out.baseRef = baseRef;
  out.baseCommit = commit;
  if (recipe) out.recipe = copyRecipe(recipe);
  else delete out.recipe;
  return out;
}

/** `override remove NAME…`: base packages (by name) the tree will not have. */
export function addBaseRemovals(r: Request, names: readonly string[], o: EditOptions = {}): Request {
  const out = copy(r);
  for (const n of names) {
    if (out.removed.includes(n)) {
      if (!o.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `Override already exists for package '${n}'`, { hint: 'use --idempotent to ignore' });
      continue;
    }
    out.removed.push(n);
  }
  return out;
}

/** `override reset NAME…` / `--all`: the base packages come back as the base has them. */
export function resetOverrides(r: Request, names: readonly string[] | 'all', o: EditOptions = {}): Request {
  const out = copy(r);
  if (names === 'all') {
    out.removed = [];
    delete out.replacedLocal;
    delete out.replacedFromRepo;
    return out;
  }
  for (const n of names) {
    const i = out.removed.indexOf(n);
    const j = (out.replacedLocal ?? []).findIndex((l) => nameOf(l.nevra) === n || l.nevra === n);
    const k = (out.replacedFromRepo ?? []).findIndex((x) => x.name === n);
    if (i >= 0) out.removed.splice(i, 1);
    else if (j >= 0) out.replacedLocal?.splice(j, 1);
    else if (k >= 0) out.replacedFromRepo?.splice(k, 1);
    else if (!o.idempotent) throw new LayerError('LAYER_NOT_REQUESTED', `No overrides for package '${n}'`, { hint: overriddenHint(out) });
  }
  if (out.replacedFromRepo?.length === 0) delete out.replacedFromRepo;
  return out;
}

function overriddenHint(r: Request): string {
  const all = [...r.removed, ...(r.replacedLocal ?? []).map((l) => nameOf(l.nevra)), ...(r.replacedFromRepo ?? []).map((x) => x.name)];
  return all.length ? `overridden: ${all.join(', ')}` : 'nothing is overridden';
}

/** `override replace FILE.rpm…`: base packages replaced by local packages (by content). */
export function addLocalReplacements(r: Request, locals: readonly LocalPackage[], o: EditOptions = {}): Request {
  const out = copy(r);
  const list = out.replacedLocal ?? [];
  for (const l of locals) {
    if (list.some((x) => x.sha256 === l.sha256)) {
      if (!o.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `Override already exists for package '${l.nevra}'`, { hint: 'use --idempotent to ignore' });
      continue;
    }
    // One replacement per base package: a newer file for the same name supersedes the older one.
    const same = list.findIndex((x) => nameOf(x.nevra) === nameOf(l.nevra));
    if (same >= 0) list.splice(same, 1);
    list.push({ sha256: l.sha256, nevra: l.nevra });
    out.replacedFromRepo = out.replacedFromRepo?.filter((x) => x.name !== nameOf(l.nevra));
  }
  out.replacedLocal = list;
  if (!out.replacedFromRepo?.length) delete out.replacedFromRepo;
  return out;
}

/**
 * `override replace --from repo=REPO NAME…`: base packages replaced by the version REPO has. A
 * base package has one replacement: this one supersedes a local file or another repo's.
 */
export function addRepoReplacements(r: Request, repo: string, names: readonly string[], o: EditOptions = {}): Request {
  const out = copy(r);
  const list: RepoReplacement[] = out.replacedFromRepo ?? [];
  for (const name of names) {
    const same = list.findIndex((x) => x.name === name);
    if (same >= 0 && list[same]?.repo === repo) {
      if (!o.idempotent) throw new LayerError('LAYER_ALREADY_REQUESTED', `Override already exists for package '${name}'`, { hint: 'use --idempotent to ignore' });
      continue;
    }
    if (same >= 0) list.splice(same, 1);
    list.push({ repo, name });
    out.replacedLocal = out.replacedLocal?.filter((l) => nameOf(l.nevra) !== name);
    if (!out.replacedLocal?.length) delete out.replacedLocal;
  }
  out.replacedFromRepo = list;
  return out;
}
