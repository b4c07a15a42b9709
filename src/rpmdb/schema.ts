/**
 * The rpmdb's sqlite schema, exactly as rpm 4.16+ creates it (formats.md §5.2,
 * rpm:lib/backend/sqlite.c init_table/init_index). Statements are kept textually identical
 * to rpm's so `sqlite_master` of a db we write matches one rpm wrote, byte for byte.
 */
import type Database from 'better-sqlite3';

/** One secondary index table: rows (key, hnum, idx) pointing into Packages. */
export interface IndexTable {
  /** Table name, as rpm spells it (`Basenames`, `Requirename`, ...). */
  name: string;
  /** The header tag the index is built from. */
  tag: number;
  /** rpm stores string-class tags as TEXT keys and everything else as BLOB. */
  keyType: 'TEXT' | 'BLOB';
  /** Array-valued tags also get an index on hnum (rpm's init_index). */
  array: boolean;
}

/** In rpm's own order (rpm:lib/rpmdb.c newRpmdb dbiTags): the order matters for identical sqlite_master. */
export const INDEX_TABLES: readonly IndexTable[] = [
  { name: 'Name', tag: 1000, keyType: 'TEXT', array: false },
  { name: 'Basenames', tag: 1117, keyType: 'TEXT', array: true },
  { name: 'Group', tag: 1016, keyType: 'TEXT', array: false },
  { name: 'Requirename', tag: 1049, keyType: 'TEXT', array: true },
  { name: 'Providename', tag: 1047, keyType: 'TEXT', array: true },
  { name: 'Conflictname', tag: 1054, keyType: 'TEXT', array: true },
  { name: 'Obsoletename', tag: 1090, keyType: 'TEXT', array: true },
  { name: 'Triggername', tag: 1066, keyType: 'TEXT', array: true },
  { name: 'Dirnames', tag: 1118, keyType: 'TEXT', array: true },
  { name: 'Installtid', tag: 1128, keyType: 'BLOB', array: false },
  { name: 'Sigmd5', tag: 261, keyType: 'BLOB', array: false },
  { name: 'Sha1header', tag: 269, keyType: 'TEXT', array: false },
  { name: 'Filetriggername', tag: 5069, keyType: 'TEXT', array: true },
  { name: 'Transfiletriggername', tag: 5079, keyType: 'TEXT', array: true },
  { name: 'Recommendname', tag: 5046, keyType: 'TEXT', array: true },
  { name: 'Suggestname', tag: 5049, keyType: 'TEXT', array: true },
  { name: 'Supplementname', tag: 5052, keyType: 'TEXT', array: true },
  { name: 'Enhancename', tag: 5055, keyType: 'TEXT', array: true },
];

/** Every table rpm insists on; a read-only `rpm -qa` fails if one is missing (formats.md §5.4). */
export const REQUIRED_TABLES: readonly string[] = ['Packages', ...INDEX_TABLES.map((t) => t.name)];

/** Create Packages and the 18 index tables with their indexes, in rpm's order. */
export function createSchema(db: Database.Database): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)",
  );
  for (const t of INDEX_TABLES) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS '${t.name}' (key '${t.keyType}' NOT NULL, hnum INTEGER NOT NULL, ` +
        `idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))`,
    );
    // rpm: an index on key for string-class tags, on hnum for array-valued ones.
    if (t.keyType === 'TEXT') db.exec(`CREATE INDEX IF NOT EXISTS '${t.name}_key_idx' ON '${t.name}'(key ASC)`);
    if (t.array) db.exec(`CREATE INDEX IF NOT EXISTS '${t.name}_hnum_idx' ON '${t.name}'(hnum ASC)`);
  }
}
