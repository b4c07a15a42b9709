/** `layer rollback`: make the rollback deployment the default; only the boot entries change. */
// admin.js directly, not the engine index: rollback must not pay for loading repos/compose.
import { rollback } from '../../engine/admin.js';
import { parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer rollback [--sysroot DIR] [--lock-timeout SECONDS] [--if-unhealthy [--timeout SECONDS]] [--json]
  Swap the default deployment with the rollback one (a second rollback undoes the first).
  --if-unhealthy: first run the booted deployment's health checks (as layer health-check, each
  limited by --timeout SECONDS, default 60); roll back only when a required one fails (then
  exit 1, LAYER_HEALTH_CHECK); healthy: change nothing, exit 0.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('rollback', argv, { ...LOCK_TIMEOUT_OPTION, 'if-unhealthy': {}, timeout: { value: true } });
  // Loaded only when asked for: a plain rollback stays light.
  if (p.flags.has('if-unhealthy')) return (await import('./health-check.js')).runIfUnhealthy(p, `layer rollback ${argv.join(' ')}`);
  const sysroot = sysrootOf(p);
  const r = await rollback(sysroot, `layer rollback ${argv.join(' ')}`, lockWaitOptions(p));
  const d = r.deployment;
  emit(p, { deployment: { id: d.id, osname: d.osname, checksum: d.checksum, serial: d.serial, path: d.path, booted: d.booted }, ms: Math.round(r.ms * 10) / 10 }, () =>
    `Moving '${d.id}' to be first deployment (${r.ms.toFixed(1)} ms).\n` +
    (d.booted ? 'The booted deployment is the default again.\n' : `Run "layer boot-pending --sysroot ${sysroot}" (the stand-in for a reboot) to boot it.\n`));
  return 0;
}
