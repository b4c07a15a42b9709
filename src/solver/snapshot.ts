/**
 * Pool snapshots: the solver's whole wasm heap, saved to disk after a large pool was loaded
 * and prepared, and put back the next time a pool is built from the same inputs.
 *
 * Why: with the 63k-package repo, reading the `.solv` caches (repo_add_solv) and building the
 * whatprovides index cost ~260 ms of Liftoff code in every command, while their inputs change
 * only when metadata is refreshed; putting back 27 MB of heap takes ~30 ms. It works because
 * wasm linear memory holds all of libsolv's state (the binary's only mutable global is the
 * stack pointer, back at its base between calls) and a pointer is an offset that means the
 * same thing in every instance of the same binary: a copy of the heap is a complete image of
 * the pool, malloc's state included.
 *
 * A snapshot is keyed by the operations that built the pool (pool.ts makes the keys: the wasm
 * binary's digest and arch, each repo with its priorities and content identity, the installed
 * repo). A file holds a JSON header and the heap's non-zero 64 KiB pages, with a CRC-32 over
 * them. Putting one back is all-or-nothing: the pages it overwrites are kept first, so a file
 * that turns out damaged (CRC, short read) is deleted and the heap is left exactly as it was.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { heapReplaced, type LibsolvModule } from './native.js';

const PAGE = 65536;
const MAGIC = 'LYSNAP01';
const ZERO = Buffer.alloc(PAGE);
/** Headers are small (a few keys); anything larger is not ours. */
const MAX_HEADER = 1 << 20;

export interface SnapshotOptions {
  /** Directory holding the snapshot files (created when the first one is saved). */
  dir: string;
  /** Only pools with at least this many packages are worth saving (default 10,000). */
  minPackages?: number;
  /** Snapshots kept, most recently used first (default 3: an upgrade check uses two pools). */
  keep?: number;
}

/** What a snapshot records besides the heap: the pool and its repos' pointers, by key order. */
export interface PoolImage {
  pool: number;
  repos: number[];
}

interface Header extends PoolImage {
  ops: string[];
  memBytes: number;
  /** [first page, page count] of each run of stored pages, in file order. */
  runs: [number, number][];
  crc: number;
}

interface Entry {
  path: string;
  header: Header;
  dataOffset: number;
}

export class SnapshotStore {
  readonly dir: string;
  readonly minPackages: number;
  readonly #keep: number;
  #entries: Entry[] | undefined;

  constructor(opts: SnapshotOptions) {
    this.dir = opts.dir;
    this.minPackages = opts.minPackages ?? 10_000;
    this.#keep = Math.max(1, opts.keep ?? 3);
  }

  /** Is there a snapshot whose operations start with `ops`? (Then adding can wait.) */
  hasPrefix(ops: readonly string[]): boolean {
    return this.#index().some((e) => e.header.ops.length >= ops.length && ops.every((k, i) => e.header.ops[i] === k));
  }

  /**
   * Replace the heap with the snapshot of exactly `ops`, if there is one and it is intact.
   * The caller guarantees that no pointer into the current heap is still in use.
   */
  restore(m: LibsolvModule, ops: readonly string[]): PoolImage | undefined {
    const entry = this.#index().find((e) => e.header.ops.length === ops.length && ops.every((k, i) => e.header.ops[i] === k));
    if (!entry) return undefined;
    const image = putBack(m, entry);
    if (!image) {
      this.#drop(entry);
      return undefined;
    }
    heapReplaced();
    try {
      const now = new Date();
      utimesSync(entry.path, now, now);
    } catch {
      // Only the eviction order depends on it.
    }
    return image;
  }

