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
