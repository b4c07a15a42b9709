/**
 * The `.sizes.tsv` sidecar read in chunks (src/repos/sizes-sidecar.ts): a few NEVRAs found by
 * search, many by reading each line, both equal to reading the whole file at once, whatever
 * chunk boundary a line straddles; the location and checksum columns a download reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSizesSidecar, sidecarLine } from '../../src/repos/sizes-sidecar.js';

const dir = mkdtempSync(join(tmpdir(), 'layer-sizes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 20,000 lines (~900 KB, several chunks); some without an installed size, the last without a newline.
const lines = Array.from({ length: 20_000 }, (_, i) => `pkg${i}-1.${i % 7}-${i % 3}.x86_64\t${1000 + i}\t${i % 5 === 0 ? '' : 5000 + i}`);
const path = join(dir, 'primary.xml.gz.sizes.tsv');
writeFileSync(path, lines.join('\n'));

function whole(only?: Set<string>) {
  const out = new Map<string, { downloadSize?: number; installSize?: number }>();
  for (const l of lines) {
    const [n, d, i] = l.split('\t') as [string, string, string];
    if (only && !only.has(n)) continue;
    out.set(n, { ...(d ? { downloadSize: Number(d) } : {}), ...(i ? { installSize: Number(i) } : {}) });
  }
  return out;
}

describe('sizes sidecar', () => {
  it('finds a few NEVRAs, the first and the last line included', async () => {
    const nevra = (i: number): string => `pkg${i}-1.${i % 7}-${i % 3}.x86_64`;
    const only = new Set([nevra(0), nevra(19999), nevra(6000), nevra(123), 'not-there-1-1.noarch']);
    const got = await readSizesSidecar(path, only);
    expect(got).toEqual(whole(only));
    expect(got?.get(nevra(0))).toEqual({ downloadSize: 1000 });
    expect(got?.get(nevra(19999))).toEqual({ downloadSize: 20999, installSize: 24999 });
  });

  it('reads many NEVRAs, or all, line by line across chunk boundaries', async () => {
    const only = new Set(lines.filter((_, i) => i % 37 === 0).map((l) => l.slice(0, l.indexOf('\t'))));
    expect(only.size).toBeGreaterThan(32);
    expect(await readSizesSidecar(path, only)).toEqual(whole(only));
    const all = await readSizesSidecar(path, undefined);
    expect(all?.size).toBe(20_000);
    expect(all).toEqual(whole());
  });

  it('carries location and checksum when the line has them (older 3-column lines give sizes only)', async () => {
    const p5 = join(dir, 'five.sizes.tsv');
    writeFileSync(p5, ['', 'a-1-1.noarch\t10\t20\tPackages/a-1-1.noarch.rpm\tsha256:ab', 'b-1-1.noarch\t11\t\t\t', 'c-1-1.noarch\t12\t22', ''].join('\n'));
    expect(Object.fromEntries((await readSizesSidecar(p5, undefined))!)).toEqual({
      'a-1-1.noarch': { downloadSize: 10, installSize: 20, location: 'Packages/a-1-1.noarch.rpm', checksum: 'sha256:ab' },
      'b-1-1.noarch': { downloadSize: 11 },
      'c-1-1.noarch': { downloadSize: 12, installSize: 22 },
    });
  });

  it('a location or checksum TSV cannot hold is left out (the download then parses primary)', () => {
    const rec = { name: 'x', epoch: 0, version: '1', release: '1', arch: 'noarch', downloadSize: 5, location: 'P/x\tevil.rpm', checksum: 'sha256:00' };
    expect(sidecarLine('x-1-1.noarch', rec as never)).toBe('x-1-1.noarch\t5\t\t\tsha256:00');
    expect(sidecarLine('x-1-1.noarch', { ...rec, location: 'P/x.rpm', checksum: 'sha256:0\n1' } as never)).toBe('x-1-1.noarch\t5\t\tP/x.rpm\t');
  });

  it('is undefined for a missing file', async () => {
    expect(await readSizesSidecar(join(dir, 'absent.tsv'), new Set(['x']))).toBeUndefined();
  });
});
