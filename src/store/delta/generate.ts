/**
 * Generating a static delta in an archive repo (`ostree static-delta generate` without bsdiff
 * or rollsum): every object reachable from `to` and not from `from` goes into the parts with
 * the simplest operation ostree executes, open-splice-and-close ('S'): metadata objects as
 * raw bytes, content objects as (mode, xattrs, size, offset) into the part's raw data. Files
 * over `fallbackSize` are listed as fallbacks instead (clients fetch their `.filez`), as
 * ostree does for big files it will not bsdiff. Parts are compressed with Debian's `xz` (ostree's
 * 'x', any xz stream its lzma decoder reads) or left uncompressed ('0', also valid ostree).
 *
 * Order: content, then dirmeta, then dirtrees children first, so a client writing objects in
 * delta order never holds a dirtree whose subtree is incomplete.
 *
 * Crash safety: parts and then the superblock are written by temp file + rename, the
 * filesystem is synced, and only then is the delta index (what clients look up) replaced; an
 * interrupted generation leaves an unindexed delta directory that the next run overwrites.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../../errors.js';
import type { ArchiveRepo } from '../archive.js';
import { decodeFilez } from '../archive.js';
import { S_IFLNK, S_IFMT, be32, decodeCommit, decodeDirTree, encodeXattrs, sha256, type Checksum, type FileMeta } from '../objects.js';
import { serialize, type GValue } from '../gvariant/index.js';
import {
  b64ToChecksum, deltaDir, deltaName, encodeIndex, encodePartFile, encodePartPayload, encodeSuperblock, indexPath,
  writeVarint, type DeltaObject, type Fallback, type PartHeader,
} from './format.js';

export interface GenerateOptions {
  /** Most raw bytes in one part before a new one starts (default 16 MiB). */
  maxPartBytes?: number;
  /** Content objects bigger than this are fallbacks (default 4 MiB, ostree's min-fallback-size). */
  fallbackSize?: number;
  /** 'xz' (default) or 'none'. */
  compression?: 'xz' | 'none';
}

export interface DeltaResult {
  from?: Checksum;
  to: Checksum;
  /** Directory of the delta relative to the repo. */
  path: string;
  parts: number;
  objects: number;
  fallbacks: number;
  /** Bytes a client fetches: superblock + parts (fallback .filez not included). */
  bytes: number;
}

interface Reachable { trees: Set<string>; metas: Set<string>; files: Set<string> }

function reachable(repo: ArchiveRepo, commit: Checksum): Reachable {
  const r: Reachable = { trees: new Set(), metas: new Set(), files: new Set() };
  const c = decodeCommit(repo.readObject(commit, 'commit'));
  const walk = (tree: Checksum, meta: Checksum): void => {
    r.metas.add(meta);
    if (r.trees.has(tree)) return;
    r.trees.add(tree);
    const t = decodeDirTree(repo.readObject(tree, 'dirtree'));
    for (const [, f] of t.files) r.files.add(f);
    for (const [, sub, m] of t.dirs) walk(sub, m);
  };
  walk(c.rootTree, c.rootMeta);
  return r;
}

/** Objects of `to` not reachable from `from`, in write order (content, dirmeta, dirtrees post-order). */
function newObjects(repo: ArchiveRepo, from: Reachable, to: Checksum): DeltaObject[] {
  const files: DeltaObject[] = [];
  const metas: DeltaObject[] = [];
  const trees: DeltaObject[] = [];
  const seen = new Set<string>();
  const c = decodeCommit(repo.readObject(to, 'commit'));
  const walk = (tree: Checksum, meta: Checksum): void => {
    if (!from.metas.has(meta) && !seen.has(`m${meta}`)) {
      seen.add(`m${meta}`);
      metas.push({ type: 'dirmeta', csum: meta });
    }
    // A dirtree the old commit has: its whole subtree is on the client already.
    if (from.trees.has(tree) || seen.has(`t${tree}`)) return;
    seen.add(`t${tree}`);
    const t = decodeDirTree(repo.readObject(tree, 'dirtree'));
    for (const [, f] of t.files) {
      if (!from.files.has(f) && !seen.has(`f${f}`)) {
        seen.add(`f${f}`);
        files.push({ type: 'file', csum: f });
      }
    }
    for (const [, sub, m] of t.dirs) walk(sub, m);
    trees.push({ type: 'dirtree', csum: tree });
  };
  walk(c.rootTree, c.rootMeta);
  return [...files, ...metas, ...trees];
}

/** One part being filled: payload arrays and the ops that splice from them. */
class PartBuilder {
  readonly objects: DeltaObject[] = [];
  private readonly modes: [number, number, number][] = [];
  private readonly modeIdx = new Map<string, number>();
  private readonly xattrs: GValue[][] = [];
  private readonly xattrIdx = new Map<string, number>();
  private readonly raw: Buffer[] = [];
  private readonly ops: number[] = [];
  rawSize = 0;
  usize = 0;

  private addRaw(b: Uint8Array): number {
    const at = this.rawSize;
    this.raw.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    this.rawSize += b.length;
    return at;
  }

  addMetadata(o: DeltaObject, bytes: Uint8Array): void {
    const at = this.addRaw(bytes);
    this.ops.push(0x53); // 'S'
    writeVarint(this.ops, bytes.length);
    writeVarint(this.ops, at);
    this.objects.push(o);
    this.usize += bytes.length;
  }

