/**
 * apply(plan) → commit: the plan's steps carried out, one module each, in order:
 *
 *   download    .rpm files into the package cache, verified against the metadata (none for
 *               a package imported before from the file the metadata names: stored.ts)
 *   verify      headers and digests; the signature policy (ctx.verify)
 *   check       rpm's transaction check: every Requires satisfied, no Conflicts (depcheck.ts)
 *   import      one store commit per package (reused when imported before)
 *   checkout    base (minus removed packages' files) ∪ packages, by hardlinks; or, when
 *               nothing but the rpmdb writer would touch that tree, from objects (direct.ts)
 *   scriptlets  in bubblewrap on an overlay; the store's objects are never written
 *   kernel      a tree with a kernel gets its initramfs and mount points (src/boot)
 *   rpmdb       the new tree's database
 *   commit      parent = base; metadata: the request, the packages, the repos, the digest
 *
 * Crash safety: everything is built in memory or in this composition's own scratch directory, removed at
 * the end whatever happens; the store only gains objects (unreferenced until the commit, which
 * is written last). The base commit and every deployment stay as they were.
 */
import { createScratch } from '../scratch.js';
import { readBase } from '../base.js';
import { INSTALLING } from '../plan.js';
import type { ApplyContext, ApplyResult, ApplyStepName, Plan } from '../types.js';
import { assemble } from './assemble.js';
import { checkTransaction } from './check.js';
import { commit } from './commit.js';
import { download } from './download.js';
import { importPackages } from './import.js';
import { writeDatabase } from './rpmdb.js';
import { runScriptlets } from './scriptlets.js';
import type { ApplyState } from './state.js';
import { verify } from './verify.js';
import { kernel } from './kernel.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { now } from '../../util/clock.js';

const STEPS: readonly [ApplyStepName, (s: ApplyState) => Promise<void>][] = [
  ['download', download],
  ['verify', verify],
  ['check', checkTransaction],
  ['import', importPackages],
  ['checkout', assemble],
  ['scriptlets', runScriptlets],
  ['kernel', kernel],
  ['rpmdb', writeDatabase],
  ['commit', commit],
];

export async function apply(plan: Plan, ctx: ApplyContext): Promise<ApplyResult> {
  const scratch = await createScratch(ctx.cacheDir);
  const timings: Record<string, number> = {};
  const given = ctx.base !== undefined && ctx.base.commit === plan.base.commit ? ctx.base : undefined;
  const base = given ?? (await readBase(ctx.store, plan.base.commit, scratch.path, ctx.cacheDir));
  const removed = new Set<string>(plan.removed);
  const s: ApplyState = {
    plan, ctx, base, scratch: scratch.path, root: join(scratch.path, 'root'),
    installs: plan.steps.filter((st) => INSTALLING.has(st.action)),
    kept: base.packages.filter((p) => !removed.has(p.nevra)),
    paths: new Map(), checksums: new Map(), rpms: new Map(), commits: new Map(), refs: [],
  };
  try {
    for (const [name, step] of STEPS) {
      const t0 = now();
      try {
        await ctx.report.section(name, () => step(s));
      } finally {
        timings[name] = Math.round(now() - t0);
      }
      if (ctx.until === name) break;
    }
    return {
      ...(s.commit ? { commit: s.commit } : {}), timings, ...(ctx.deferRefs ? { refs: s.refs } : {}),
      ...(s.union ? { direct: true as const } : {}), ...(s.partial ? { partial: true as const } : {}),
      ...(s.rpmdbRows ? { rpmdbRows: s.rpmdbRows } : {}),
    };
  } finally {
    if (given === undefined) base.rpmdb?.close();
    // A whole tree was checked out unless the commit came from objects or a partial tree.
    const inChild = s.union === undefined && s.partial === undefined && existsSync(s.root);
    if (ctx.removeScratchLater) scratch.releaseLater({ inChild });
    else await scratch.release({ inChild });
  }
}
