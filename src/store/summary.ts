/**
 * The repository `summary` (formats.md §2.8), as `ostree summary -u` (2022.7) writes it: a
 * GVariant `(a(s(taya{sv}))a{sv})`. Per ref, sorted by name bytes: the commit object's size
 * (a `t` in little-endian, unlike every other ostree integer), the 32-byte commit checksum and
 * `{ostree.commit.version?, ostree.commit.timestamp (BE)}`; then the repo's own keys
 * `ostree.summary.mode`, `.last-modified` (BE), `.tombstone-commits`, `.indexed-deltas`, in
 * the order ostree writes them. HTTP clients read it to resolve refs in one request.
 *
 * Crash safety: written to `tmp/` and renamed over the old summary, after the refs it lists.
 */
import { LayerError } from '../errors.js';
import { V, Variant, deserialize, serialize, type GValue } from './gvariant/index.js';
import { decodeCommit, isChecksum, type Checksum } from './objects.js';
import type { ArchiveRepo } from './archive.js';

const SUMMARY = '(a(s(taya{sv}))a{sv})';

export interface SummaryRef {
  ref: string;
  commit: Checksum;
  /** Bytes of the commit object. */
  size: number;
  /** Seconds since the epoch. */
  timestamp: bigint;
  version?: string;
}

export interface Summary {
  refs: SummaryRef[];
  mode?: string;
  lastModified?: bigint;
}

function beU64(v: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.readBigUInt64BE();
}

/** Serialise a summary. `lastModified` defaults to now. */
export function encodeSummary(refs: readonly SummaryRef[], opts: { mode: string; lastModified?: bigint }): Buffer {
  const sorted = [...refs].sort((a, b) => Buffer.compare(Buffer.from(a.ref), Buffer.from(b.ref)));
  const entries: GValue[] = sorted.map((r) => {
    const md: GValue[] = [];
    if (r.version !== undefined) md.push(['ostree.commit.version', V.string(r.version)]);
    md.push(['ostree.commit.timestamp', V.u64be(r.timestamp)]);
    return [r.ref, [BigInt(r.size), Buffer.from(r.commit, 'hex'), md]];
  });
  const last = opts.lastModified ?? BigInt(Math.floor(Date.now() / 1000));
  const repoMd: GValue[] = [
    ['ostree.summary.mode', V.string(opts.mode)],
    ['ostree.summary.last-modified', V.u64be(last)],
    ['ostree.summary.tombstone-commits', V.bool(false)],
    ['ostree.summary.indexed-deltas', V.bool(true)],
  ];
  return serialize(SUMMARY, [entries, repoMd]);
}

/** Parse a summary (what a client fetched); refs keep the file's order. */
export function decodeSummary(bytes: Uint8Array): Summary {
  let v: GValue[];
  try {
    v = deserialize(SUMMARY, bytes) as GValue[];
  } catch (err) {
    throw new LayerError('LAYER_STORE_CORRUPT', `summary is not a ${SUMMARY}`, { cause: err });
  }
  const [entries, repoMd] = v as [GValue[][], GValue[][]];
  const refs = entries.map(([ref, data]) => {
    const [size, csum, md] = data as [bigint, Uint8Array, GValue[][]];
    const commit = Buffer.from(csum).toString('hex');
    if (!isChecksum(commit)) throw new LayerError('LAYER_STORE_CORRUPT', `summary ref ${String(ref)}: checksum is not 32 bytes`);
    const get = (k: string) => (md.find(([key]) => key === k)?.[1] as Variant | undefined)?.value;
    const ts = get('ostree.commit.timestamp');
    const version = get('ostree.commit.version');
    return {
      ref: ref as string, commit, size: Number(size), timestamp: typeof ts === 'bigint' ? beU64(ts) : 0n,
      ...(typeof version === 'string' ? { version } : {}),
    };
  });
  const get = (k: string) => (repoMd.find(([key]) => key === k)?.[1] as Variant | undefined)?.value;
  const mode = get('ostree.summary.mode');
  const last = get('ostree.summary.last-modified');
  return { refs, ...(typeof mode === 'string' ? { mode } : {}), ...(typeof last === 'bigint' ? { lastModified: beU64(last) } : {}) };
}

/** Regenerate `summary` from the archive's refs (`ostree summary -u`). Returns what it wrote. */
export function updateSummary(repo: ArchiveRepo, opts: { lastModified?: bigint } = {}): SummaryRef[] {
  const refs: SummaryRef[] = [];
  for (const [ref, commit] of repo.listRefs()) {
    const bytes = repo.readObject(commit, 'commit');
    const c = decodeCommit(bytes);
    const v = c.metadata.find(([k]) => k === 'version')?.[1];
    refs.push({ ref, commit, size: bytes.length, timestamp: c.timestamp, ...(v && typeof v.value === 'string' ? { version: v.value } : {}) });
  }
  repo.writeFileAtomic('summary', encodeSummary(refs, { mode: 'archive-z2', ...opts }));
  return refs;
}
