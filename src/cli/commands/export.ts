/** `layer export --oci`: an OSTree commit as an OCI image (layout directory or oci-archive file). */
import { join, resolve } from 'node:path';
import { LayerError } from '../../errors.js';
import { exportOciTo, openCommitReader, type ExportedImage } from '../../oci/index.js';
import { parseArgs, str } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer export --oci DIR|oci:DIR|oci-archive:FILE [--repo REPO] [--tag TAG] [--json] REF|COMMIT
  Write the commit REF names (or COMMIT) of the OSTree repository REPO (any mode; default the
  sysroot's store) as an OCI image in the form bootc and rpm-ostree use (ostree-ext's chunked
  layout: layer 0 the commit, then one layer per package), labels ostree.commit,
  ostree.final-diffid, containers.bootc and version. DIR is an OCI image layout (created, or the
  tag added to it); FILE an oci-archive tar. The same commit always gives the same digests.
  Push it with skopeo copy oci:DIR:TAG docker://HOST/NAME:TAG.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('export', argv, { oci: { value: true }, repo: { value: true }, tag: { value: true } });
  const dest = str(p, 'oci');
  const rev = p.positionals[0];
  if (!dest || rev === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer export: give --oci DEST and one REF or COMMIT', { hint: usage });
  const repo = resolve(str(p, 'repo') ?? join(sysrootOf(p), 'ostree/repo'));
  const reader = openCommitReader(repo);
  const tag = str(p, 'tag') ?? 'latest';
  const r = await exportOciTo(reader, rev, dest, tag);
  emit(p, r, () => `${r.commit} → ${r.destination}${r.destination.startsWith('oci:') ? `:${tag}` : ''}\n${describeImage(r)}`);
  return 0;
}

/** The layers of an exported image, for the text output of export and compose. */
export function describeImage(r: ExportedImage): string {
  return `  manifest ${r.manifestDigest}, ${r.architecture}, ${r.layers.length} layers (${r.layers.map((l) => l.name).join(', ')})\n`;
}
