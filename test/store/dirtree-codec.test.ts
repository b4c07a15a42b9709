/**
 * The direct dirtree reader (src/store/dirtree-codec.ts) against the generic GVariant reader:
 * the same entries for every well-formed dirtree (offset widths 1, 2 and 4, non-ASCII names),
 * and for damaged bytes either the generic reader's entries or nothing (then decodeDirTree's
 * generic path names the fault).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { readDirTreeBytes, writeDirTreeBytes } from '../../src/store/dirtree-codec.js';
import { deserialize, serialize, type GValue } from '../../src/store/gvariant/index.js';
import { decodeDirTree, encodeDirTree, sortedDirTree, type Checksum, type DirTree } from '../../src/store/objects.js';

/** A seeded generator: the same cases on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PARTS = ['a', 'lib', 'x86_64-linux-gnu', 'é', '日本', '😀', '.hidden', 'libz.so.1', '-', '_'];

function randomTree(r: () => number, files: number, dirs: number): DirTree {
  const csum = (): Checksum => createHash('sha256').update(String(r())).digest('hex') as Checksum;
  const names = new Set<string>();
  while (names.size < files + dirs) {
    let n = '';
    const k = 1 + Math.floor(r() * 4);
    for (let i = 0; i < k; i++) n += PARTS[Math.floor(r() * PARTS.length)];
    names.add(`${n}${names.size}`);
  }
  const all = [...names];
  return {
    files: all.slice(0, files).map((n) => [n, csum()] as const),
    dirs: all.slice(files).map((n) => [n, csum(), csum()] as const),
  };
}

/** The generic reader's entries, as decodeDirTree builds them, or 'throws'. */
function generic(b: Buffer): DirTree | 'throws' {
  try {
    const [files, dirs] = deserialize('(a(say)a(sayay))', b) as [GValue[][], GValue[][]];
    const name = (v: GValue): string => {
      const n = v as string;
      if (n === '' || n === '.' || n === '..' || n.includes('/')) throw new Error('name');
      return n;
    };
    const hex = (v: GValue): Checksum => {
      if (!(v instanceof Uint8Array) || v.length !== 32) throw new Error('csum');
      return Buffer.from(v).toString('hex') as Checksum;
    };
    return {
      files: files.map(([n, c]) => [name(n as GValue), hex(c as GValue)] as const),
      dirs: dirs.map(([n, t, m]) => [name(n as GValue), hex(t as GValue), hex(m as GValue)] as const),
    };
  } catch {
    return 'throws';
  }
}

/** The generic writer's bytes for a sorted dirtree. */
function genericBytes(t: DirTree): Buffer {
  const hex = (c: string) => Buffer.from(c, 'hex');
  return serialize('(a(say)a(sayay))', [t.files.map(([n, c]) => [n, hex(c)]), t.dirs.map(([n, d, m]) => [n, hex(d), hex(m)])]);
}

