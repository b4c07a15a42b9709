/** `layer fsck [--repair]`: the store and the deployments checked; missing objects re-imported. */
import { fsck, fsckError } from '../../engine/fsck.js';
import { bool, parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';
import { cliReport } from '../common.js';

export const usage = `layer fsck [--sysroot DIR] [--repair] [--lock-timeout SECONDS] [--json]
  Re-hash every object of the store, find missing ones, and check each deployment's files
  against its commit. --repair imports the packages that own missing or corrupt objects again
  from the package cache (waits for the sysroot lock). Exit 1 (LAYER_STORE_CORRUPT) when
  anything is left unclean.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('fsck', argv, { repair: {}, ...LOCK_TIMEOUT_OPTION });
  const report = cliReport(p);
  const r = await fsck(sysrootOf(p), `layer fsck ${argv.join(' ')}`, { repair: bool(p, 'repair'), wait: lockWaitOptions(p), report });
  const text = () => [
    `Objects checked: ${r.objects}`,
    ...r.repaired.map((x) => `Repaired: ${x.objects} object(s) from ${x.package} (${x.from})`),
    ...r.problems.map((x) => `Bad ${x.type} object ${x.checksum}: ${x.kind} (${x.detail})`),
    ...r.deployments.map((d) => `Deployment ${d.id} lacks ${d.missing.join(', ')}`),
    r.problems.length + r.deployments.length === 0 ? 'No problems found.' : '',
  ].filter((l) => l !== '').join('\n') + '\n';
  const err = fsckError(r);
  emit(p, { objects: r.objects, problems: r.problems, deployments: r.deployments, repaired: r.repaired, unrepaired: r.unrepaired }, text);
  if (!err) return 0;
  // With --json the document above is the whole of stdout; the error goes to stderr alone.
  if (bool(p, 'json')) {
    process.stderr.write(`error: ${err.message} [${err.code}]\n`);
    return 1;
  }
  throw err;
}
