/**
 * The OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`, `index.json`, and
 * content-addressed `blobs/sha256/<hex>` holding the manifest, the config and the layers.
 * Writing streams each layer through gzip while hashing both sides (the blob digest of the
 * compressed bytes, the config's `diff_id` of the tar); reading re-hashes every blob it uses
 * and refuses one whose bytes do not match its digest or size, before anything is built from it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { LayerError } from '../errors.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** The annotation naming a manifest in index.json (the `:TAG` of `oci:DIR:TAG`). */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Most bytes of index.json, a manifest or a config (they are small JSON documents). */
const MAX_JSON = 4 << 20;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: { Labels?: Record<string, string> };
  rootfs: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string }>;
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function blobPath(dir: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new LayerError('LAYER_OCI', `'${digest}' is not a sha256 digest`);
  return join(dir, 'blobs', 'sha256', digest.slice(7));
}

function initLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}

/** Write a JSON document as a blob; its descriptor. */
export function writeJsonBlob(dir: string, mediaType: string, doc: unknown): Descriptor {
  initLayout(dir);
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(dir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** A layer blob being written: tar bytes in, gzip out, both hashed. */
export class LayerBlobWriter {
  private readonly diff = createHash('sha256');
  private readonly comp = createHash('sha256');
  private readonly gzip: Gzip = createGzip({ level: 6 });
  private readonly out: WriteStream;
  private readonly tmp: string;
  private readonly piped: Promise<void>;
  private size = 0;

  constructor(private readonly dir: string) {
    initLayout(dir);
    this.tmp = join(dir, 'blobs', 'sha256', `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    this.out = createWriteStream(this.tmp);
    const hash = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.comp.update(chunk);
        this.size += chunk.length;
        cb(null, chunk);
      },
    });
    this.piped = pipeline(this.gzip, hash, this.out);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.diff.update(bytes);
    if (!this.gzip.write(bytes)) await once(this.gzip, 'drain');
  }

  /** Close the blob and name it by its digest. */
  async finish(): Promise<{ desc: Descriptor; diffId: string }> {
    this.gzip.end();
    await this.piped;
    const digest = `sha256:${this.comp.digest('hex')}`;
    renameSync(this.tmp, blobPath(this.dir, digest));
    return { desc: { mediaType: MEDIA.layerGzip, digest, size: this.size }, diffId: `sha256:${this.diff.digest('hex')}` };
  }
}

/** Point `tag` in DIR's index.json at `manifest` (other tags kept). */
export function writeIndex(dir: string, manifest: Descriptor, tag: string): void {
  const file = join(dir, 'index.json');
  let manifests: Descriptor[] = [];
  if (existsSync(file)) {
    const old = parseJson<{ manifests?: Descriptor[] }>(readFileSync(file), `${file}`);
    manifests = (old.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
  }
  manifests.push({ ...manifest, annotations: { [REF_NAME]: tag } });
  writeFileSync(file, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests }));
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new LayerError('LAYER_OCI', `${what} is not JSON`, { cause: err });
  }
}

/** Re-hash a blob; LAYER_OCI when its size or sha256 differs from the descriptor. */
export async function verifyBlob(dir: string, d: Descriptor): Promise<void> {
  const path = blobPath(dir, d.digest);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new LayerError('LAYER_OCI', `blob ${d.digest} is missing from ${dir}`, { cause: err });
  }
  if (size !== d.size) throw new LayerError('LAYER_OCI', `blob ${d.digest} in ${dir} is ${size} bytes, its descriptor says ${d.size}`);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const got = `sha256:${h.digest('hex')}`;
  if (got !== d.digest) throw new LayerError('LAYER_OCI', `blob ${d.digest} in ${dir} does not match its digest (its bytes hash to ${got})`, { hint: 'the image is damaged or was tampered with; nothing was deployed' });
}

async function readJsonBlob<T>(dir: string, d: Descriptor, what: string): Promise<T> {
  if (!Number.isSafeInteger(d.size) || d.size > MAX_JSON) throw new LayerError('LAYER_OCI', `${what} ${d.digest}: ${d.size} bytes is over the ${MAX_JSON}-byte limit`);
  await verifyBlob(dir, d);
  return parseJson<T>(readFileSync(blobPath(dir, d.digest)), `${what} ${d.digest}`);
}

export interface Image {
  dir: string;
  manifestDigest: string;
  manifest: Manifest;
  config: ImageConfig;
}

/** The manifest `tag` names in DIR's index.json (or its only manifest), with the config: both verified. */
export async function readImage(dir: string, tag?: string): Promise<Image> {
  if (!existsSync(join(dir, 'oci-layout'))) throw new LayerError('LAYER_OCI', `${dir} is not an OCI image layout (no oci-layout file)`);
  const index = parseJson<{ manifests?: Descriptor[] }>(readFileSync(join(dir, 'index.json')), `${dir}/index.json`);
  const all = Array.isArray(index.manifests) ? index.manifests : [];
  const hits = tag === undefined ? all : all.filter((m) => m.annotations?.[REF_NAME] === tag);
  const desc = hits[0];
  if (!desc || hits.length > 1) {
    const tags = all.map((m) => m.annotations?.[REF_NAME]).filter(Boolean).join(', ');
    throw new LayerError('LAYER_OCI', `${dir}: ${hits.length > 1 ? 'several manifests, give a tag' : `no manifest${tag ? ` tagged '${tag}'` : ''}`}${tags ? ` (tags: ${tags})` : ''}`);
  }
  if (desc.mediaType !== MEDIA.manifest) throw new LayerError('LAYER_OCI', `${dir}: the manifest is a '${desc.mediaType}', not an OCI image manifest (image indexes of several platforms are not read)`);
  const manifest = await readJsonBlob<Manifest>(dir, desc, 'manifest');
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new LayerError('LAYER_OCI', `manifest ${desc.digest} lacks its config or layers`);
  const config = await readJsonBlob<ImageConfig>(dir, manifest.config, 'config');
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== manifest.layers.length) {
    throw new LayerError('LAYER_OCI', `config ${manifest.config.digest}: ${Array.isArray(ids) ? ids.length : 'no'} rootfs.diff_ids for ${manifest.layers.length} layers`);
  }
  return { dir, manifestDigest: desc.digest, manifest, config };
}
