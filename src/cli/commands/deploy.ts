/**
 * `layer deploy REV` / `layer deploy --lockfile FILE` / `layer deploy --unpin`: a chosen base,
 * pinned (rpm-ostree's deploy). The engine is engine/recipe-deploy.ts (recipe bases) and the
 * transaction pipeline (OSTree-ref bases).
 */
import { LayerError } from '../../errors.js';
import { runDeploy } from '../../engine/index.js';
import { bool, parseArgs, str } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';

export const usage = `layer deploy [--sysroot DIR] [--reposdir DIR] [--unchanged-exit-77] [--json] REV
layer deploy --lockfile FILE [--sysroot DIR] [--reposdir DIR] ...
layer deploy --unpin [--sysroot DIR] ...
  Deploy a given base, with the layered packages solved again on it: REV is a checksum, or
  version=V (the newest commit of the ref's history whose version metadata is V). For a recipe
  base (layer init PKG...) that history is the base's earlier compositions.
  --lockfile FILE without REV: the lockfile's base commit; for a recipe base, its snapshot:
  the recipe composed again from exactly the packages FILE pins (as layer upgrade
  --lockfile-out wrote it), each repo checked against FILE.
  The origin records the pin: layer upgrade then says "Pinned to commit" until
  layer deploy --unpin (the ref's newest commit again, or the recipe composed again, as upgrade)
  or layer rebase.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('deploy', argv, { ...TRANSACTION_FLAGS, unpin: {} });
  const command = `layer deploy ${argv.join(' ')}`;
  if (bool(p, 'unpin')) {
    if (p.positionals.length) throw new LayerError('LAYER_USAGE', 'layer deploy --unpin takes no revision');
    return runChange(p, { kind: 'upgrade', install: [], uninstall: [], unpin: true }, command, runDeploy);
  }
  const rev = p.positionals[0];
  const lockfile = str(p, 'lockfile') !== undefined;
  if (p.positionals.length > 1 || (rev === undefined && !lockfile)) {
    throw new LayerError('LAYER_USAGE', 'layer deploy: give one revision (a checksum or version=V), or --lockfile FILE', { hint: usage });
  }
  return runChange(p, rev === undefined ? { kind: 'deploy' } : { kind: 'deploy', rev }, command, runDeploy);
}
