/**
 * An OCI image in ostree-ext's chunked form (what `layer export --oci` writes, see export.ts
 * and ostree-tar.ts) back into an OSTree commit in a Store, with the same checksum. Only the
 * objects under `sysroot/ostree/repo/objects/` count, as in ostree-ext's importer: each `.file`
 * object is written from its tar entry (owner, mode, bytes or symlink target) and the xattrs of
 * the `.file-xattrs-link` entry just before it (a regular file holding the `a(ayay)` GVariant,
 * or a hardlink to a `.file-xattrs` entry), and must hash to its name; the commit, dirtree and
 * dirmeta objects come verbatim. The rootfs entries (hardlinks to the objects, directories) are
 * a view for container runtimes and are not read. The commit is the one `ostree.commit` names.
 * Images in the plain-rootfs form of earlier layer versions are not read (they have no `.file`
 * objects: the tree check below names the first missing file).
 *
 * Layers: every layer up to the one the `ostree.final-diffid` label names (layer 0 holds the
 * commit); an image with layers after it (derived with FROM …) is refused, as those changes
 * would not be in the commit.
 *
 * Verification, before the commit exists in the store: every blob's size and sha256 (manifest,
 * config, layers; layout.ts), every layer's uncompressed sha256 against its `diff_id`, every
 * object's checksum against its name, and the whole tree: each content object the dirtrees
 * name must be in the store.
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
import { deserialize } from '../store/gvariant/index.js';
import { decodeXattrs } from '../store/objects.js';
import {
  S_IFLNK, S_IFREG, decodeCommit, decodeDirMeta, decodeDirTree, isChecksum, sha256, type Checksum, type Store, type Xattrs,
} from '../store/index.js';
import { OBJECTS_DIR } from './ostree-tar.js';
import { MEDIA, blobPath, verifyBlob, type Image } from './layout.js';
import { readTar, type TarEntry } from './tar.js';

/** Most bytes of all metadata objects of one image together (held until the tree is checked). */
const MAX_METADATA = 256 << 20;
/** Most bytes of one xattrs GVariant (ostree-ext's limit). */
const MAX_XATTRS = 1 << 20;
const OBJECT = new RegExp(`^${OBJECTS_DIR}/([0-9a-f]{2})/([0-9a-f]{62})\\.(commit|dirtree|dirmeta|commitmeta|file|file-xattrs|file-xattrs-link)$`);

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
  /** `.file-xattrs` objects seen, by checksum. */
  xattrs: Map<string, Xattrs>;
  /** The xattrs the next `.file` entry must take (from the `.file-xattrs-link` just before it). */
  next?: { csum: string; xattrs: Xattrs };
  res: ImportResult;
}

const damaged = 'the image is damaged or was tampered with; nothing was deployed';

function parseXattrs(bytes: Buffer, what: string): Xattrs {
  try {
    return decodeXattrs(deserialize('a(ayay)', bytes));
  } catch (err) {
    throw new LayerError('LAYER_OCI', `${what}: not an xattrs GVariant`, { cause: err, hint: damaged });
  }
}

/** A `.file-xattrs` object (kept by checksum) or a `.file-xattrs-link` (for the next `.file`). */
async function xattrsEntry(e: TarEntry, csum: string, type: string, st: State, what: string): Promise<void> {
  if (type === 'file-xattrs-link' && e.header.type === 'hardlink') {
    const target = OBJECT.exec(normalise(e.header.linkname ?? ''));
    const x = target?.[3] === 'file-xattrs' ? st.xattrs.get(`${target[1]}${target[2]}`) : undefined;
    if (!x) throw oci(`${what}: the xattrs link of ${csum} names no .file-xattrs object before it`, damaged);
    st.next = { csum, xattrs: x };
    return;
  }
  if (e.header.type !== 'file') throw oci(`${what}: the xattrs of ${csum} are a ${e.header.type}, not a file`);
  const bytes = await collect(e.body, MAX_XATTRS, `${what}: xattrs of ${csum}`);
  const xattrs = parseXattrs(bytes, `${what}: xattrs of ${csum}`);
  if (type === 'file-xattrs') {
    if (sha256(bytes) !== csum) throw oci(`${what}: xattrs object ${csum} does not match its checksum`, damaged);
    st.metaBytes += bytes.length;
    st.xattrs.set(csum, xattrs);
  } else {
    st.next = { csum, xattrs };
  }
}

