/** `layer cleanup`: delete deployments no boot entry names and prune unreferenced objects. */
import { cleanup } from '../../engine/admin.js';
import { parseArgs } from '../args.js';
import { emit, sysrootOf } from '../output.js';
import { size } from '../render.js';

export const usage = `layer cleanup [--sysroot DIR] [--json]
  Remove leftovers and objects no deployment, base or cached package references.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('cleanup', argv, {});
  const r = cleanup(sysrootOf(p), `layer cleanup ${argv.join(' ')}`);
  emit(p, { 'removed-deployments': r.removedDeployments, 'removed-objects': r.removedObjects, 'freed-bytes': r.freedBytes, 'removed-scratch': r.removedScratch }, () =>
    `Removed ${r.removedDeployments.length} deployment(s), ${r.removedObjects} object(s), ${r.removedScratch.length} scratch dir(s); freed ${size(r.freedBytes) || '0 B'}.\n`);
  return 0;
}
