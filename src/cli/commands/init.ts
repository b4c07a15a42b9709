/** `layer init`: compose a base from repo packages (or take an ostree commit) and deploy it first. */
import { isOciSpec } from '../../engine/sources/index.js';
import { LayerError } from '../../errors.js';
import { parseArgs, str } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';
import { REMOTE_FLAGS, remoteBaseOf } from '../remote-flags.js';
import { splitLocalRpms } from './install.js';

export const usage = `layer init --sysroot DIR --osname NAME (--reposdir DIR PKG|FILE.rpm... | --from-ostree REPO:REF [PKG...] |
           --from-remote URL --ref REF [--remote NAME] [--gpg-import KEYFILE] [--sign-verify ed25519=KEYFILE] [PKG...] |
           --from-oci oci:DIR[:TAG]|oci-archive:FILE|registry:HOST/NAME[:TAG] [PKG...]) [--json]
  Create a sysroot: compose a base commit from PKG... in the repos of --reposdir (a minimal
  "rpm-ostree compose tree"; local FILE.rpm files are kept by content for later recompositions),
  or take REF of an existing ostree repo, or pull REF over HTTP from
  the archive repo at URL (recorded as OSTree remote NAME, default the osname), or rebuild the
  OSTree commit an OCI image carries (layer export --oci; registries through skopeo), and deploy it.
  --gpg-import / --sign-verify: the remote's commits and summary must be signed by these keys
  (checked on every pull: init, upgrade, deploy, rebase).`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('init', argv, {
    ...TRANSACTION_FLAGS, ...REMOTE_FLAGS, osname: { value: true }, 'from-ostree': { value: true }, 'from-oci': { value: true },
  });
  const osname = str(p, 'osname');
  if (!osname || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(osname)) throw new LayerError('LAYER_USAGE', 'layer init: --osname NAME is required (letters, digits, . _ -)');
  if (!str(p, 'sysroot')) throw new LayerError('LAYER_USAGE', 'layer init: --sysroot DIR is required');
  const fromOstree = str(p, 'from-ostree');
  const fromRemote = remoteBaseOf(p, 'init', osname);
  const fromOci = str(p, 'from-oci');
  if (fromRemote && fromOstree) throw new LayerError('LAYER_USAGE', 'layer init: --from-remote and --from-ostree exclude each other');
  if (fromOci !== undefined && (fromOstree || fromRemote)) throw new LayerError('LAYER_USAGE', 'layer init: give one of --from-oci, --from-ostree, --from-remote');
  // Local .rpm files: part of a recipe base (kept for its recompositions), layered on an OSTree base.
  const { names, local } = splitLocalRpms(p.positionals);
  const pkgs = { osname, packages: names, ...(local.length ? { localRpms: local } : {}) };
  if (fromRemote) return runChange(p, { kind: 'init', ...pkgs, fromRemote }, `layer init ${argv.join(' ')}`);
  if (fromOci !== undefined) {
    if (!isOciSpec(fromOci)) throw new LayerError('LAYER_USAGE', `layer init: --from-oci '${fromOci}': expected oci:DIR[:TAG], oci-archive:FILE or registry:HOST/NAME[:TAG]`);
    return runChange(p, { kind: 'init', ...pkgs, fromOci }, `layer init ${argv.join(' ')}`);
  }
  if (!fromOstree && p.positionals.length === 0) throw new LayerError('LAYER_USAGE', 'layer init: give the base packages (PKG... or FILE.rpm...) or --from-ostree REPO:REF');
  if (!fromOstree && !str(p, 'reposdir')) throw new LayerError('LAYER_USAGE', 'layer init: --reposdir DIR is required to compose a base');
  return runChange(p, { kind: 'init', ...pkgs, ...(fromOstree ? { fromOstree } : {}) }, `layer init ${argv.join(' ')}`);
}
