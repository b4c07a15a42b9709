/**
 * An OCI image made by `layer export --oci` (or any image carrying its OSTree commit the same
 * way) back into an OSTree commit in a Store, with the same checksum: the rootfs files become
 * content objects (their checksum covers uid, gid, mode, xattrs and bytes, all of which the
 * tar entries carry), and the commit, dirtree and dirmeta objects come verbatim from
 * `sysroot/ostree/repo/objects/` in the layers. The commit is the one the `ostree.commit`
 * label names.
 *
 * Verification, before the commit exists in the store: every blob's size and sha256 (manifest,
 * config, layers; layout.ts), every layer's uncompressed sha256 against its `diff_id`, every
 * metadata object's sha256 against its name, and the whole tree: each content object the
 * dirtrees name must have been produced from some layer entry (a changed byte, owner or mode
 * gives another checksum, so the object is missing and the import fails naming the path).
 *
 * Crash safety, and the store's pull invariant: content objects are written as they stream
 * (unreferenced until the commit is); metadata objects are held in memory (capped) and written
 * children first, each dirtree after its subtree, the commit last. Memory: one pax header, one
 * metadata object set (MAX_METADATA), and a stream chunk; files stream into the store.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import {
  S_IFLNK, S_IFREG, decodeCommit, decodeDirMeta, decodeDirTree, isChecksum, sha256, type Checksum, type Store,
} from '../store/index.js';
import { OBJECTS_DIR } from './export.js';
import { MEDIA, blobPath, verifyBlob, type Image } from './layout.js';
import { readTar, type TarEntry } from './tar.js';

/** Most bytes of all metadata objects of one image together (held until the tree is checked). */
const MAX_METADATA = 256 << 20;
const OBJECT = new RegExp(`^${OBJECTS_DIR}/([0-9a-f]{2})/([0-9a-f]{62})\\.(commit|dirtree|dirmeta|commitmeta)$`);

type MetaType = 'commit' | 'dirtree' | 'dirmeta';

export interface ImportResult {
  commit: Checksum;
  /** Files and symlinks read from the layers (each hashed into a content object). */
  entries: number;
  layers: number;
}

function oci(msg: string, hint?: string): LayerError {
  return new LayerError('LAYER_OCI', msg, hint ? { hint } : {});
}

/** The commit checksum an image carries (its `ostree.commit` label). */
export function imageCommit(image: Image): Checksum {
  const c = image.config.config?.Labels?.['ostree.commit'];
  if (!c || !isChecksum(c)) {
    throw oci(`image ${image.manifestDigest} has no ostree.commit label: it is not an OSTree-native image`,
      'layer imports images made by `layer export --oci` (or that carry their OSTree commit objects the same way)');
  }
  return c;
}

function normalise(path: string): string {
  const p = path.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  if (p.split('/').some((c) => c === '..')) throw oci(`layer entry '${path}' climbs out of the tree`);
  return p;
}

