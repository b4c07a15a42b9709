/**
 * The static-delta side of an HTTP pull (as `ostree pull` 2022.7 with `indexed-deltas`): fetch
 * `delta-indexes/…/TO.index`; if it lists a delta from a commit the store already has (else one
 * from nothing), fetch its superblock (checked against the index's SHA-256), then each part
 * (checked against the superblock's SHA-256 before anything in it is used), decompress it
 * (xz through Debian's `xz`, bounded) and execute it (store/delta/apply.ts). Parts whose
 * objects the store already has are not fetched (a resumed pull).
 *
 * What it returns is the delta's metadata objects (commit, dirtrees, dirmeta), verified but
 * not written: the object walk of ostree-remote.ts takes them from there instead of the server
 * and writes them children first, and fetches whatever the delta did not carry (fallbacks). A
 * corrupt part is an error (LAYER_REPO_CHECKSUM) before any of it is used.
 */
import { LayerError } from '../../errors.js';
import { type FetchOptions, type Fetcher, joinUrl } from '../../net/index.js';
import type { Report } from '../../report.js';
import type { PullProgress } from './pull-progress.js';
import { decompress } from '../../rpm/decompress.js';
import {
  decodeIndex, decodePartPayload, decodeSuperblock, deltaDir, executePart, indexPath, parseDeltaName,
  type PartHeader, type Superblock,
} from '../../store/delta/index.js';
import { Variant, sha256, type Checksum, type Store } from '../../store/index.js';
import type { ObjectType } from '../../store/objects.js';

/** Most bytes of a superblock or an index; of one decompressed part; of the metadata a delta carries. */
const MAX_SUPERBLOCK = 64 << 20;
const MAX_PART = 512 << 20;
const MAX_DELTA_METADATA = 512 << 20;

export type DeltaMetadata = Map<string, { type: Exclude<ObjectType, 'file'>; csum: Checksum; bytes: Buffer }>;

export interface DeltaPullResult {
  from?: Checksum;
  parts: number;
  /** Parts skipped because the store had all their objects. */
  skipped: number;
  /** Bytes fetched: index, superblock, parts. */
  bytes: number;
  objects: number;
  metadata: DeltaMetadata;
}

export type GetBytes = (url: string, o: FetchOptions, what: string, optional: boolean) => Promise<Uint8Array | undefined>;

interface Ctx { fetcher: Fetcher; o: FetchOptions; get: GetBytes; report: Report; maxObject: number; progress?: PullProgress }

/** The delta to use for `to`: from a commit the store has, else from nothing; undefined when none. */
interface Pick { from?: Checksum; digest: Checksum; bytes: number }

async function pickDelta(store: Store, url: string, to: Checksum, ctx: Ctx): Promise<Pick | undefined> {
  const idx = await ctx.get(joinUrl(url, indexPath(to)), { ...ctx.o, maxBytes: MAX_SUPERBLOCK }, 'delta index', true);
  if (!idx) return undefined;
  let scratch: Checksum | undefined;
  for (const [name, digest] of decodeIndex(idx)) {
    const d = parseDeltaName(name);
    if (!d || d.to !== to) continue;
    if (!d.from) scratch = digest;
    else if (store.hasObject(d.from, 'commit')) return { from: d.from, digest, bytes: idx.length };
  }
  return scratch ? { digest: scratch, bytes: idx.length } : undefined;
}

async function fetchSuperblock(url: string, from: Checksum | undefined, to: Checksum, digest: Checksum, ctx: Ctx)
  : Promise<[Superblock, number]> {
  const bytes = await ctx.get(joinUrl(url, `${deltaDir(from, to)}/superblock`), { ...ctx.o, maxBytes: MAX_SUPERBLOCK }, 'delta superblock', false);
  if (!bytes) throw new LayerError('LAYER_INTERNAL', 'assertion failed: no superblock bytes');
  if (sha256(bytes) !== digest) {
    throw new LayerError('LAYER_REPO_CHECKSUM', `the superblock of delta ${from ? `${from.slice(0, 12)}-` : ''}${to.slice(0, 12)} from ${url} does not match its index`, { hint: 'the delta on the server is corrupt; regenerate it' });
  }
  const sb = decodeSuperblock(bytes);
  if (sb.to !== to || sb.from !== from) throw new LayerError('LAYER_REPO_CORRUPT', `the superblock at ${deltaDir(from, to)} names another delta`);
  return [sb, bytes.length];
}

