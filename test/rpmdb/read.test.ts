/**
 * Reading real rpmdbs: the cbl-mariner sample (WAL mode, in a read-only directory with -wal/-shm)
 * must list exactly what Debian's rpm lists, without anything being written next to it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { TAG } from '../../src/rpm/index.js';
import { locateRpmdb, openRpmdb, openRpmdbWithHeaders, readHeaderList, writeHeaderList } from '../../src/rpmdb/index.js';
import { requireTool, sharedData, sortedLines, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function scratch(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

function snapshot(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((f) => {
    const st = fs.statSync(path.join(dir, f));
    return `${f} ${st.size} ${st.mtimeMs}`;
  });
}

describe('openRpmdb on the cbl-mariner-2.0 sample', () => {
  const sample = (): string => sharedData('rpmdb/cbl-mariner-2.0');

  /** rpm may want to write (-shm, lock): give it a private copy. */
  function rpmQa(qf: string): string[] {
    requireTool('rpm');
    const copy = scratch('mariner-rpm');
    for (const f of fs.readdirSync(sample())) fs.copyFileSync(path.join(sample(), f), path.join(copy, f));
    return sortedLines(execFileSync('rpm', ['--dbpath', copy, '-qa', '--qf', qf], { encoding: 'utf8' }));
  }

  it('lists exactly the NEVRAs `rpm -qa` lists, and writes nothing beside the database', () => {
    const before = snapshot(sample());
    const db = openRpmdb(sample());
    try {
      const ours = db.packages();
      expect(ours).toHaveLength(129);
      const expected = rpmQa('%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n');
      const mine = ours.map((p) => `${p.name}-${p.header.has(1003) ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch || '(none)'}`);
      expect(mine.sort()).toEqual(expected);
      // Our Nevra form (epoch omitted when 0) from the same packages.
      const plain = rpmQa('%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n').map((l) => l.replace(/-0:/, '-'));
      expect([...db.nevras()].sort()).toEqual(plain);
    } finally {
      db.close();
    }
    expect(snapshot(sample())).toEqual(before);
  });

  it('gives solver records and file owners that agree with rpm', () => {
    requireTool('rpm');
    const db = openRpmdb(sample());
    try {
      const records = db.records();
      expect(records).toHaveLength(129);
      const bash = records.find((r) => r.name === 'bash');
      expect(bash?.files).toContain('/bin/bash');
      expect(bash?.provides.some((p) => p.startsWith('bash = '))).toBe(true);
      expect(db.ownersOf('/bin/bash').map((p) => p.name)).toEqual(['bash']);
      expect(db.ownersOf('/usr/bin/no-such-file')).toEqual([]);
      expect(db.whatProvides('/bin/sh').map((p) => p.name)).toEqual(['bash']);
      const rpmOwner = rpmQa('[%{FILENAMES}\\n]').length;
      const allFiles = records.reduce((n, r) => n + r.files.length, 0);
      expect(allFiles).toBe(rpmOwner);
    } finally {
      db.close();
    }
  });

  it('finds the database from a tree root in usr/share/rpm (rpm-ostree layout)', () => {
    const tree = scratch('tree');
    fs.mkdirSync(path.join(tree, 'usr/share/rpm'), { recursive: true });
    fs.copyFileSync(path.join(sample(), 'rpmdb.sqlite'), path.join(tree, 'usr/share/rpm/rpmdb.sqlite'));
    const db = openRpmdb(tree);
    expect(db.file).toBe(path.join(tree, 'usr/share/rpm/rpmdb.sqlite'));
    expect(db.packages()).toHaveLength(129);
    db.close();
    // usr/lib/sysimage/rpm wins over the others when both exist.
    const both = scratch('both');
    for (const [dir, n] of [['usr/lib/sysimage/rpm', 'a'], ['var/lib/rpm', 'b']] as const) {
      fs.mkdirSync(path.join(both, dir), { recursive: true });
      fs.writeFileSync(path.join(both, dir, 'rpmdb.sqlite'), n);
    }
    expect(locateRpmdb(both)).toBe(path.join(both, 'usr/lib/sysimage/rpm/rpmdb.sqlite'));
    fs.rmSync(path.join(both, 'usr'), { recursive: true });
    expect(locateRpmdb(both)).toBe(path.join(both, 'var/lib/rpm/rpmdb.sqlite'));
  });
});