async function* layerStream(path: string, gzip: boolean, diff: Hash): AsyncGenerator<Buffer> {
  const file = createReadStream(path);
  const stream = gzip ? file.pipe(createGunzip()) : file;
  if (gzip) file.on('error', (err) => stream.destroy(err));
  try {
    for await (const chunk of stream) {
      diff.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  } catch (err) {
    if (err instanceof LayerError) throw err;
    throw oci(`layer ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function collect(body: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const b of body) {
    n += b.length;
    if (n > max) throw oci(`${what}: over the ${max}-byte limit`);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

interface State {
  meta: Map<string, { type: MetaType; bytes: Buffer }>;
  metaBytes: number;
  res: ImportResult;
}

/** One tar entry: a content object, a metadata object, or nothing (directories, hardlinks). */
async function importEntry(store: Store, e: TarEntry, st: State, what: string): Promise<void> {
  const h = e.header;
  const path = normalise(h.path);
  if ((path.split('/').pop() ?? '').startsWith('.wh.')) throw oci(`${what}: '${path}' is a whiteout: images derived from another (FROM …) are not imported`);
  const obj = OBJECT.exec(path);
  if (obj && h.type === 'file') {
    const [, a, b, type] = obj as unknown as [string, string, string, string];
    if (type === 'commitmeta') return; // detached signatures: not carried over (see README)
    const bytes = await collect(e.body, MAX_METADATA, `${what}: ${path}`);
    if (sha256(bytes) !== a + b) throw oci(`${what}: ${type} object ${a}${b} does not match its checksum`, 'the image is damaged or was tampered with; nothing was deployed');
    st.metaBytes += bytes.length;
    if (st.metaBytes > MAX_METADATA) throw oci(`${what}: OSTree metadata over the ${MAX_METADATA}-byte limit`);
    st.meta.set(a + b, { type: type as MetaType, bytes });
    return;
  }
  if (h.type !== 'file' && h.type !== 'symlink') return;
  const xattrs = h.xattrs ?? [];
  const meta = h.type === 'symlink'
    ? { uid: h.uid, gid: h.gid, mode: S_IFLNK | (h.mode & 0o7777), target: h.linkname ?? '', xattrs }
    : { uid: h.uid, gid: h.gid, mode: S_IFREG | (h.mode & 0o7777), xattrs };
  if (h.type === 'symlink' && !meta.target) throw oci(`${what}: symlink '${path}' has no target`);
  await store.writeContent(meta, h.type === 'file' ? e.body : undefined);
  st.res.entries++;
}

/** Read every layer of `image` into `store` and rebuild its commit (see the module comment). */
export async function importImage(store: Store, image: Image, report: Report): Promise<ImportResult> {
  const commit = imageCommit(image);
  const st: State = { meta: new Map(), metaBytes: 0, res: { commit, entries: 0, layers: image.manifest.layers.length } };
  const ids = image.config.rootfs.diff_ids;
  const progress = report.progress('import layers', image.manifest.layers.length, 'items');
  for (const [i, layer] of image.manifest.layers.entries()) {
    if (layer.mediaType !== MEDIA.layerGzip && layer.mediaType !== MEDIA.layerTar && layer.mediaType !== 'application/vnd.docker.image.rootfs.diff.tar.gzip') {
      throw oci(`layer ${layer.digest} has media type '${layer.mediaType}': only tar and tar+gzip layers are read`);
    }
    await verifyBlob(image.dir, layer);
    const what = `layer ${i + 1} (${layer.digest.slice(0, 19)})`;
    const diff = createHash('sha256');
    const stream = layerStream(blobPath(image.dir, layer.digest), !layer.mediaType.endsWith('.tar'), diff);
    for await (const e of readTar(stream, what)) await importEntry(store, e, st, what);
    // The tar ends at its end marker; the diff_id covers the bytes after it too (record padding).
    for await (const chunk of stream) void chunk;
    if (`sha256:${diff.digest('hex')}` !== ids[i]) throw oci(`${what}: its uncompressed bytes do not match diff_id ${ids[i]}`, 'the image is damaged or was tampered with; nothing was deployed');
    progress.tick(1);
  }
  progress.done();
  writeTree(store, commit, st);
  return st.res;
}

/** Check the commit's whole tree is there, then write its metadata objects children first. */
function writeTree(store: Store, commit: Checksum, st: State): void {
  const get = (type: MetaType, csum: Checksum): Buffer | undefined => {
    const m = st.meta.get(csum);
    if (m && m.type === type) return m.bytes;
    return store.hasObject(csum, type) ? store.readMetadata(type, csum) : undefined;
  };
  const commitBytes = get('commit', commit);
  if (!commitBytes) throw oci(`the image does not carry commit ${commit} (its ostree.commit label) under /${OBJECTS_DIR}`);
  const c = decodeCommit(commitBytes);
  const done = new Set<string>();
  const tree = (path: string, t: Checksum, m: Checksum): void => {
    if (done.has(t + m)) return;
    const metaBytes = get('dirmeta', m);
    if (!metaBytes) throw oci(`the image lacks dirmeta ${m} of /${path}`);
    decodeDirMeta(metaBytes);
    store.writeMetadata('dirmeta', metaBytes);
    // A dirtree in the store was written after its whole subtree (the store's pull invariant).
    if (store.hasObject(t, 'dirtree')) {
      done.add(t + m);
      return;
    }
    const bytes = get('dirtree', t);
    if (!bytes) throw oci(`the image lacks dirtree ${t} of /${path}`);
    const dt = decodeDirTree(bytes);
    for (const [name, csum] of dt.files) {
      if (!store.hasObject(csum, 'file')) {
        throw oci(`no layer entry gives /${path ? `${path}/` : ''}${name} as the commit records it (content object ${csum})`, 'a file was changed in the image after export, or the image is damaged; nothing was deployed');
      }
    }
    for (const [name, sub, subMeta] of dt.dirs) tree(path ? `${path}/${name}` : name, sub, subMeta);
    store.writeMetadata('dirtree', bytes);
    done.add(t + m);
  };
  tree('', c.rootTree, c.rootMeta);
  store.writeMetadata('commit', commitBytes);
}
