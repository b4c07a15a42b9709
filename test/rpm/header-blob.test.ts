/**
 * parseHeaderBlob on bare headers as the rpmdb stores them (no magic, dribbles after the
 * region), and the package header's raw blob as the rpmdb writer will store it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openRpm, parseHeaderBlob, TAG } from '../../src/rpm/index.js';
import { REPO, requireTool, run, sharedRpms } from './helpers.js';

const DBDIR = join(REPO, '..', 'shared', 'data', 'rpmdb', 'cbl-mariner-2.0');

describe('parseHeaderBlob', () => {
  it('parses every header blob of a real rpmdb and agrees with rpm -qa', async () => {
    requireTool('rpm', 'rpm');
    if (!existsSync(join(DBDIR, 'rpmdb.sqlite'))) throw new Error(`missing ${DBDIR}/rpmdb.sqlite (../shared/data/rpmdb)`);
    const db = new Database(join(DBDIR, 'rpmdb.sqlite'), { readonly: true, fileMustExist: true });
    const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all() as { hnum: number; blob: Buffer }[];
    db.close();
    const ours = rows.map((r) => {
      const h = parseHeaderBlob(r.blob, `rpmdb h#${r.hnum}`);
      // Installed headers carry dribbles after the immutable region.
      expect(h.region?.tag).toBe(63);
      expect(h.region?.entries).toBeLessThan(h.index.length);
      expect(h.has(1008)).toBe(true); // INSTALLTIME dribble
      const epoch = h.number(TAG.EPOCH);
      return `${h.string(TAG.NAME)}-${epoch ? `${epoch}:` : ''}${h.string(TAG.VERSION)}-${h.string(TAG.RELEASE)}.${h.string(TAG.ARCH)}`;
    });
    const { stdout } = await run('rpm', ['--dbpath', DBDIR, '-qa', '--qf', '%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH}\n']);
    expect(ours.sort()).toEqual(stdout.split('\n').filter(Boolean).sort());
    expect(ours.length).toBe(129);
  });

  it("exposes a package's main header as the exact bytes the rpmdb stores before dribbles", async () => {
    const pkg = await openRpm(join(sharedRpms(), 'hello-2.0-1.x86_64.rpm'));
    const h = pkg.header;
    expect(Buffer.from(h.regionBlob()).equals(Buffer.from(h.blob))).toBe(true);
    expect(h.withMagic().subarray(0, 8)).toEqual(Uint8Array.of(0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0));
    const again = parseHeaderBlob(h.blob, 'copy');
    expect(again.strings(TAG.BASENAMES)).toEqual(h.strings(TAG.BASENAMES));
    expect(again.region).toEqual({ tag: 63, entries: h.index.length, dataLength: h.blob.length - 8 - h.index.length * 16 });
    expect(h.i18n(TAG.SUMMARY).get('C')).toBe(h.string(TAG.SUMMARY));
  });
});

/** A bare header blob (no region) of `entries`: each a tag, a type and its data bytes. */
function blobOf(entries: { tag: number; type: number; count: number; data: Buffer }[]): Buffer {
  const index = Buffer.alloc(entries.length * 16);
  const data: Buffer[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    index.writeUInt32BE(e.tag, i * 16);
    index.writeUInt32BE(e.type, i * 16 + 4);
    index.writeUInt32BE(offset, i * 16 + 8);
    index.writeUInt32BE(e.count, i * 16 + 12);
    data.push(e.data);
    offset += e.data.length;
  });
  const head = Buffer.alloc(8);
  head.writeUInt32BE(entries.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, index, ...data]);
}

describe('header strings', () => {
  // Plain, UTF-8, invalid UTF-8, a leading BOM, empty: rpm keeps the bytes; U+FFFD stands for bytes that are not UTF-8.
  // The BOM-led string first: a decoder that strips a stream's leading BOM would drop it.
  const raw = [Buffer.from([0xef, 0xbb, 0xbf, 0x78]), Buffer.from('plain'), Buffer.from('café'), Buffer.from([0x61, 0xff, 0xfe, 0x62]), Buffer.alloc(0)];
  const array = Buffer.concat(raw.flatMap((r) => [r, Buffer.alloc(1)]));
  const h = parseHeaderBlob(blobOf([
    { tag: TAG.BASENAMES, type: 8, count: raw.length, data: array },
    { tag: TAG.NAME, type: 6, count: 1, data: Buffer.from('n\u00e4me\0') },
  ]), 'crafted');

  it('decodes a string array as each string decoded alone, BOM kept, bad bytes as U+FFFD', () => {
    expect(h.strings(TAG.BASENAMES)).toEqual(['\ufeffx', 'plain', 'café', 'a\ufffd\ufffdb', '']);
    expect(h.strings(TAG.BASENAMES)).toEqual(raw.map((r) => r.toString('utf8')));
  });

  it('reads the first string of an array and a single STRING', () => {
    expect(h.string(TAG.BASENAMES)).toBe('\ufeffx');
    expect(h.string(TAG.NAME)).toBe('näme');
    expect(h.strings(TAG.NAME)).toEqual(['näme']);
  });
});
