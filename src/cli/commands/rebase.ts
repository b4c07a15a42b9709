/** `layer rebase REPO:REF`: another OSTree ref as the base, the layered requests carried (rpm-ostree's rebase). */
import { LayerError } from '../../errors.js';
import { parseArgs, str } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';
import { REMOTE_FLAGS, remoteBaseOf } from '../remote-flags.js';

export const usage = `layer rebase [--sysroot DIR] [--reposdir DIR] [--unchanged-exit-77] [--json] REPO:REF|OCI-IMAGE
layer rebase [...] --from-remote URL --ref REF --remote NAME [--gpg-import KEYFILE] [--sign-verify ed25519=KEYFILE]
  Make the newest commit of another OSTree ref the base: REF of a local repo, NAME:REF of a remote
  the sysroot knows, or REF of the archive repo at URL (recorded as remote NAME, its commits
  verified with the keys given); or the commit an OCI image carries (oci:DIR[:TAG],
  oci-archive:FILE, registry:HOST/NAME[:TAG]). The layered packages are solved again on it.
  A pin (layer deploy) is dropped.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('rebase', argv, { ...TRANSACTION_FLAGS, ...REMOTE_FLAGS });
  const ref = p.positionals[0];
  const fromRemote = remoteBaseOf(p, 'rebase', str(p, 'remote') ?? '');
  if (fromRemote) {
    if (!fromRemote.remote) throw new LayerError('LAYER_USAGE', 'layer rebase: --from-remote needs --remote NAME (the name the sysroot records it under)');
    if (p.positionals.length > 0) throw new LayerError('LAYER_USAGE', 'layer rebase: --from-remote takes no REPO:REF', { hint: usage });
    return runChange(p, { kind: 'rebase', ref: `${fromRemote.remote}:${fromRemote.ref}`, fromRemote }, `layer rebase ${argv.join(' ')}`);
  }
  if (ref === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer rebase: give one REPO:REF or OCI image', { hint: usage });
  return runChange(p, { kind: 'rebase', ref }, `layer rebase ${argv.join(' ')}`);
}
