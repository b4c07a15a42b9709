/**
 * Stripped cpio ("07070X" + header index, sizes from LONGFILESIZES) on a real rpmbuild package
 * holding a 4 GiB + 101 byte file. The first build takes ~30 s (then cached); reading streams
 * 4 GiB through zstd and SHA-256 in ~5 s without holding it in memory.
 */
import { describe, expect, it } from 'vitest';
import { largeFileStrippedCpio } from '../../fixtures/specs/rpm-reader.js';
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
});