  addContent(o: DeltaObject, { meta, content }: { meta: FileMeta; content: Buffer }): void {
    const body = (meta.mode & S_IFMT) === S_IFLNK ? Buffer.from(meta.target ?? '') : content;
    const modeKey = `${meta.uid}:${meta.gid}:${meta.mode}`;
    let mi = this.modeIdx.get(modeKey);
    if (mi === undefined) {
      mi = this.modes.push([be32(meta.uid), be32(meta.gid), be32(meta.mode)]) - 1;
      this.modeIdx.set(modeKey, mi);
    }
    const x = encodeXattrs(meta.xattrs);
    const xKey = serialize('a(ayay)', x).toString('hex');
    let xi = this.xattrIdx.get(xKey);
    if (xi === undefined) {
      xi = this.xattrs.push(x) - 1;
      this.xattrIdx.set(xKey, xi);
    }
    const at = this.addRaw(body);
    this.ops.push(0x53);
    for (const n of [mi, xi, body.length, at]) writeVarint(this.ops, n);
    this.objects.push(o);
    this.usize += body.length;
  }

  payload(): Buffer {
    const xattrs = this.xattrs as [Uint8Array, Uint8Array][][];
    return encodePartPayload({ modes: this.modes, xattrs, raw: Buffer.concat(this.raw), ops: Uint8Array.from(this.ops) });
  }
}

function xz(payload: Buffer): Buffer {
  try {
    return execFileSync('xz', ['-c', '-6', '--check=crc64', '-T1'], { input: payload, maxBuffer: payload.length * 2 + (1 << 20) });
  } catch (err) {
    throw new LayerError('LAYER_STORE', `compressing a delta part with xz failed: ${(err as Error).message.split('\n')[0]}`, { cause: err, hint: 'apt-get install xz-utils, or generate uncompressed parts' });
  }
}

/** Generate the delta `from` → `to` (from undefined: from nothing) in `repo`, and index it. */
export function generateDelta(repo: ArchiveRepo, from: Checksum | undefined, to: Checksum, opts: GenerateOptions = {}): DeltaResult {
  const maxPart = opts.maxPartBytes ?? 16 << 20;
  const fallbackSize = opts.fallbackSize ?? 4 << 20;
  const comp = opts.compression ?? 'xz';
  const base = from ? reachable(repo, from) : { trees: new Set<string>(), metas: new Set<string>(), files: new Set<string>() };
  const objs = newObjects(repo, base, to);
  const dir = deltaDir(from, to);
  const parts: PartHeader[] = [];
  const fallbacks: Fallback[] = [];
  let bytes = 0;
  let cur = new PartBuilder();
  const finish = (): void => {
    if (cur.objects.length === 0) return;
    const payload = cur.payload();
    const file = encodePartFile(comp === 'xz' ? xz(payload) : payload, comp);
    repo.writeFileAtomic(`${dir}/${parts.length}`, file);
    parts.push({ checksum: sha256(file), size: file.length, usize: cur.usize, objects: cur.objects });
    bytes += file.length;
    cur = new PartBuilder();
  };
  for (const o of objs) {
    const b = repo.readObject(o.csum, o.type);
    if (o.type !== 'file') cur.addMetadata(o, b);
    else {
      const d = decodeFilez(b);
      if (d.content.length > fallbackSize) {
        fallbacks.push({ ...o, size: b.length, usize: d.content.length });
        continue;
      }
      cur.addContent(o, d);
    }
    if (cur.rawSize >= maxPart) finish();
  }
  finish();
  const superblock = encodeSuperblock({
    metadata: [], timestamp: BigInt(Math.floor(Date.now() / 1000)), to, commit: repo.readObject(to, 'commit'), parts, fallbacks,
    ...(from ? { from } : {}),
  });
  repo.writeFileAtomic(`${dir}/superblock`, superblock);
  bytes += superblock.length;
  repo.syncFilesystem();
  reindexDeltas(repo, to);
  return { ...(from ? { from } : {}), to, path: dir, parts: parts.length, objects: objs.length, fallbacks: fallbacks.length, bytes };
}

/** Every delta in `repo/deltas` as (from, to). */
export function listDeltas(repo: ArchiveRepo): { from?: Checksum; to: Checksum }[] {
  const root = join(repo.path, 'deltas');
  if (!existsSync(root)) return [];
  const out: { from?: Checksum; to: Checksum }[] = [];
  for (const a of readdirSync(root)) {
    for (const b of readdirSync(join(root, a))) {
      if (!existsSync(join(root, a, b, 'superblock'))) continue;
      const dash = b.indexOf('-');
      const from = dash < 0 ? undefined : b64ToChecksum(a + b.slice(0, dash));
      const to = b64ToChecksum(dash < 0 ? a + b : b.slice(dash + 1));
      if (to && (dash < 0 || from)) out.push({ ...(from ? { from } : {}), to });
    }
  }
  return out;
}

/** Rewrite `delta-indexes/…/TO.index` from the deltas present (as `ostree summary -u` does). */
export function reindexDeltas(repo: ArchiveRepo, to: Checksum): void {
  const entries = new Map<string, Checksum>();
  for (const d of listDeltas(repo)) {
    if (d.to !== to) continue;
    entries.set(deltaName(d.from, d.to), sha256(readFileSync(join(repo.path, deltaDir(d.from, d.to), 'superblock'))));
  }
  if (entries.size > 0) repo.writeFileAtomic(indexPath(to), encodeIndex(entries));
}
