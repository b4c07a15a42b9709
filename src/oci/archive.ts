/**
 * `oci-archive:FILE`: an OCI image layout as one uncompressed tar (what skopeo's and podman's
 * `oci-archive` transport read). Written deterministically (sorted entries, mtime 0, root
 * owner) from a layout directory; blobs are streamed, never held whole.
 */
import { createReadStream, createWriteStream, readdirSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import { TAR_END, padding, tarHeader } from './tar.js';

/** Tar the layout at `dir` into `file` (temp file + rename). */
export async function writeOciArchive(dir: string, file: string): Promise<void> {
  const blobs = readdirSync(join(dir, 'blobs', 'sha256')).filter((n) => !n.startsWith('.')).sort();
  const entries: Array<{ path: string; src?: string }> = [
    { path: 'blobs' }, { path: 'blobs/sha256' },
    ...blobs.map((b) => ({ path: `blobs/sha256/${b}`, src: join(dir, 'blobs', 'sha256', b) })),
    { path: 'index.json', src: join(dir, 'index.json') }, { path: 'oci-layout', src: join(dir, 'oci-layout') },
  ];
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  for (const e of entries) {
    if (e.src === undefined) {
      await write(tarHeader({ path: e.path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }));
      continue;
    }
    const size = statSync(e.src).size;
    await write(tarHeader({ path: e.path, type: 'file', mode: 0o644, uid: 0, gid: 0, size }));
    for await (const chunk of createReadStream(e.src)) await write(chunk as Buffer);
    await write(padding(size));
  }
  await write(TAR_END);
  out.end();
  await finished(out);
  renameSync(tmp, file);
}
