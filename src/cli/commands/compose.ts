/** `layer compose`: compose a base from a recipe into an archive OSTree repo a fleet pulls over HTTP. */
import { resolve } from 'node:path';
import { LayerError } from '../../errors.js';
import { composeRepo, type SignOptions } from '../../fleet/index.js';
import { bool, parseArgs, str } from '../args.js';
import { emit } from '../output.js';
import { CliReport, reportMode } from '../report.js';
import { describeImage } from './export.js';

export const usage = `layer compose --repo REPO --ref REF --recipe FILE [--version V] [--workdir DIR] [--deltas] [-C|--cache-only]
               [--sign-key KEYID [--gpg-homedir DIR]] [--sign-ed25519 KEYFILE]
               [--oci DIR|oci:DIR|oci-archive:FILE [--oci-tag TAG]] [--json]
  Compose a base from the packages and repos of the recipe FILE (JSON, see README "Composing for
  a fleet") and commit it to REF of the archive-mode OSTree repository REPO (created when absent),
  with the summary updated: serve REPO as static files and hosts pull it (ostree pull, layer).
  --version sets the commit's version (default: YYYYMMDD.N after the ref's); --workdir keeps the
  work store and package cache between composes. --deltas also writes a static delta from the
  ref's previous commit (deltas/, delta-indexes/): hosts on that commit fetch a few parts.
  --sign-key signs the commit (.commitmeta) and the summary (summary.sig) with gpg's key KEYID;
  --sign-ed25519 with the ed25519 secret key file of \`ostree sign\` (README "Signing a fleet repo").
  --oci also writes the published commit as an OCI image (as layer export --oci does, tag TAG,
  default latest), for registries and bootc (README "OCI images").`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('compose', argv, {
    repo: { value: true }, ref: { value: true }, recipe: { value: true }, version: { value: true },
    workdir: { value: true }, 'cache-only': { short: 'C' }, deltas: {},
    'sign-key': { value: true }, 'gpg-homedir': { value: true }, 'sign-ed25519': { value: true },
    oci: { value: true }, 'oci-tag': { value: true },
  });
  const repo = str(p, 'repo');
  const ref = str(p, 'ref');
  const recipe = str(p, 'recipe');
  if (!repo || !ref || !recipe) throw new LayerError('LAYER_USAGE', 'layer compose: --repo REPO, --ref REF and --recipe FILE are required', { hint: 'see layer compose --help' });
  if (p.positionals.length > 0) throw new LayerError('LAYER_USAGE', `layer compose: unexpected argument '${p.positionals[0]}'`, { hint: 'packages go in the recipe' });
  const version = str(p, 'version');
  const workdir = str(p, 'workdir');
  const report = new CliReport(reportMode(bool(p, 'json')));
  const sign = signOptions(str(p, 'sign-key'), str(p, 'gpg-homedir'), str(p, 'sign-ed25519'));
  const oci = str(p, 'oci');
  const ociTag = str(p, 'oci-tag');
  if (ociTag !== undefined && oci === undefined) throw new LayerError('LAYER_USAGE', 'layer compose: --oci-tag goes with --oci DEST');
  const r = await composeRepo({
    ...(sign ? { sign } : {}),
    repo: resolve(repo), ref, recipe: resolve(recipe), report, cacheOnly: bool(p, 'cache-only'), deltas: bool(p, 'deltas'),
    ...(version !== undefined ? { version } : {}), ...(workdir ? { workDir: resolve(workdir) } : {}),
    ...(oci !== undefined ? { oci: { dest: oci, ...(ociTag !== undefined ? { tag: ociTag } : {}) } } : {}),
  });
  const image = r.image ? `  image ${r.image.destination}${r.image.destination.startsWith('oci:') ? `:${r.image.tag}` : ''}\n${describeImage(r.image)}` : '';
  emit(p, r, () => (r.outcome === 'unchanged'
    ? `${ref} is unchanged: ${r.commit} (version ${r.version})\n`
    : `${ref} → ${r.commit}\n  version ${r.version}, ${r.packages.length} packages` +
      `${r.parent ? `, parent ${r.parent.slice(0, 12)}` : ''}\n  exported ${r.exported?.written ?? 0} objects (${r.exported?.bytes ?? 0} bytes), ` +
      `${r.exported?.present ?? 0} already in ${resolve(repo)}\n` +
      (r.delta ? `  delta from ${r.delta.from?.slice(0, 12) ?? 'nothing'}: ${r.delta.parts} parts, ${r.delta.objects} objects, ${r.delta.bytes} bytes\n` : '')) + image);
  return 0;
}

function signOptions(keyId: string | undefined, homedir: string | undefined, ed25519: string | undefined): SignOptions | undefined {
  if (homedir !== undefined && keyId === undefined) throw new LayerError('LAYER_USAGE', 'layer compose: --gpg-homedir goes with --sign-key KEYID');
  if (keyId === undefined && ed25519 === undefined) return undefined;
  return {
    ...(keyId !== undefined ? { gpgKeyId: keyId } : {}), ...(homedir !== undefined ? { gpgHomedir: resolve(homedir) } : {}),
    ...(ed25519 !== undefined ? { ed25519KeyFile: resolve(ed25519) } : {}),
  };
}