describe('answers from headers and header lists', () => {
  const sample = (): string => path.join(sharedData('rpmdb/cbl-mariner-2.0'), 'rpmdb.sqlite');

  it('finds owners and providers exactly as rpm\'s Basenames and Providename indexes do', () => {
    // The oracle is the database rpm wrote: every key of both indexes, asked of the headers.
    const raw = new Database(sample(), { readonly: true });
    const db = openRpmdb(sample());
    try {
      const byHnum = new Map(db.packages().map((p) => [p.hnum, p.nevra]));
      const provides = raw.prepare('SELECT key, hnum FROM Providename ORDER BY hnum').all() as { key: string; hnum: number }[];
      const keys = [...new Set(provides.map((r) => r.key))];
      expect(keys.length).toBeGreaterThan(500);
      for (const key of keys) {
        const want = [...new Set(provides.filter((r) => r.key === key).map((r) => byHnum.get(r.hnum)))];
        expect(db.whatProvides(key).map((p) => p.nevra), key).toEqual(want);
      }
      // Owners: one path per (package, file) row, from the headers' own dirnames.
      const paths = new Set<string>();
      for (const p of db.packages()) {
        const names = p.header.strings(TAG.BASENAMES);
        const dirs = p.header.strings(TAG.DIRNAMES);
        const idx = p.header.numbers(TAG.DIRINDEXES);
        names.forEach((n, i) => paths.add(`${dirs[idx[i] ?? 0]}${n}`));
      }
      expect(paths.size).toBeGreaterThan(5_000);
      // rpm -qf's way: the Basenames rows of the base name, kept where the row's file (idx) sits
      // in the asked directory.
      const rows = new Map<string, { hnum: number; idx: number }[]>();
      for (const r of raw.prepare('SELECT key, hnum, idx FROM Basenames ORDER BY hnum, idx').all() as { key: string; hnum: number; idx: number }[]) {
        rows.set(r.key, [...(rows.get(r.key) ?? []), r]);
      }
      const header = new Map(db.packages().map((p) => [p.hnum, p.header]));
      let shared = 0;
      for (const file of paths) {
        const slash = file.lastIndexOf('/');
        const want = new Set<number>();
        for (const r of rows.get(file.slice(slash + 1)) ?? []) {
          const h = header.get(r.hnum);
          if (h && h.strings(TAG.DIRNAMES)[h.numbers(TAG.DIRINDEXES)[r.idx] ?? -1] === file.slice(0, slash + 1)) want.add(r.hnum);
        }
        const got = db.ownersOf(file).map((p) => p.hnum);
        expect(got, file).toEqual([...want]);
        expect(got.length, file).toBeGreaterThan(0);
        if (got.length > 1) shared++;
      }
      expect(shared).toBeGreaterThan(0); // paths several packages own
      expect(db.ownersOf('/usr/bin/no-such-file')).toEqual([]);
    } finally {
      db.close();
      raw.close();
    }
  });

  it('reads a header list back as the same packages, and a damaged list as none', () => {
    const dir = scratch('header-list');
    const db = openRpmdb(sample());
    const list = path.join(dir, 'headers.list');
    try {
      writeHeaderList(list, db.headerRows());
      const fromList = openRpmdbWithHeaders(sample(), list);
      expect(fromList).toBeDefined();
      expect(fromList?.packages().map((p) => [p.hnum, p.nevra])).toEqual(db.packages().map((p) => [p.hnum, p.nevra]));
      expect(fromList?.records()).toEqual(db.records());
      expect(fromList?.whatProvides('/bin/sh').map((p) => p.name)).toEqual(['bash']);
      fromList?.close();
    } finally {
      db.close();
    }
    const bytes = fs.readFileSync(list);
    expect(readHeaderList(list)?.length).toBe(129);
    for (const damage of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])]), Buffer.from(bytes.map((b, i) => (i === 5000 ? b ^ 1 : b)))]) {
      fs.writeFileSync(list, damage);
      expect(readHeaderList(list)).toBeUndefined();
      expect(openRpmdbWithHeaders(sample(), list)).toBeUndefined();
    }
    expect(openRpmdbWithHeaders(sample(), path.join(dir, 'missing'))).toBeUndefined();
  });
});