async function inflatePart(file: Uint8Array, what: string): Promise<Uint8Array> {
  const body = file.subarray(1);
  if (file[0] === 0) return body;
  if (file[0] !== 0x78) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: unknown compression type 0x${(file[0] ?? 0).toString(16)}`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of decompress('xz', (async function* () { yield body; })(), what)) {
      size += c.length;
      if (size > MAX_PART) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: decompresses to more than ${MAX_PART} bytes`);
      chunks.push(c);
    }
  } catch (err) {
    if (err instanceof LayerError && err.code === 'LAYER_REPO_CORRUPT') throw err;
    throw new LayerError('LAYER_REPO_CORRUPT', `${what}: the xz data does not decompress: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(chunks);
}

async function fetchPart(url: string, sb: Superblock, i: number, h: PartHeader, ctx: Ctx): Promise<Uint8Array> {
  const what = `delta part ${i}`;
  // `ostree static-delta generate --inline` puts parts in the superblock (covered by its digest).
  const inline = sb.metadata.find(([k]) => k === `${deltaDir(sb.from, sb.to)}/${i}`)?.[1];
  if (inline instanceof Variant && inline.type === '(yay)') {
    const [comp, body] = inline.value as [number, Uint8Array];
    return Buffer.concat([Buffer.from([comp]), body]);
  }
  const file = await ctx.get(joinUrl(url, `${deltaDir(sb.from, sb.to)}/${i}`), { ...ctx.o, maxBytes: h.size + 1 }, what, false);
  if (!file) throw new LayerError('LAYER_INTERNAL', 'assertion failed: no part bytes');
  if (file.length !== h.size || sha256(file) !== h.checksum) {
    throw new LayerError('LAYER_REPO_CHECKSUM', `${what} of ${deltaDir(sb.from, sb.to)} from ${url} does not match its checksum`, { hint: 'the delta on the server is corrupt; regenerate it' });
  }
  return file;
}

/**
 * Pull `to` through a static delta if the server offers one. Returns undefined when there is
 * none: the caller pulls objects.
 */
export async function pullDelta(store: Store, url: string, to: Checksum, ctx: Ctx): Promise<DeltaPullResult | undefined> {
  const pick = await pickDelta(store, url, to, ctx);
  if (!pick) return undefined;
  const [sb, sbBytes] = await fetchSuperblock(url, pick.from, to, pick.digest, ctx);
  const res: DeltaPullResult = {
    parts: sb.parts.length, skipped: 0, bytes: pick.bytes + sbBytes, objects: 0, metadata: new Map(),
    ...(pick.from ? { from: pick.from } : {}),
  };
  res.metadata.set(`commit${to}`, { type: 'commit', csum: to, bytes: sb.commit });
  const parts = sb.parts.length;
  const partBytes = sb.parts.reduce((n, h) => n + h.size, 0);
  const bar = ctx.progress?.delta({ ...(pick.from ? { from: pick.from } : {}), to, parts, bytes: partBytes });
  let metaBytes = 0;
  for (const [i, h] of sb.parts.entries()) {
    if (h.objects.every((o) => o.type === 'file' && store.hasObject(o.csum, 'file'))) {
      res.skipped++;
      ctx.progress?.deltaPart({ part: i, parts, bytes: 0, objects: h.objects.length, skipped: true });
      bar?.tick(1);
      continue;
    }
    const file = await fetchPart(url, sb, i, h, ctx);
    res.bytes += file.length;
    const payload = decodePartPayload(await inflatePart(file, `delta part ${i}`));
    const out = await executePart(store, h.objects, payload, ctx.maxObject, `delta part ${i}`);
    res.objects += out.written + out.present + out.metadata.size;
    for (const [k, v] of out.metadata) {
      metaBytes += v.bytes.length;
      if (metaBytes > MAX_DELTA_METADATA) throw new LayerError('LAYER_REPO_CORRUPT', `delta ${deltaDir(sb.from, to)}: over ${MAX_DELTA_METADATA} bytes of metadata objects`);
      res.metadata.set(k, v);
    }
    ctx.progress?.deltaPart({ part: i, parts, bytes: file.length, objects: h.objects.length, skipped: false });
    bar?.tick(1);
  }
  bar?.done();
  return res;
}
