/** Step commit: the assembled tree as a commit whose parent is the base, with the plan as metadata. */
import type { Checksum } from '../../store/index.js';
import { buildMetadata } from '../metadata.js';
import type { ApplyState } from './state.js';

export async function commit(s: ApplyState): Promise<void> {
  const { plan, ctx } = s;
  s.commit = await ctx.store.commitTree(s.root, {
    parent: (plan.base.commit as Checksum | null) ?? null,
    subject: plan.layered.length ? `layer: ${plan.layered.join(', ')}` : 'layer: base',
    metadata: buildMetadata(plan, ctx.version),
    ...(ctx.ref ? { ref: ctx.ref } : {}),
  });
}
