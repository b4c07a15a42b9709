/**
 * `layer pin [DEPLOYMENT]` / `layer pin --unpin [DEPLOYMENT]`, as `ostree admin pin`: a pinned
 * deployment survives retention and `cleanup -p/-r`. The default is the booted deployment.
 */
import { pin } from '../../engine/admin.js';
import { LayerError } from '../../errors.js';
import { bool, parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer pin [--sysroot DIR] [--json] [--unpin] [--lock-timeout SECONDS] [DEPLOYMENT]
  Pin a deployment (default: the booted one) so retention and cleanup keep it; --unpin undoes it.
  DEPLOYMENT: index in boot order (0 = default), id, or checksum prefix (see layer status).`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('pin', argv, { unpin: {}, ...LOCK_TIMEOUT_OPTION });
  if (p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer pin: name one deployment', { hint: usage });
  const pinned = !bool(p, 'unpin');
  const r = await pin(sysrootOf(p), `layer pin ${argv.join(' ')}`, p.positionals[0], pinned, lockWaitOptions(p));
  const d = r.deployment;
  emit(p, { deployment: { id: d.id, osname: d.osname, checksum: d.checksum, serial: d.serial, pinned: d.pinned }, changed: r.changed }, () =>
    `${r.changed ? '' : 'Already '}${pinned ? 'pinned' : 'unpinned'}: ${d.osname} ${d.id}\n`);
  return 0;
}
