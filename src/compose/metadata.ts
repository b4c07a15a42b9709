/**
 * The commit metadata of a composed tree: the request whole (so the deployment can be composed
 * again, and a recipe base recomposed), the package set, the repos it saw, the input digest,
 * and `version` (what `status` shows).
 */
import { V, Variant, type GValue } from '../store/index.js';
import { COMPOSE_KEYS, type Plan } from './types.js';

export function buildMetadata(plan: Plan, version?: string): [string, Variant][] {
  const { request } = plan;
  const repos: GValue[] = plan.repos.map((r) => [r.id, r.digest, r.revision, BigInt(r.timestamp)]);
  const out: [string, Variant][] = [
    [COMPOSE_KEYS.requested, V.strings(request.requested)],
    [COMPOSE_KEYS.localRpms, V.strings(plan.locals.map((l) => l.nevra))],
    [COMPOSE_KEYS.removed, V.strings(request.removed)],
    [COMPOSE_KEYS.packages, V.strings(plan.packages)],
    [COMPOSE_KEYS.layered, V.strings(plan.layered)],
    [COMPOSE_KEYS.base, V.string(plan.base.commit ?? '')],
    // (id, repomd.xml sha256, repomd revision, primary timestamp)
    [COMPOSE_KEYS.repos, new Variant('a(ssst)', repos)],
    [COMPOSE_KEYS.inputDigest, V.string(plan.inputDigest)],
    // The pin (`layer deploy`) is the origin's choice, not the tree's: left out, so a pinned
    // deployment's commit is the one the same composition gives unpinned (lockfile checksums).
    [COMPOSE_KEYS.request, V.string(JSON.stringify({ ...request, pinned: undefined }))],
  ];
  if (request.recipe) out.push([COMPOSE_KEYS.recipe, V.strings(request.recipe.packages)]);
  // The recipe's local files by content (sha256:NEVRA), as the origin records them.
  if (request.recipe?.local?.length) out.push([COMPOSE_KEYS.recipeLocal, V.strings(request.recipe.local.map((l) => `${l.sha256}:${l.nevra}`))]);
  if (version) out.push(['version', V.string(version)]);
  return out;
}
