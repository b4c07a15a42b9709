/**
 * Seeded random byte damage to every part of a real package: the reader must either accept the
 * package or throw a LayerError — never a TypeError/RangeError, a hang, or a huge allocation.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { openRpm } from '../../src/rpm/index.js';
import { buildRpm } from '../support/rpmbuild.js';
import { fixDigests, layout } from './craft.js';
import { requireTool, snapshot } from './helpers.js';

/** More with LAYER_FUZZ_MUTANTS=5000 (and LAYER_FUZZ_SEED=n for the re-digested hunt). */
const MUTANTS = Number(process.env.LAYER_FUZZ_MUTANTS ?? 300);
let work: string;
beforeAll(async () => {
  requireTool('rpmbuild', 'rpm');
  work = await mkdtemp(join(tmpdir(), 'layer-rpm-fuzz-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

describe('damaged packages', () => {
  for (const compressor of ['none', 'gzip'] as const) {
    it(`never crash the reader (${compressor} payload, ${MUTANTS} mutants)`, async () => {
      const good = await readFile(await buildRpm({
        name: `fuzz-${compressor}`, compressor, requires: ['a >= 1', '(b if c)'],
        files: [
          { path: '/usr/share/fz', type: 'dir' },
          { path: '/usr/share/fz/f', content: 'hello fuzz\n'.repeat(50) },
          { path: '/usr/share/fz/g', hardlinkOf: '/usr/share/fz/f' },
          { path: '/usr/share/fz/l', type: 'symlink', target: 'f' },
        ],
      }));
      const l = layout(good);
      const goodFile = join(work, `good-${compressor}.rpm`);
      await writeFile(goodFile, good);
      await mkdir(join(work, `good-${compressor}`));
      await (await openRpm(goodFile)).extractTo(join(work, `good-${compressor}`));
      // Unowned parent directories are made at extraction time: their mtime is "now".
      const strip = (m: Map<string, { ino: number; mtime: number; type: string }>) =>
        [...m].map(([p, n]) => [p, { ...n, ino: 0, mtime: n.type === 'dir' ? 0 : n.mtime }]);
      const want = strip(await snapshot(join(work, `good-${compressor}`)));
      const rnd = prng(compressor === 'none' ? 42 : 4242);
      const outcomes = { ok: 0, rejected: 0 };
      for (let i = 0; i < MUTANTS; i++) {
        const b = Buffer.from(good);
        // Aim most damage at the structured parts: index entries, then data, then payload.
        const region = rnd();
        const [lo, hi] = region < 0.4 ? [l.sigStart, l.mainDataStart] : region < 0.7 ? [l.mainDataStart, l.payloadStart] : [l.payloadStart, b.length];
        const flips = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < flips; k++) {
          const pos = lo + Math.floor(rnd() * (hi - lo));
          b[pos] = rnd() < 0.5 ? Math.floor(rnd() * 256) : (b[pos] ?? 0) ^ 0x80;
        }
        const file = join(work, `m${i}.rpm`);
        await writeFile(file, rnd() < 0.1 ? b.subarray(0, Math.floor(rnd() * b.length)) : b);
        const target = join(work, `t-${compressor}-${i}`);
        await mkdir(target);
        let accepted = false;
        try {
          const pkg = await openRpm(file);
          await pkg.extractTo(target);
          accepted = true;
        } catch (err) {
          if (!(err instanceof LayerError) || err.code === 'LAYER_INTERNAL') throw new Error(`mutant ${i}: not a clean rejection: ${String(err)}`, { cause: err });
          outcomes.rejected++;
          expect(await readdir(target)).toEqual([]);
        }
        if (accepted) {
          // Accepted damage must be in bytes no digest covers (e.g. RESERVEDSPACE) and change nothing.
          expect(strip(await snapshot(target)), `mutant ${i}`).toEqual(want);
          outcomes.ok++;
        }
        await rm(target, { recursive: true, force: true });
        await rm(file);
      }
      // Digests cover everything but the signature header's reserved space and padding.
      expect(outcomes.rejected).toBeGreaterThan(150);
    });
  }

  it(`never crash on damage that digests do not catch (re-digested mutants, ${MUTANTS})`, async () => {
    // The digests are recomputed after each mutation, so the structural checks of the header,
    // file list and cpio parsers are what must hold.
    const good = await readFile(await buildRpm({
      name: 'fuzz-redigest', compressor: 'none',
      files: [
        { path: '/usr/share/fr', type: 'dir' },
        { path: '/usr/share/fr/f', content: 'hello fuzz\n' },
        { path: '/usr/share/fr/g', hardlinkOf: '/usr/share/fr/f' },
        { path: '/usr/share/fr/l', type: 'symlink', target: '../../../../../etc' },
      ],
    }));
    const l = layout(good);
    const rnd = prng(Number(process.env.LAYER_FUZZ_SEED ?? 7));
    const sandbox = join(work, 'redigest');
    await mkdir(sandbox);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < MUTANTS; i++) {
      const b = Buffer.from(good);
      const [lo, hi] = rnd() < 0.6 ? [l.mainStart + 8, l.payloadStart] : [l.payloadStart, b.length];
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const pos = lo + Math.floor(rnd() * (hi - lo));
        b[pos] = rnd() < 0.5 ? Math.floor(rnd() * 256) : (b[pos] ?? 0) ^ (1 << Math.floor(rnd() * 8));
      }
      try {
        fixDigests(b);
      } catch {
        continue; // the damage broke the layout the fixer needs; the plain fuzz covers those
      }
      const file = join(sandbox, 'm.rpm');
      await writeFile(file, b);
      const target = join(sandbox, 'root');
      await mkdir(target);
      try {
        await (await openRpm(file)).extractTo(target);
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof LayerError) || err.code === 'LAYER_INTERNAL') throw new Error(`mutant ${i}: not a clean rejection: ${String(err)}`, { cause: err });
        outcomes.rejected++;
        expect(await readdir(target), `mutant ${i}`).toEqual([]);
      }
      expect((await readdir(sandbox)).sort(), `mutant ${i}`).toEqual(['m.rpm', 'root']);
      await rm(target, { recursive: true, force: true });
    }
    expect(outcomes.rejected).toBeGreaterThan(MUTANTS / 10);
  });
});