describe('openRpmdb in WAL mode', () => {
  it('includes transactions that exist only in the -wal file', () => {
    const src = scratch('wal-src');
    const file = path.join(src, 'rpmdb.sqlite');
    fs.copyFileSync(sharedData('rpmdb/cbl-mariner-2.0/rpmdb.sqlite'), file);
    const w = new Database(file);
    w.pragma('journal_mode = WAL');
    w.pragma('wal_autocheckpoint = 0');
    w.pragma('foreign_keys = OFF');
    // Drop a package in a transaction that stays in the WAL: the main file still has 129.
    w.prepare("DELETE FROM Packages WHERE hnum = (SELECT hnum FROM Name WHERE key = 'bash')").run();
    const frozen = scratch('wal-frozen');
    fs.copyFileSync(file, path.join(frozen, 'rpmdb.sqlite'));
    fs.copyFileSync(`${file}-wal`, path.join(frozen, 'rpmdb.sqlite-wal'));
    w.close();
    expect(fs.statSync(path.join(frozen, 'rpmdb.sqlite-wal')).size).toBeGreaterThan(0);

    const before = snapshot(frozen);
    const db = openRpmdb(frozen);
    expect(db.packages()).toHaveLength(128);
    expect(db.packages().some((p) => p.name === 'bash')).toBe(false);
    db.close();
    expect(snapshot(frozen)).toEqual(before);
  });
});

describe('openRpmdb errors', () => {
  function expectRpmdbError(fn: () => unknown, pattern: RegExp): void {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(LayerError);
      expect((err as LayerError).code).toBe('LAYER_RPMDB');
      expect((err as LayerError).message).toMatch(pattern);
      return;
    }
    throw new Error('expected a LAYER_RPMDB error');
  }

  it('names the bdb and ndb backends as unsupported', () => {
    const bdb = scratch('bdb');
    fs.mkdirSync(path.join(bdb, 'usr/lib/sysimage/rpm'), { recursive: true });
    fs.writeFileSync(path.join(bdb, 'usr/lib/sysimage/rpm/Packages'), Buffer.alloc(4096));
    expectRpmdbError(() => openRpmdb(bdb), /bdb \(Berkeley DB\) backend.*not support/);
    const ndb = scratch('ndb');
    fs.mkdirSync(path.join(ndb, 'usr/share/rpm'), { recursive: true });
    fs.writeFileSync(path.join(ndb, 'usr/share/rpm/Packages.db'), Buffer.alloc(4096));
    expectRpmdbError(() => openRpmdb(ndb), /ndb backend/);
  });

  it('reports a missing database, a non-sqlite file, a truncated file and a damaged header', () => {
    const empty = scratch('empty');
    expectRpmdbError(() => openRpmdb(empty), /no rpmdb found/);
    expectRpmdbError(() => openRpmdb(path.join(empty, 'nope')), /no such file/);
    const junk = path.join(empty, 'rpmdb.sqlite');
    fs.writeFileSync(junk, 'x'.repeat(200));
    expectRpmdbError(() => openRpmdb(junk), /not an SQLite database/);
    fs.writeFileSync(junk, fs.readFileSync(sharedData('rpmdb/cbl-mariner-2.0/rpmdb.sqlite')).subarray(0, 50));
    expectRpmdbError(() => openRpmdb(junk), /truncated/);

    const other = path.join(scratch('other'), 'rpmdb.sqlite');
    new Database(other).exec('CREATE TABLE t (x)').close();
    expectRpmdbError(() => openRpmdb(other), /without a Packages table/);

    const damaged = path.join(scratch('damaged'), 'rpmdb.sqlite');
    fs.copyFileSync(sharedData('rpmdb/cbl-mariner-2.0/rpmdb.sqlite'), damaged);
    const d = new Database(damaged);
    d.pragma('journal_mode = DELETE');
    d.prepare('UPDATE Packages SET blob = substr(blob, 1, 100) WHERE hnum = (SELECT min(hnum) FROM Packages)').run();
    d.close();
    const db = openRpmdb(damaged);
    expectRpmdbError(() => db.packages(), /damaged rpmdb: .*header #\d+.*truncated/);
    db.close();
  });
});
