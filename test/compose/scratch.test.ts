/**
 * Scratch directories (src/compose/scratch.ts): each composition's own, removed by its owner
 * at once (release) or in the background while the caller goes on (releaseLater, awaited by
 * scratchRemoved); a directory of a process that is gone is cleaned by anyone.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanStaleScratch, createScratch, scratchRemoved } from '../../src/compose/index.js';
import { tempDir } from '../support/tools.js';

/** A tree of `n` directories with a file each, so a removal takes a while. */
function fill(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    mkdirSync(join(dir, `d${i}`));
    writeFileSync(join(dir, `d${i}`, 'f'), 'x');
  }
}

describe('scratch directories', () => {
  it('release removes the directory before it returns', async () => {
    const cache = tempDir('scratch', 'now');
    const s = await createScratch(cache);
    fill(s.path, 10);
    await s.release();
    expect(existsSync(s.path)).toBe(false);
  });

  it('releaseLater returns at once, and scratchRemoved waits for every removal it started', async () => {
    const cache = tempDir('scratch', 'later');
    const a = await createScratch(cache);
    const b = await createScratch(cache);
    fill(a.path, 2000);
    fill(b.path, 10);
    a.releaseLater();
    b.releaseLater();
    // Returned without waiting: the big tree is still (at least partly) there.
    expect(existsSync(a.path)).toBe(true);
    await scratchRemoved();
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(false);
    // Nothing pending any more; a later call returns at once, and a released scratch stays released.
    await scratchRemoved();
    a.releaseLater();
    await scratchRemoved();
  });

  it("never touches a live process's directory, and removes a dead one's", async () => {
    const cache = tempDir('scratch', 'stale');
    const mine = await createScratch(cache);
    // A name of a process that cannot exist (pid 2^22 + 1 is above Linux's pid_max).
    const dead = join(cache, 'compose-4194305-12345-abcdef');
    mkdirSync(dead);
    expect(cleanStaleScratch(cache)).toEqual([dead]);
    expect(existsSync(mine.path)).toBe(true);
    await mine.release();
  });
});
