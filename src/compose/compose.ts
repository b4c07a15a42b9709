/**
 * composeTree: plan + apply in one call, for callers that have no sysroot (tests, benches,
 * tools). The engine calls plan() and apply() itself, showing and confirming the plan in
 * between.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { withContext } from '../errors.js';
import type { Checksum } from '../store/index.js';
import { openRpm } from '../rpm/index.js';
import { apply } from './apply/index.js';
import { plan } from './plan.js';
import type { ComposeRequest, ComposeResult, Plan } from './types.js';
import type { Request } from '../request/index.js';

export async function composeTree(req: ComposeRequest): Promise<ComposeResult> {
  const localPaths = new Map<string, string>();
  const requestedLocal: Request['requestedLocal'] = [];
  for (const path of req.localRpms) {
    try {
      const sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
      localPaths.set(sha256, path);
      requestedLocal.push({ sha256, nevra: (await openRpm(path)).nevra });
    } catch (err) {
      throw withContext(`local package ${path}`, err);
    }
  }
  const request: Request = {
    baseRef: req.base?.commit ?? 'compose', baseCommit: (req.base?.commit ?? '') as Checksum,
    requested: req.base ? [...req.install] : [],
    ...(req.base ? {} : { recipe: { packages: [...req.install], repos: req.repos.active.map((r) => r.id) } }),
    requestedLocal, removed: [...req.remove],
  };
  const o = req.options;
  const p = await plan(request, {
    store: req.store, repos: req.repos, arch: req.arch, cacheDir: req.cacheDir, report: req.report, localPaths,
    options: o, newerFor: req.install, ...(req.previous ? { previous: req.previous } : {}),
  });
  const result = (commit: Checksum | undefined, timings: Record<string, number>): ComposeResult => ({
    plan: p, transaction: p.steps, alreadyProvided: p.alreadyProvided, inputDigest: p.inputDigest, unchanged: p.unchanged,
    packages: p.packages, layered: p.layered, timings, ...(commit ? { commit } : {}),
  });
  if (p.unchanged) return result(p.previousCommit, {});
  if (o.dryRun) return result(undefined, {});
  const applied = await apply(p, {
    store: req.store, repos: req.repos, cacheDir: req.cacheDir, report: req.report,
    ...(o.cacheOnly ? { cacheOnly: true } : {}), ...(o.downloadOnly ? { until: 'import' as const } : {}), ...(req.ref ? { ref: req.ref } : {}),
  });
  return result(applied.commit, applied.timings);
}

export type { Plan };
