/**
 * RPM side of the import benchmark: how fast layer's reader turns a package into verified
 * payload entries, per payload compressor, against rpm's own `rpm2cpio | cpio -idm`.
 *
 * Run alone:  node --import tsx bench/import-rpm.bench.ts      (or: npm run bench -- import-rpm)
 * Env: BENCH_RUNS (default 3), BENCH_MB (default 64: uncompressed payload size).
 *
 * Input: one fixture per compressor built with rpmbuild (test/support/rpmbuild.ts, cached),
 * BENCH_MB of deterministic text-like data (seeded PRNG words, compresses ~3-4x) in 256 kB files.
 * Per compressor, median of BENCH_RUNS:
 *   entries    openRpm + entries(), reading every byte (file digests + payload digest checked)
 *   extract    openRpm + extractTo(fresh dir)
 *   rpm2cpio   `rpm2cpio X | cpio -idm --quiet` into a fresh dir (process wall clock)
 *   decoder    the bare decompressor on the payload alone (`zstd -dc`, `xz -dc`, node zlib for gzip)
 * MB/s is uncompressed payload bytes per second.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openRpm } from '../src/rpm/index.js';
import { buildRpm, type Compressor, type FixtureFile } from '../test/support/rpmbuild.js';
import { formatTable, median, timeMs, timeMsAsync, writeResult } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const MB = Math.max(1, Number(process.env.BENCH_MB ?? 64));
const FILE_SIZE = 256 * 1024;
const COMPRESSORS: Compressor[] = ['gzip', 'xz', 'lzma', 'zstd', 'bzip2', 'none'];

function corpus(): FixtureFile[] {
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const words = Array.from({ length: 4096 }, () => Array.from({ length: 2 + Math.floor(rnd() * 9) }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join(''));
  const files: FixtureFile[] = [];
  const count = Math.ceil((MB * 1024 * 1024) / FILE_SIZE);
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    let len = 0;
    while (len < FILE_SIZE) {
      const w = words[Math.floor(rnd() * words.length)] as string;
      parts.push(w);
      len += w.length + 1;
    }
    files.push({ path: `/usr/share/bench/d${i % 16}/f${i}.txt`, content: parts.join(' ').slice(0, FILE_SIZE) });
  }
  return files;
}

function decoderMs(pkgPath: string, payloadOffset: number, c: Compressor): number {
  const payload = readFileSync(pkgPath).subarray(payloadOffset);
  const dir = mkdtempSync(join(tmpdir(), 'layer-bench-dec-'));
  const f = join(dir, 'payload');
  writeFileSync(f, payload);
  try {
    if (c === 'gzip') return timeMs(() => void gunzipSync(payload));
    if (c === 'none') return 0;
    const cmd = c === 'zstd' ? 'zstd -dcq' : c === 'bzip2' ? 'bzip2 -dc' : c === 'lzma' ? 'xz -dc --format=lzma' : 'xz -dc';
    return timeMs(() => void execFileSync('sh', ['-c', `${cmd} < "$1" > /dev/null`, 'sh', f]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const files = corpus();
const rows: (string | number)[][] = [];
const results: Record<string, unknown>[] = [];
for (const c of COMPRESSORS) {
  const path = await buildRpm({ name: `bench-import-${c}-${MB}mb`, compressor: c, files });
  const probe = await openRpm(path);
  const bytes = probe.files.reduce((n, f) => n + f.size, 0);
  const pkgSize = readFileSync(path).length;
  const entries: number[] = [];
  const extract: number[] = [];
  const oracle: number[] = [];
  const decoder: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    entries.push(await timeMsAsync(async () => {
      const pkg = await openRpm(path);
      let n = 0;
      for await (const e of pkg.entries()) if (e.content) for await (const chunk of e.content) n += chunk.length;
      if (n !== bytes) throw new Error(`read ${n} of ${bytes} bytes`);
    }));
    const d1 = mkdtempSync(join(tmpdir(), 'layer-bench-x-'));
    extract.push(await timeMsAsync(async () => (await openRpm(path)).extractTo(d1)));
    rmSync(d1, { recursive: true, force: true });
    const d2 = mkdtempSync(join(tmpdir(), 'layer-bench-c-'));
    oracle.push(timeMs(() => void execFileSync('sh', ['-c', `rpm2cpio "$1" | (cd "$2" && cpio -idm --quiet)`, 'sh', path, d2])));
    rmSync(d2, { recursive: true, force: true });
    decoder.push(decoderMs(path, probe.payload.offset, c));
  }
  const mbps = (ms: number): number => (ms > 0 ? bytes / 1048576 / (ms / 1000) : Number.NaN);
  const m = { entries: median(entries), extract: median(extract), rpm2cpio: median(oracle), decoder: median(decoder) };
  rows.push([c, pkgSize / 1048576, m.entries, mbps(m.entries), m.extract, mbps(m.extract), m.rpm2cpio, mbps(m.rpm2cpio), m.decoder]);
  results.push({ compressor: c, payloadBytes: bytes, packageBytes: pkgSize, ms: m, samples: { entries, extract, rpm2cpio: oracle, decoder } });
}

console.log(`RPM read/extract, ${MB} MB payload in ${files.length} files, median of ${RUNS}`);
console.log(formatTable(['compressor', 'rpm MB', 'entries ms', 'MB/s', 'extract ms', 'MB/s', 'rpm2cpio|cpio ms', 'MB/s', 'bare decoder ms'], rows));
console.log(`-> ${writeResult('import-rpm', { mb: MB, runs: RUNS, results })}`);
