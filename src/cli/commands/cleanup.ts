/**
 * `layer cleanup [-p] [-r]`: delete deployments no boot entry names and prune unreferenced
 * objects; `-p`/`--pending` and `-r`/`--rollback` (rpm-ostree's `cleanup -p/-r`) first drop the
 * pending / rollback deployments. Pinned deployments are never dropped.
 */
import { cleanup } from '../../engine/admin.js';
import { bool, parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';
import { size } from '../render.js';

export const usage = `layer cleanup [--sysroot DIR] [--json] [-p|--pending] [-r|--rollback] [--lock-timeout SECONDS]
  Remove leftovers and objects no deployment, base or cached package references.
  -p, --pending    also remove the pending deployment (the next boot stays on the booted one)
  -r, --rollback   also remove the rollback deployments
  Pinned deployments (layer pin) are kept.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('cleanup', argv, { pending: { short: 'p' }, rollback: { short: 'r' }, ...LOCK_TIMEOUT_OPTION });
  const r = await cleanup(sysrootOf(p), `layer cleanup ${argv.join(' ')}`, { pending: bool(p, 'pending'), rollback: bool(p, 'rollback'), wait: lockWaitOptions(p) });
  emit(p, { 'removed-deployments': r.removedDeployments, 'removed-objects': r.removedObjects, 'freed-bytes': r.freedBytes, 'removed-scratch': r.removedScratch }, () =>
    `Removed ${r.removedDeployments.length} deployment(s), ${r.removedObjects} object(s), ${r.removedScratch.length} scratch dir(s); freed ${size(r.freedBytes) || '0 B'}.\n`);
  return 0;
}
