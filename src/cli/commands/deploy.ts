/** `layer deploy REV` / `layer deploy --unpin`: a chosen commit of the base's ref, pinned (rpm-ostree's deploy). */
import { LayerError } from '../../errors.js';
import { bool, parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';

export const usage = `layer deploy [--sysroot DIR] [--reposdir DIR] [--unchanged-exit-77] [--json] REV
layer deploy --unpin [--sysroot DIR] ...
  Deploy a given commit of the OSTree-ref base: a checksum, or version=V (the newest commit of
  the ref's history whose version metadata is V), with the layered packages solved again on it.
  The origin records the pin: layer upgrade then says "Pinned to commit" until
  layer deploy --unpin (the ref's newest commit again, as upgrade) or layer rebase.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('deploy', argv, { ...TRANSACTION_FLAGS, unpin: {} });
  const command = `layer deploy ${argv.join(' ')}`;
  if (bool(p, 'unpin')) {
    if (p.positionals.length) throw new LayerError('LAYER_USAGE', 'layer deploy --unpin takes no revision');
    return runChange(p, { kind: 'upgrade', install: [], uninstall: [], unpin: true }, command);
  }
  const rev = p.positionals[0];
  if (rev === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer deploy: give one revision (a checksum or version=V)', { hint: usage });
  return runChange(p, { kind: 'deploy', rev }, command);
}
