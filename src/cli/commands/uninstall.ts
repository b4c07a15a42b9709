/** `layer uninstall PKG...`: drop packages from the request and recompose from the base. */
import { parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, needPackages, runChange } from '../common.js';

export const usage = `layer uninstall [--sysroot DIR] [-n|--dry-run] [-y] [--idempotent] [--unchanged-exit-77] [--json] PKG...
  Remove layered packages (by the name they were requested with, or a local package's name/NEVRA).
  The transaction is shown first; on an interactive terminal, asks "Is this ok [y/N]:" unless -y.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('uninstall', argv, TRANSACTION_FLAGS);
  needPackages('uninstall', p.positionals);
  return runChange(p, { kind: 'uninstall', packages: p.positionals }, `layer uninstall ${argv.join(' ')}`);
}