describe('direct dirtree writer', () => {
  it("writes the generic writer's bytes at every offset width", () => {
    const r = rng(3);
    for (const [files, dirs] of [[0, 0], [1, 0], [0, 1], [2, 3], [60, 7], [700, 300], [1500, 900], [3000, 0]] as const) {
      const t = sortedDirTree(randomTree(r, files, dirs));
      expect(writeDirTreeBytes(t).equals(genericBytes(t))).toBe(true);
    }
    // Long names push single elements past 255 bytes (2-byte offsets inside an element).
    const long = sortedDirTree({ files: [['f'.repeat(300), 'ab'.repeat(32) as Checksum]], dirs: [['d'.repeat(70000), 'cd'.repeat(32) as Checksum, 'ef'.repeat(32) as Checksum]] });
    expect(writeDirTreeBytes(long).equals(genericBytes(long))).toBe(true);
  });

  it('refuses what no reader takes: a NUL, an entry name no dirtree may hold, a checksum that is not one', () => {
    expect(() => writeDirTreeBytes({ files: [['a\0b', 'ab'.repeat(32) as Checksum]], dirs: [] })).toThrow(/bad string/);
    for (const bad of ['', '.', '..', 'a/b']) {
      expect(() => writeDirTreeBytes({ files: [[bad, 'ab'.repeat(32) as Checksum]], dirs: [] })).toThrow(/invalid entry name/);
    }
    expect(() => writeDirTreeBytes({ files: [['a', 'xyz' as Checksum]], dirs: [] })).toThrow(/not a checksum/);
    // Upper-case hex names the same bytes, but the tree kept decoded would hand out other object names.
    expect(() => writeDirTreeBytes({ files: [['a', 'AB'.repeat(32) as Checksum]], dirs: [] })).toThrow(/not a checksum/);
  });

  it('keeps a leading U+FEFF of a name, reading as the store and as from outside', () => {
    const t = { files: [['\ufeffa', 'ab'.repeat(32) as Checksum] as const], dirs: [['\ufeffd', 'cd'.repeat(32) as Checksum, 'ef'.repeat(32) as Checksum] as const] };
    const b = writeDirTreeBytes(t);
    expect(decodeDirTree(b, 'store')).toEqual(t);
    expect(decodeDirTree(b, 'outside')).toEqual(t);
  });
});

describe('direct dirtree reader', () => {
  it('reads what the encoder wrote, as the generic reader does, at every offset width', () => {
    const r = rng(7);
    // Sizes chosen so the containers need 1-, 2- and 4-byte framing offsets.
    for (const [files, dirs] of [[0, 0], [1, 0], [0, 1], [3, 2], [40, 10], [900, 100], [1500, 900]] as const) {
      const t = randomTree(r, files, dirs);
      const bytes = encodeDirTree(t);
      const direct = readDirTreeBytes(bytes);
      expect(direct).toEqual(sortedDirTree(t));
      expect(direct).toEqual(generic(bytes));
      expect(decodeDirTree(bytes, 'store')).toEqual(decodeDirTree(bytes, 'outside'));
    }
  });

  it('gives damaged bytes the generic reader\'s answer or none at all', () => {
    const r = rng(11);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const t = randomTree(r, Math.floor(r() * 6), Math.floor(r() * 4));
      const b = Buffer.from(encodeDirTree(t));
      const how = Math.floor(r() * 3);
      if (how === 0 && b.length > 0) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const extra = Buffer.from([Math.floor(r() * 256)]);
      const cut = how === 1 ? b.subarray(0, Math.floor(r() * b.length)) : how === 2 ? Buffer.concat([b, extra]) : b;
      const direct = readDirTreeBytes(cut);
      const g = generic(cut);
      if (direct === undefined) refused++;
      else expect(direct).toEqual(g);
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('leaves the error to the generic reader: LAYER_STORE_CORRUPT for a damaged store object', () => {
    const b = Buffer.from(encodeDirTree({ files: [['name', 'ab'.repeat(32) as Checksum]], dirs: [] }));
    const cut = b.subarray(0, b.length - 3);
    expect(readDirTreeBytes(cut)).toBeUndefined();
    expect(() => decodeDirTree(cut, 'store')).toThrow(LayerError);
    try {
      decodeDirTree(cut, 'store');
    } catch (err) {
      expect((err as LayerError).code).toBe('LAYER_STORE_CORRUPT');
    }
  });

  it('refuses the names a dirtree may not hold', () => {
    for (const bad of ['.', '..', 'a/b']) {
      // Bytes no writer here makes (writeDirTreeBytes refuses these names): from the generic serializer.
      const b = genericBytes({ files: [[bad, 'cd'.repeat(32) as Checksum]], dirs: [] });
      expect(readDirTreeBytes(b)).toBeUndefined();
      expect(() => decodeDirTree(b, 'store')).toThrow(/invalid file name/);
    }
  });
});
