/**
 * Which (key, idx) rows a header contributes to each index table, following rpm's tag2index
 * (rpm:lib/rpmdb.c) and formats.md §5.2:
 * - every element of the tag gets a row whose idx is its position (the file or dependency
 *   number `-qf` and `--whatprovides` report);
 * - Requirename skips transient requires (install-only prerequisites, rpmds.h isTransientReq);
 * - Triggername skips names already seen in the same header;
 * - Filetriggername / Transfiletriggername take idx from FILETRIGGERINDEX / TRANSFILETRIGGERINDEX;
 * - rich dependencies also add their plain names (richnames.ts) under the same idx;
 * - Group falls back to "Unknown"; integer keys are stored in host (little-endian) byte order.
 */
import { TAG, TagType, type RpmHeader } from '../rpm/index.js';
import { richDepNames } from './richnames.js';
import { INDEX_TABLES, type IndexTable } from './schema.js';

export interface IndexRow {
  key: string | Uint8Array;
  idx: number;
}

// rpmds.h flag bits (formats.md §4.4).
const POSTTRANS = 1 << 5;
const PREREQ = 1 << 6;
const PRETRANS = 1 << 7;
const SCRIPT_PRE = 1 << 9;
const SCRIPT_POST = 1 << 10;
const SCRIPT_PREUN = 1 << 11;
const SCRIPT_POSTUN = 1 << 12;
const PREUNTRANS = 1 << 20;
const POSTUNTRANS = 1 << 21;
const RPMLIB = 1 << 24;
const KEYRING = 1 << 26;
const META = 1 << 29;

const INSTALL_ONLY = (SCRIPT_PRE | SCRIPT_POST | RPMLIB | KEYRING | PRETRANS | POSTTRANS) & ~PREREQ;
const ERASE_ONLY = (SCRIPT_PREUN | SCRIPT_POSTUN | PREUNTRANS | POSTUNTRANS) & ~PREREQ;

/** rpm keeps these out of Requirename: needed only while installing, never afterwards. */
export function isTransientRequire(flags: number): boolean {
  return (flags & INSTALL_ONLY) !== 0 && (flags & ERASE_ONLY) === 0 && (flags & META) === 0;
}

const RICH_TABLES = new Set<number>([TAG.REQUIRENAME, TAG.CONFLICTNAME, TAG.SUGGESTNAME, TAG.SUPPLEMENTNAME, TAG.RECOMMENDNAME, TAG.ENHANCENAME]);
const TRIGGER_INDEX_TAG: Record<number, number> = {
  [TAG.FILETRIGGERNAME]: TAG.FILETRIGGERINDEX,
  [TAG.TRANSFILETRIGGERNAME]: TAG.TRANSFILETRIGGERINDEX,
};

/** Integer keys: the value's bytes in host order, as rpm's td2key hands them to sqlite (x86: LE). */
function intKeys(h: RpmHeader, tag: number, type: number): Uint8Array[] {
  const size = type === TagType.Int64 ? 8 : type === TagType.Int32 ? 4 : type === TagType.Int16 ? 2 : 1;
  return h.bigints(tag).map((v) => {
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    if (size === 8) dv.setBigUint64(0, v, true);
    else if (size === 4) dv.setUint32(0, Number(v), true);
    else if (size === 2) dv.setUint16(0, Number(v), true);
    else dv.setUint8(0, Number(v));
    return out;
  });
}

/** Rows `h` contributes to `table`, in the order rpm inserts them. */
export function indexRowsFor(h: RpmHeader, table: IndexTable): IndexRow[] {
  const entry = h.entry(table.tag);
  if (!entry) return table.tag === TAG.GROUP ? [{ key: 'Unknown', idx: 0 }] : [];

  if (entry.type === TagType.Bin) return [{ key: new Uint8Array(h.bin(table.tag)!), idx: 0 }];
  if ([TagType.Char, TagType.Int8, TagType.Int16, TagType.Int32, TagType.Int64].includes(entry.type)) {
    return intKeys(h, table.tag, entry.type).map((key, idx) => ({ key, idx }));
  }
  // An I18N string yields one value (rpm's headerGet picks the C locale); STRING yields one.
  const values = entry.type === TagType.StringArray ? h.strings(table.tag) : [h.string(table.tag) ?? ''];

  const reqFlags = table.tag === TAG.REQUIRENAME ? h.numbers(TAG.REQUIREFLAGS) : [];
  const trigIndexTag = TRIGGER_INDEX_TAG[table.tag];
  const trigIndex = trigIndexTag === undefined ? [] : h.numbers(trigIndexTag);
  const rows: IndexRow[] = [];
  values.forEach((value, i) => {
    if (table.tag === TAG.REQUIRENAME && isTransientRequire(reqFlags[i] ?? 0)) return;
    if (table.tag === TAG.TRIGGERNAME && values.indexOf(value) < i) return;
    const idx = trigIndexTag === undefined ? i : (trigIndex[i] ?? 0);
    rows.push({ key: value, idx });
    if (value.startsWith('(') && entry.type === TagType.StringArray && RICH_TABLES.has(table.tag)) {
      for (const name of richNamesCached(value)) rows.push({ key: name, idx });
    }
  });
  return rows;
}

const richCache = new Map<string, string[]>();
function richNamesCached(dep: string): string[] {
  let names = richCache.get(dep);
  if (!names) {
    names = richDepNames(dep);
    if (richCache.size < 10_000) richCache.set(dep, names);
  }
  return names;
}

/** Every table's rows for one header, keyed by table name (tables without rows are omitted). */
export function indexRows(h: RpmHeader): Map<string, IndexRow[]> {
  const out = new Map<string, IndexRow[]>();
  for (const t of INDEX_TABLES) {
    const rows = indexRowsFor(h, t);
    if (rows.length > 0) out.set(t.name, rows);
  }
  return out;
}
