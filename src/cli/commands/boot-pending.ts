/**
 * `layer boot-pending`: on a directory sysroot, the stand-in for a reboot: the default
 * deployment becomes the booted one. (On a real host the kernel command line decides.)
 */
import { bootPending } from '../../engine/admin.js';
import { parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer boot-pending [--sysroot DIR] [--lock-timeout SECONDS] [--json]
  Mark the default deployment as booted (what a reboot does on a real host).`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('boot-pending', argv, LOCK_TIMEOUT_OPTION);
  const d = await bootPending(sysrootOf(p), `layer boot-pending ${argv.join(' ')}`, lockWaitOptions(p));
  emit(p, { booted: { id: d.id, osname: d.osname, checksum: d.checksum, serial: d.serial } }, () => `Booted: ${d.osname} ${d.id}\n`);
  return 0;
}
