/**
 * Stripped cpio ("07070X" + header index, sizes from LONGFILESIZES) on a real rpmbuild package
 * holding a 4 GiB + 101 byte file. The first build takes ~30 s (then cached); reading streams
 * 4 GiB through zstd and SHA-256 in ~5 s without holding it in memory.
 */
import { describe, expect, it } from 'vitest';
import { gzipInflatesPastLimit, largeFileStrippedCpio } from '../../fixtures/specs/rpm-reader.js';
import { statSync } from 'node:fs';
import { openRpm, TAG } from '../../src/rpm/index.js';
import { buildRpm } from '../support/rpmbuild.js';
import { requireTool, rpmq } from './helpers.js';

describe('large files', () => {
  it('reads a stripped-cpio payload with a file over 4 GiB', async () => {
    requireTool('rpmbuild', 'rpm');
    requireTool('zstd', 'zstd');
    const path = await buildRpm(largeFileStrippedCpio);
    const pkg = await openRpm(path);
    expect(pkg.header.has(TAG.LONGFILESIZES)).toBe(true);
    expect(await rpmq(path, '[%{REQUIRENAME}\n]')).toContain('rpmlib(LargeFiles)');
    const seen: Record<string, { size: number; read: number; hardlinkTo?: string | undefined; linkTarget?: string | undefined }> = {};
    const before = process.memoryUsage().rss;
    let peak = before;
    for await (const e of pkg.entries()) {
      let read = 0;
      if (e.content) {
        for await (const c of e.content) {
          read += c.length;
          if ((read & 0xfffffff) < c.length) peak = Math.max(peak, process.memoryUsage().rss);
        }
      }
      seen[e.path] = { size: e.size, read, hardlinkTo: e.hardlinkTo, linkTarget: e.linkTarget };
    }
    expect(seen['usr/share/large/huge']).toEqual({ size: 4 * 1024 ** 3 + 101, read: 4 * 1024 ** 3 + 101, hardlinkTo: undefined, linkTarget: undefined });
    expect(seen['usr/share/large/link']?.linkTarget).toBe('small');
    expect(seen['usr/share/large/small']).toMatchObject({ read: 0, hardlinkTo: 'usr/share/large/small-2' });
    expect(seen['usr/share/large/small-2']).toMatchObject({ read: 6 });
    expect(Object.keys(seen).sort()).toEqual(pkg.files.map((f) => f.path.slice(1)).sort());
    expect(peak - before).toBeLessThan(256 * 1024 * 1024);
  }, 300_000);

  it('streams a small gzip payload that inflates past the in-memory limit, digests checked', async () => {
    requireTool('rpmbuild', 'rpm');
    const path = await buildRpm(gzipInflatesPastLimit);
    const pkg = await openRpm(path);
    expect(pkg.payload.compressor).toBe('gzip');
    // The whole payload fits one synchronous read; what it inflates to does not fit one call.
    expect(statSync(path).size - pkg.payload.offset).toBeLessThan(256 * 1024);
    const read: Record<string, number> = {};
    let chunks = 0;
    for await (const e of pkg.entries()) {
      read[e.path] = 0;
      if (!e.content) continue;
      for await (const c of e.content) {
        read[e.path] = (read[e.path] ?? 0) + c.length;
        chunks++;
      }
    }
    expect(read).toEqual({ 'usr/share/zeros': 0, 'usr/share/zeros/big': 24 * 1024 * 1024, 'usr/share/zeros/small': 6 });
    // Streamed: the 24 MiB came in many pieces, not one inflated buffer.
    expect(chunks).toBeGreaterThan(10);
  }, 120_000);
});
