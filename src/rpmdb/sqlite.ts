/**
 * Opening an rpmdb.sqlite for reading without ever writing next to it.
 *
 * rpm leaves its database in WAL mode, often with `-wal`/`-shm` files beside it, and the trees
 * we read may be read-only (an ostree checkout, ../shared/data). SQLite cannot open a WAL
 * database read-only unless it may create or map the `-shm` file, and committed transactions
 * may still sit in the `-wal` file. So:
 * - a rollback-journal (DELETE-mode) database is opened in place, read-only;
 * - a WAL database is copied, together with its `-wal` file, to a private temp directory and
 *   opened there; SQLite replays the WAL into the copy, so nothing committed is missed and
 *   nothing is written in the tree. The copy is removed by `close()`.
 * (better-sqlite3 rejects `file:…?immutable=1` URIs, and `immutable` would skip the WAL anyway.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { LayerError } from '../errors.js';
import { openSqlite } from './driver.js';

const MAGIC = 'SQLite format 3\0';

export interface OpenedSqlite {
  db: Database.Database;
  /** Closes the handle and removes any private copy. Idempotent. */
  close(): void;
}

function readPreamble(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(100);
    const n = fs.readSync(fd, buf, 0, 100, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function wrap(file: string, err: unknown): LayerError {
  const msg = err instanceof Error ? err.message : String(err);
  return new LayerError('LAYER_RPMDB', `${file}: cannot open rpmdb: ${msg}`, { cause: err });
}

/** Opens `file` (an rpmdb.sqlite) for reading; see the module comment for how. */
export function openSqliteReadOnly(file: string): OpenedSqlite {
  let head: Buffer;
  try {
    head = readPreamble(file);
  } catch (err) {
    throw wrap(file, err);
  }
  if (head.length < 100 || head.subarray(0, 16).toString('latin1') !== MAGIC) {
    throw new LayerError('LAYER_RPMDB', `${file}: not an SQLite database (${head.length < 100 ? 'truncated' : 'bad magic'})`);
  }
  // Header bytes 18/19 are the read/write format versions: 2 means WAL (sqlite fileformat2 §1.3).
  // SQLite replays a -wal it finds even beside a DELETE-mode file (as rpm would): treat that as WAL too.
  const wal = head[18] === 2 || head[19] === 2 || (fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0;
  const hotJournal = fs.existsSync(`${file}-journal`);
  if (!wal && !hotJournal) {
    try {
      const db = openSqlite(file, { readonly: true, fileMustExist: true });
      return { db, close: () => db.close() };
    } catch (err) {
      throw wrap(file, err);
    }
  }
  return openCopy(file);
}

function openCopy(file: string): OpenedSqlite {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layer-rpmdb-'));
  const copy = path.join(dir, 'rpmdb.sqlite');
  const cleanup = (): void => fs.rmSync(dir, { recursive: true, force: true });
  let db: Database.Database;
  try {
    fs.copyFileSync(file, copy);
    for (const suffix of ['-wal', '-journal']) {
      const side = `${file}${suffix}`;
      if (fs.existsSync(side)) fs.copyFileSync(side, `${copy}${suffix}`);
    }
    // Read-write on the private copy so SQLite may replay the WAL / roll back a hot journal.
    db = openSqlite(copy, { fileMustExist: true });
    db.pragma('query_only = 1');
  } catch (err) {
    cleanup();
    throw wrap(file, err);
  }
  let closed = false;
  return {
    db,
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
      cleanup();
    },
  };
}
