/** Step commit: the assembled tree (or direct.ts's union) as a commit whose parent is the base, with the plan as metadata. */
import type { Checksum, CommitOptions } from '../../store/index.js';
import { buildMetadata } from '../metadata.js';
import { overlaid } from './partial.js';
import { sourceDateEpoch } from './rpmdb.js';
import type { ApplyState } from './state.js';

export async function commit(s: ApplyState): Promise<void> {
  const { plan, ctx } = s;
  // Reproducible commits: with SOURCE_DATE_EPOCH (a lockfile sets it) the timestamp is fixed,
  // and the same inputs give the same checksum in any sysroot (the tree itself already is).
  const epoch = sourceDateEpoch();
  const opts: CommitOptions = {
    ...(epoch !== undefined ? { timestamp: BigInt(epoch) } : {}),
    parent: (plan.base.commit as Checksum | null) ?? ctx.parent ?? null,
    subject: plan.layered.length ? `layer: ${plan.layered.join(', ')}` : 'layer: base',
    metadata: buildMetadata(plan, ctx.version),
    ...(ctx.ref ? { ref: ctx.ref } : {}),
  };
  if (s.union) s.commit = await ctx.store.commitUnion(s.union, opts);
  else if (s.partial) s.commit = await ctx.store.commitUnion(overlaid(s, s.partial), opts);
  else s.commit = await ctx.store.commitTree(s.root, opts);
}
