/** `layer export --oci`: an OSTree commit as an OCI image (layout directory or oci-archive file). */
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LayerError } from '../../errors.js';
import { exportOci, openCommitReader, writeOciArchive } from '../../oci/index.js';
import { parseArgs, str } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer export --oci DIR|oci:DIR|oci-archive:FILE [--repo REPO] [--tag TAG] [--json] REF|COMMIT
  Write the commit REF names (or COMMIT) of the OSTree repository REPO (any mode; default the
  sysroot's store) as an OCI image: layers split by owning package, labels ostree.commit,
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
  const archive = dest.startsWith('oci-archive:') ? resolve(dest.slice(12)) : undefined;
  const dir = archive ? mkdtempSync(join(dirname(archive), '.layer-oci-')) : resolve(dest.replace(/^oci:/, ''));
  try {
    const r = await exportOci(reader, rev, { dir, tag });
    if (archive) await writeOciArchive(dir, archive);
    emit(p, { ...r, destination: archive ? `oci-archive:${archive}` : `oci:${dir}` }, () =>
      `${r.commit} → ${archive ? `oci-archive:${archive}` : `oci:${dir}:${tag}`}\n  manifest ${r.manifestDigest}, ${r.layers.length} layers ` +
      `(${r.layers.map((l) => l.name).join(', ')})\n`);
  } finally {
    if (archive) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
