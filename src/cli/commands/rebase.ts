/** `layer rebase REPO:REF`: another OSTree ref as the base, the layered requests carried (rpm-ostree's rebase). */
import { LayerError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';

export const usage = `layer rebase [--sysroot DIR] [--reposdir DIR] [--unchanged-exit-77] [--json] REPO:REF|OCI-IMAGE
  Make the newest commit of another OSTree ref (a local repo) the base, or the commit an OCI image
  carries (oci:DIR[:TAG], oci-archive:FILE, registry:HOST/NAME[:TAG]); the layered packages are
  solved again on it. A pin (layer deploy) is dropped.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('rebase', argv, TRANSACTION_FLAGS);
  const ref = p.positionals[0];
  if (ref === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer rebase: give one REPO:REF or OCI image', { hint: usage });
  return runChange(p, { kind: 'rebase', ref }, `layer rebase ${argv.join(' ')}`);
}
