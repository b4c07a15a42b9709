/**
 * Held deployments: written and listed in the boot entries, but never made the default, because
 * the checks an upgrade ran in them before promoting them failed (`layer upgrade --smoke /
 * --health-check`, engine/upgrade-checks.ts). A held deployment stays inspectable (`layer run
 * --deployment`, `layer status`) until `layer cleanup` or the next deployment drops it; it is
 * never a rollback target and never kept by retention.
 *
 * Stored in layer's state directory (`ostree/layer/held`, one `<os>/<id>` a line), not in the
 * deployment's origin: the origin is the deployment's request, and OSTree tools read it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from './fsutil.js';

const FILE = 'held';

export function readHeld(stateDir: string): Set<string> {
  const f = join(stateDir, FILE);
  if (!existsSync(f)) return new Set();
  return new Set(readFileSync(f, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean));
}

/** Keep exactly `ids` (`<os>/<id>`) as held; the file is removed when none is left. */
export function writeHeld(stateDir: string, ids: Iterable<string>): void {
  const list = [...new Set(ids)].sort();
  const f = join(stateDir, FILE);
  if (list.length === 0) rmSync(f, { force: true });
  else writeFileDurable(f, `${list.join('\n')}\n`);
}