/** A `.file` object: written with the xattrs announced before it; it must hash to its name. */
async function contentEntry(store: Store, e: TarEntry, csum: string, st: State, what: string): Promise<void> {
  const h = e.header;
  const xattrs = st.next?.csum === csum ? st.next.xattrs : undefined;
  st.next = undefined;
  if (!xattrs) throw oci(`${what}: content object ${csum} has no .file-xattrs-link entry just before it`, damaged);
  if (h.type !== 'file' && h.type !== 'symlink') throw oci(`${what}: content object ${csum} is a ${h.type}`);
  const meta = h.type === 'symlink'
    ? { uid: h.uid, gid: h.gid, mode: S_IFLNK | (h.mode & 0o7777), target: h.linkname ?? '', xattrs }
    : { uid: h.uid, gid: h.gid, mode: S_IFREG | (h.mode & 0o7777), xattrs };
  if (h.type === 'symlink' && !meta.target) throw oci(`${what}: symlink object ${csum} has no target`);
  const got = await store.writeContent(meta, h.type === 'file' ? e.body : undefined);
  if (got !== csum) throw oci(`${what}: content object ${csum} does not match its checksum (its entry hashes to ${got})`, damaged);
  st.res.entries++;
}

/** One tar entry: an object under the repo, or nothing (config, refs, directories, the rootfs view). */
async function importEntry(store: Store, e: TarEntry, st: State, what: string): Promise<void> {
  const obj = OBJECT.exec(normalise(e.header.path));
  if (!obj || e.header.type === 'dir') return;
  const [, a, b, type] = obj as unknown as [string, string, string, string];
  const csum = a + b;
  if (type === 'file') return contentEntry(store, e, csum, st, what);
  if (type === 'file-xattrs' || type === 'file-xattrs-link') return xattrsEntry(e, csum, type, st, what);
  if (type === 'commitmeta') return; // detached signatures: not carried over (see README)
  if (e.header.type !== 'file') throw oci(`${what}: ${type} object ${csum} is a ${e.header.type}, not a file`);
  const bytes = await collect(e.body, MAX_METADATA, `${what}: ${csum}.${type}`);
  if (sha256(bytes) !== csum) throw oci(`${what}: ${type} object ${csum} does not match its checksum`, damaged);
  st.metaBytes += bytes.length;
  if (st.metaBytes > MAX_METADATA) throw oci(`${what}: OSTree metadata over the ${MAX_METADATA}-byte limit`);
  st.meta.set(csum, { type: type as MetaType, bytes });
}

/** How many layers are OSTree layers: up to the one `ostree.final-diffid` names; later ones are refused. */
function ostreeLayerCount(image: Image): number {
  const ids = image.config.rootfs.diff_ids;
  const final = image.config.config?.Labels?.['ostree.final-diffid'];
  const at = final === undefined ? -1 : ids.indexOf(final);
  if (at < 0) throw oci(`image ${image.manifestDigest} has no ostree.final-diffid label naming one of its layers: it is not an ostree-native (chunked) image`);
  if (at < ids.length - 1) {
    throw oci(`image ${image.manifestDigest} has ${ids.length - 1 - at} layer(s) after its OSTree layers (derived with FROM …): layer does not import those`,
      'deploy the base image itself, or layer the changes with layer install');
  }
  return at + 1;
}

/** Read every layer of `image` into `store` and rebuild its commit (see the module comment). */
export async function importImage(store: Store, image: Image, report: Report): Promise<ImportResult> {
  const commit = imageCommit(image);
  ostreeLayerCount(image);
  const st: State = { meta: new Map(), metaBytes: 0, xattrs: new Map(), res: { commit, entries: 0, layers: image.manifest.layers.length } };
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
    if (`sha256:${diff.digest('hex')}` !== ids[i]) throw oci(`${what}: its uncompressed bytes do not match diff_id ${ids[i]}`, damaged);
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