  /** Save the current heap as the snapshot of `ops`. A cache: failing to write is not an error. */
  save(m: LibsolvModule, ops: readonly string[], image: PoolImage): void {
    scrubFree(m);
    const heap = m.HEAPU8;
    const runs = nonZeroRuns(heap);
    let crc = 0;
    for (const [first, count] of runs) crc = crc32(heap.subarray(first * PAGE, (first + count) * PAGE), crc);
    const header: Header = { ops: [...ops], memBytes: heap.length, runs, crc, ...image };
    const json = Buffer.from(JSON.stringify(header));
    const head = Buffer.alloc(MAGIC.length + 4);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, MAGIC.length);
    const name = `${createName(ops)}.snap`;
    const tmp = join(this.dir, `.tmp-${process.pid}-${name}`);
    let fd = -1;
    try {
      mkdirSync(this.dir, { recursive: true });
      fd = openSync(tmp, 'w', 0o644);
      writeAll(fd, head);
      writeAll(fd, json);
      for (const [first, count] of runs) writeAll(fd, heap.subarray(first * PAGE, (first + count) * PAGE));
      closeSync(fd);
      fd = -1;
      renameSync(tmp, join(this.dir, name));
    } catch {
      if (fd >= 0) closeSync(fd);
      rmSync(tmp, { force: true });
      return;
    }
    this.#entries = undefined;
    this.#evict(name);
  }

  #index(): Entry[] {
    if (this.#entries) return this.#entries;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.snap') && !n.startsWith('.'));
    } catch {
      names = [];
    }
    this.#entries = names.map((n) => readEntry(join(this.dir, n))).filter((e): e is Entry => e !== undefined);
    return this.#entries;
  }

  #drop(entry: Entry): void {
    rmSync(entry.path, { force: true });
    this.#entries = this.#entries?.filter((e) => e !== entry);
  }

  /**
   * Keep the `keep` most recently used snapshots (the one just written among them), and drop the
   * temp files of writers that died (a kill during a save).
   */
  #evict(written: string): void {
    let files: { path: string; mtime: number }[];
    try {
      const names = readdirSync(this.dir);
      for (const n of names) {
        const pid = /^\.tmp-(\d+)-/.exec(n)?.[1];
        if (pid !== undefined && !alive(Number(pid))) rmSync(join(this.dir, n), { force: true });
      }
      files = names
        .filter((n) => n.endsWith('.snap') && !n.startsWith('.') && n !== written)
        .map((n) => ({ path: join(this.dir, n), mtime: statSync(join(this.dir, n)).mtimeMs }));
    } catch {
      return;
    }
    files.sort((a, b) => b.mtime - a.mtime);
    for (const f of files.slice(this.#keep - 1)) rmSync(f.path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A file name from the operations: the same inputs always land in the same file. */
function createName(ops: readonly string[]): string {
  return crc32(ops.join('\n')).toString(16).padStart(8, '0') + '-' + ops.length;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

function readEntry(path: string): Entry | undefined {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(MAGIC.length + 4);
    if (readSync(fd, head, 0, head.length, 0) !== head.length || head.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
    const len = head.readUInt32LE(MAGIC.length);
    if (len > MAX_HEADER) return undefined;
    const json = Buffer.alloc(len);
    if (readSync(fd, json, 0, len, head.length) !== len) return undefined;
    const header = JSON.parse(json.toString('utf8')) as Header;
    const dataOffset = head.length + len;
    const pages = header.runs.reduce((n, [, count]) => n + count, 0);
    if (statSync(path).size !== dataOffset + pages * PAGE) return undefined;
    return { path, header, dataOffset };
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Runs of consecutive pages that hold any non-zero byte. */
function nonZeroRuns(heap: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  const pages = Math.ceil(heap.length / PAGE);
  for (let p = 0; p < pages; p++) {
    if (isZeroPage(heap, p)) continue;
    const last = runs.at(-1);
    if (last && last[0] + last[1] === p) last[1]++;
    else runs.push([p, 1]);
  }
  return runs;
}

function isZeroPage(heap: Uint8Array, page: number): boolean {
  // Buffer.equals is a memcmp; reading never-touched memory maps the zero page, costing no RSS.
  const len = Math.min(PAGE, heap.length - page * PAGE);
  return Buffer.from(heap.buffer, heap.byteOffset + page * PAGE, len).equals(ZERO.subarray(0, len));
}

/**
 * Zero what malloc holds free below the heap's top (old copies of arrays libsolv grew while
 * loading: ~8 MB of the 63k pool's 27 MB), so those pages are neither saved nor, later, put back
 * into RSS. It takes every free block it can get without growing the heap, clears it, and gives
 * it back: malloc's own bookkeeping is all that stays in those pages.
 */
function scrubFree(m: LibsolvModule): void {
  // The end of the last page in use (scanned from the top: the heap's tail is mostly untouched).
  let top = Math.ceil(m.HEAPU8.length / PAGE);
  while (top > 0 && isZeroPage(m.HEAPU8, top - 1)) top--;
  top *= PAGE;
  const taken: number[] = [];
  for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9]) {
    for (;;) {
      const before = m.HEAPU8.length;
      const p = m._ly_malloc(size);
      if (!p) break;
      if (m.HEAPU8.length !== before || p + size > top) {
        m._ly_free(p);
        break;
      }
      m.HEAPU8.fill(0, p, p + size);
      taken.push(p);
    }
  }
  for (const p of taken) m._ly_free(p);
}

/** Grow the memory through malloc, so the glue's views follow (a bare Memory.grow would not). */
function ensureHeap(m: LibsolvModule, bytes: number): Uint8Array | undefined {
  if (m.HEAPU8.length < bytes) {
    const p = m._ly_malloc(bytes);
    if (!p) return undefined;
    m._ly_free(p);
  }
  return m.HEAPU8.length >= bytes ? m.HEAPU8 : undefined;
}

/** Copy the snapshot's pages in; on any failure put the heap back as it was. */
function putBack(m: LibsolvModule, entry: Entry): PoolImage | undefined {
  const { header } = entry;
  const heap = ensureHeap(m, header.memBytes);
  if (!heap) return undefined;
  const pages = Math.ceil(heap.length / PAGE);
  const stored = new Uint8Array(pages);
  for (const [first, count] of header.runs) stored.fill(1, first, Math.min(pages, first + count));
  // What the current heap holds outside the zero pages (a fresh module: static data, ~1 MB).
  const kept = new Map<number, Buffer>();
  for (let p = 0; p < pages; p++) if (!isZeroPage(heap, p)) kept.set(p, Buffer.from(heap.subarray(p * PAGE, (p + 1) * PAGE)));
  let ok = false;
  let fd = -1;
  try {
    fd = openSync(entry.path, 'r');
    let pos = entry.dataOffset;
    let crc = 0;
    for (const [first, count] of header.runs) {
      if ((first + count) * PAGE > heap.length) return undefined;
      const dest = heap.subarray(first * PAGE, (first + count) * PAGE);
      let off = 0;
      while (off < dest.length) {
        const n = readSync(fd, dest, off, dest.length - off, pos + off);
        if (n === 0) return undefined;
        off += n;
      }
      pos += dest.length;
      crc = crc32(dest, crc);
    }
    if (crc !== header.crc) return undefined;
    for (const p of kept.keys()) if (!stored[p]) heap.fill(0, p * PAGE, (p + 1) * PAGE);
    ok = true;
    return { pool: header.pool, repos: header.repos };
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
    if (!ok) {
      for (const [first, count] of header.runs) heap.fill(0, first * PAGE, Math.min(heap.length, (first + count) * PAGE));
      for (const [p, bytes] of kept) heap.set(bytes, p * PAGE);
    }
  }
}
