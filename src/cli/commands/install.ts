/** `layer install PKG...`: names, provides, file paths, or local `.rpm` files. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, needPackages, runChange } from '../common.js';

export const usage = `layer install [--sysroot DIR] [--reposdir DIR] [-n|--dry-run] [-y] [--idempotent] [--allow-inactive]
              [-C|--cache-only] [--download-only] [--unchanged-exit-77] [--json] PKG|FILE.rpm...
  Layer packages on the current deployment: a new deployment is composed from the base with
  every requested package and becomes the default for the next boot.
  The transaction is shown first; on an interactive terminal, asks "Is this ok [y/N]:" unless -y.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('install', argv, TRANSACTION_FLAGS);
  needPackages('install', p.positionals);
  const local = p.positionals.filter((a) => a.endsWith('.rpm') && existsSync(a)).map((a) => resolve(a));
  const names = p.positionals.filter((a) => !(a.endsWith('.rpm') && existsSync(a)));
  return runChange(p, { kind: 'install', packages: names, localRpms: local }, `layer install ${argv.join(' ')}`);
}
