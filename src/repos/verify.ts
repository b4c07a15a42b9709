/**
 * Checksums and decompression of downloaded metadata. gz goes through Node's zlib; xz, zstd
 * and bzip2 (not in Node 20's zlib) through Debian's `xz`/`zstd`/`bzip2` as streaming child
 * processes (see bench/repos.bench.ts for the figures that chose this).
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Digest } from './repomd.js';

export type Compression = 'gz' | 'xz' | 'zst' | 'bz2' | 'none';

export function hasher(d: Digest): Hash {
  return createHash(d.algo);
}

/** Compression from magic bytes (the extension can lie, the magic cannot). */
export function sniffCompression(head: Uint8Array): Compression {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gz';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a) return 'xz';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zst';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bz2';
  return 'none';
}

export async function sniffFile(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(6);
    const { bytesRead } = await fh.read(buf, 0, 6, 0);
    return sniffCompression(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

const TOOLS: Record<'xz' | 'zst' | 'bz2', { cmd: string; pkg: string }> = {
  xz: { cmd: 'xz', pkg: 'xz-utils' },
  zst: { cmd: 'zstd', pkg: 'zstd' },
  bz2: { cmd: 'bzip2', pkg: 'bzip2' },
};

/**
 * Decompressed chunks of `path`. Errors (corrupt or truncated data, missing tool) surface as a
 * rejected iteration with a message naming the problem; the caller adds the file name.
 */
export async function* decompressFile(path: string, kind?: Compression): AsyncGenerator<Uint8Array> {
  const c = kind ?? (await sniffFile(path));
  if (c === 'none') {
    // 64 KiB: big enough to amortise calls, small enough that a parser's partial-token
    // carry-over and decoded strings stay small (1 MiB chunks measured +120 MB peak RSS).
    yield* createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>;
    return;
  }
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  if (c === 'gz') {
    const gunzip = createGunzip();
    const out = src.pipe(gunzip);
    src.on('error', (e) => gunzip.destroy(e));
    yield* out as AsyncIterable<Buffer>;
    return;
  }
  const tool = TOOLS[c];
  const child = spawn(tool.cmd, ['-d', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (e) =>
      reject(new Error(`cannot run ${tool.cmd} (${(e as Error).message}); install it: apt-get install ${tool.pkg}`)),
    );
    child.on('close', (code) => resolve(code ?? -1));
  });
  exited.catch(() => {});
  child.stdin.on('error', () => {}); // EPIPE when the tool dies early: its exit status says why
  src.pipe(child.stdin);
  let completed = false;
  try {
    yield* Readable.from(child.stdout) as AsyncIterable<Buffer>;
    completed = true;
  } finally {
    // Abandoned early (consumer stopped or failed): stop the tool and the file read.
    if (!completed) {
      child.kill();
      src.destroy();
    }
  }
  const code = await exited;
  if (code !== 0) throw new Error(`${tool.cmd} -d failed (${code}): ${stderr.trim() || 'corrupt data'}`);
}

/** Hash and size of the decompressed content of `path`. */
export async function openDigest(path: string, d: Digest): Promise<{ hex: string; size: number }> {
  const h = hasher(d);
  let size = 0;
  for await (const b of decompressFile(path)) {
    h.update(b);
    size += b.length;
  }
  return { hex: h.digest('hex'), size };
}
