/**
 * Where `layer export --oci` and `layer compose --oci` write an image: `DIR` or `oci:DIR` (an
 * OCI image layout, created or the tag added to it) or `oci-archive:FILE` (the layout as one
 * tar, as skopeo and podman read it; built in a temp directory next to FILE, then removed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommitReader } from './commit-reader.js';
import { exportOci, type ExportOciResult } from './export.js';
import { writeOciArchive } from './archive.js';

export interface ExportedImage extends ExportOciResult {
  /** `oci:DIR` or `oci-archive:FILE`, absolute. */
  destination: string;
}

/** Export commit `rev` to `dest` (see the module comment) under `tag`. */
export async function exportOciTo(reader: CommitReader, rev: string, dest: string, tag = 'latest'): Promise<ExportedImage> {
  const archive = dest.startsWith('oci-archive:') ? resolve(dest.slice('oci-archive:'.length)) : undefined;
  const dir = archive ? mkdtempSync(join(dirname(archive), '.layer-oci-')) : resolve(dest.replace(/^oci:/, ''));
  try {
    const r = await exportOci(reader, rev, { dir, tag });
    if (archive) await writeOciArchive(dir, archive);
    return { ...r, destination: archive ? `oci-archive:${archive}` : `oci:${dir}` };
  } finally {
    if (archive) rmSync(dir, { recursive: true, force: true });
  }
}
