/**
 * `layer deploy` on a recipe base (`layer init PKG…`), whose commits are composed here rather
 * than pulled from a ref someone else publishes:
 *
 * - `deploy REV` (a checksum or `version=V`): an earlier composition of the recipe, found in
 *   the history of the base's ref in the sysroot's store (sources/recipe.ts); the ordinary
 *   transaction (verbs.ts) re-solves the layered requests on it and pins the origin.
 * - `deploy --lockfile FILE` (no REV) with a lockfile of a composed-from-nothing tree (written by
 *   `upgrade --lockfile-out` or `init --lockfile-out`): the snapshot. The lockfile's recipe is
 *   composed again, the solver shown only the pinned packages, the layered requests solved on
 *   the new base, the tree checked to be exactly the lockfile's, and the origin pinned. This is
 *   the recipe upgrade's pipeline (upgrade.ts) under a lockfile, so the preview/compose split
 *   and its checks are the same. A lockfile with a base commit names that commit instead.
 * - `deploy --unpin`: the recipe upgrade past the pin (a new deployment even when the packages
 *   did not change, so the pin is dropped).
 *
 * Any other base goes to the one transaction pipeline (engine.ts) unchanged.
 */
import { Sysroot } from '../sysroot/index.js';
import { runTransaction } from './engine.js';
import type { EngineRequest, EngineResult } from './types.js';
import { runUpgrade, type UpgradeResult } from './upgrade.js';

export async function runDeploy(req: EngineRequest): Promise<EngineResult> {
  const current = Sysroot.open(req.sysroot).deployments()[0];
  const c = req.change;
  if (!current?.origin.recipe) return runTransaction(req);
  if (c.kind === 'upgrade' && c.unpin) return resultOf(await runUpgrade({ ...req, unpin: true }));
  const lock = req.lockfile;
  if (c.kind === 'deploy' && c.rev === undefined && lock && lock.lock.base.commit === null) {
    return resultOf(await runUpgrade({ ...req, snapshot: true }));
  }
  return runTransaction(req);
}

/** The transaction result of a recipe compose; "unchanged" when nothing was deployed. */
function resultOf(r: UpgradeResult): EngineResult {
  if (r.result) return r.result;
  return { outcome: 'unchanged', steps: [], alreadyProvided: [], timings: {}, scriptlets: [], warnings: [] };
}
