/**
 * Round trip and crash safety: what layer wrote reads back as the same headers and records;
 * installed headers written again are stored verbatim; replacing an rpm-written (WAL) database
 * leaves no stale side files; bad input changes nothing on disk.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { openRpm, parseHeaderBlob, type RpmPackage } from '../../src/rpm/index.js';
import { INDEX_TABLES, installedEntry, openRpmdb, packageEntry, writeRpmdb, type RpmdbEntry } from '../../src/rpmdb/index.js';
import { fixtureRpms } from './fixtures.js';
import { indexDump, requireTool, rpmIn, sharedData, sortedLines, tempDir } from './helpers.js';

const DB = 'usr/lib/sysimage/rpm/rpmdb.sqlite';
const TABLES = INDEX_TABLES.map((t) => t.name);
const dirs: string[] = [];
let pkgs: RpmPackage[];
const entries = (list: RpmPackage[]): RpmdbEntry[] => list.map((p) => packageEntry(p));
function scratch(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  pkgs = await Promise.all((await fixtureRpms()).map((f) => openRpm(f)));
}, 120_000);
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('round trip', () => {
  it('reads back the same regions, install tags and solver records', () => {
    const tree = scratch('rt');
    writeRpmdb(tree, entries(pkgs), { installTid: 1_234_567_890, installTime: 1_234_567_999, installColor: 0 });
    const db = openRpmdb(tree);
    try {
      const got = db.packages();
      expect(got.map((p) => p.nevra)).toEqual(pkgs.map((p) => p.nevra));
      got.forEach((p, i) => {
        const src = pkgs[i]!;
        expect(p.hnum).toBe(i + 1);
        expect(Buffer.from(p.header.regionBlob()).equals(Buffer.from(src.header.blob))).toBe(true);
        expect(p.header.number(1128)).toBe(1_234_567_890);
        expect(p.header.number(1008)).toBe(1_234_567_999);
        expect(p.header.number(1127)).toBe(0);
        expect(p.header.numbers(1029)).toEqual(src.files.map(() => 0));
        expect(p.header.string(269)).toBe(src.signatureHeader.string(269));
      });
      const strip = ({ downloadSize: _d, sourceRpm: _s, ...r }: ReturnType<RpmPackage['toRecord']>) => r;
      expect(db.records().map(strip)).toEqual(pkgs.map((p) => strip(p.toRecord())));
    } finally {
      db.close();
    }
  });

  it('stores installed headers verbatim when writing a base plus layered packages', () => {
    const base = scratch('base');
    writeRpmdb(base, entries(pkgs.slice(0, 4)), { installTid: 1000 });
    const baseDb = openRpmdb(base);
    const installed = baseDb.packages();
    const composed = scratch('composed');
    writeRpmdb(composed, [...installed.map(installedEntry), ...entries(pkgs.slice(4))], { installTid: 2000 });
    baseDb.close();
    const db = openRpmdb(composed);
    try {
      const got = db.packages();
      expect(got.map((p) => p.nevra)).toEqual(pkgs.map((p) => p.nevra));
      got.slice(0, 4).forEach((p, i) => expect(Buffer.from(p.header.blob).equals(Buffer.from(installed[i]!.header.blob))).toBe(true));
      expect(got.map((p) => p.header.number(1128))).toEqual([1000, 1000, 1000, 1000, ...pkgs.slice(4).map(() => 2000)]);
    } finally {
      db.close();
    }
    // Same index rows as writing everything fresh (the Installtid keys aside).
    const fresh = scratch('fresh');
    writeRpmdb(fresh, entries(pkgs), { installTid: 1000 });
    const noTid = TABLES.filter((t) => t !== 'Installtid');
    expect(indexDump(path.join(composed, DB), noTid)).toEqual(indexDump(path.join(fresh, DB), noTid));
  });

  it('recomputes, from the cbl-mariner headers, exactly the index rows rpm stored there', () => {
    requireTool('rpm');
    const sample = scratch('mariner');
    for (const f of ['rpmdb.sqlite', 'rpmdb.sqlite-wal']) fs.copyFileSync(sharedData(`rpmdb/cbl-mariner-2.0/${f}`), path.join(sample, f));
    const src = openRpmdb(sample);
    const tree = scratch('mariner-rewrite');
    const t0 = performance.now();
    writeRpmdb(tree, src.packages().map((p): RpmdbEntry => ({ kind: 'installed', header: p.header })), { installTid: 1 });
    const ms = performance.now() - t0;
    src.close();
    const rows = indexDump(path.join(tree, DB), TABLES);
    expect(rows.length).toBe(12786);
    expect(rows).toEqual(indexDump(path.join(sample, 'rpmdb.sqlite'), TABLES));
    expect(sortedLines(rpmIn(tree, ['-qa']).stdout)).toEqual(sortedLines(execFileSync('rpm', ['--dbpath', sample, '-qa'], { encoding: 'utf8' })));
    expect(ms).toBeLessThan(5000); // ~100 ms here; one fsync per CREATE once made it > 1 s
  });

  it('copies the signature tags of a signed package so rpm still verifies the header', () => {
    requireTool('rpm');
    return (async () => {
      const signed = await openRpm(sharedData('rpms/hello-2.0-1.x86_64-signed.rpm'));
      expect(signed.signatureHeader.has(268) || signed.signatureHeader.has(267)).toBe(true);
      const tree = scratch('signed');
      writeRpmdb(tree, entries([signed]), { installTid: 1 });
      const db = openRpmdb(tree);
      const h = db.packages()[0]!.header;
      expect(h.has(268) || h.has(267)).toBe(true);
      db.close();
      const r = rpmIn(tree, ['-qa', '--qf', '%{NAME} %{RSAHEADER:pgpsig}\\n']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^hello RSA\/SHA\d+, .*Key ID [0-9a-f]{16}\n$/);
    })();
  });
});

describe('crash safety and bad input', () => {
  it('replaces an rpm-written WAL database without its stale -wal leaking into the new one', () => {
    requireTool('rpm');
    const tree = scratch('replace');
    rpmIn(tree, ['-i', '--justdb', '--nodeps', '--nosignature', '--noscripts', sharedData('rpms/foo-1.0-1.noarch.rpm')]);
    const dir = path.join(tree, 'usr/lib/sysimage/rpm');
    const file = path.join(dir, 'rpmdb.sqlite');
    // Leave committed pages in the WAL, as a crashed or still-running rpm would.
    const live = new Database(file);
    live.pragma('wal_autocheckpoint = 0');
    live.exec("CREATE TABLE layer_probe (x); INSERT INTO layer_probe VALUES (42)");
    for (const side of ['-wal', '-shm']) fs.copyFileSync(`${file}${side}`, `${file}${side}.keep`);
    live.close();
    for (const side of ['-wal', '-shm']) fs.renameSync(`${file}${side}.keep`, `${file}${side}`);
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    fs.writeFileSync(path.join(dir, '.rpmdb.sqlite.tmp-1-2'), 'half-written by a crashed compose');

    writeRpmdb(tree, entries(pkgs.slice(0, 2)), { installTid: 5 });
    expect(fs.readdirSync(dir).sort()).toEqual(['.rpm.lock', 'rpmdb.sqlite']);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'layer_probe'").get()).toBeUndefined();
    db.close();
    expect(sortedLines(rpmIn(tree, ['-qa', '--qf', '%{NAME}\\n']).stdout)).toEqual(pkgs.slice(0, 2).map((p) => p.name).sort());
  });

  it('rejects bad headers with LAYER_RPMDB before touching the existing database', () => {
    const tree = scratch('bad');
    writeRpmdb(tree, entries(pkgs.slice(0, 1)), { installTid: 5 });
    const file = path.join(tree, DB);
    const before = fs.readFileSync(file);
    const installed = openRpmdb(tree);
    const withDribbles = installed.packages()[0]!.header;
    installed.close();
    const attempts: [RpmdbEntry[], RegExp][] = [
      // An installed header passed as if it came from a package file.
      [[{ kind: 'package', header: withDribbles, signatureHeader: undefined }], /entries outside its region/],
      [[{ kind: 'package', header: pkgs[0]!.header, signatureHeader: undefined, fileStates: [0] }], /file states given for \d+ files/],
      // A bare header without an immutable region (rpm v3).
      [[{ kind: 'package', header: parseHeaderBlob(Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 120, 0, 0, 0])), signatureHeader: undefined }], /no immutable region/],
    ];
    for (const [bad, pattern] of attempts) {
      let caught: unknown;
      try {
        writeRpmdb(tree, [...entries(pkgs.slice(1, 3)), ...bad], { installTid: 6 });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(LayerError);
      expect((caught as LayerError).code).toBe('LAYER_RPMDB');
      expect((caught as LayerError).message).toMatch(pattern);
    }
    expect(() => writeRpmdb(tree, [], { installTid: -1 })).toThrow(/installTid -1/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['rpmdb.sqlite']);
  });
});
