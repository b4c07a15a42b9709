/**
 * TEMPORARY: a minimal rpm-md primary.xml(.gz) (+ filelists.xml(.gz)) reader producing
 * PackageRecord[], used by the solver parity tests and benchmark until src/repos/ exports its
 * real parser. Delete this file and switch the callers once `src/repos/index.ts` lands.
 *
 * It scans `<package>` blocks with regular expressions instead of building a DOM, because the
 * Debian-derived repo is ~86 MB of XML and a full object tree of it costs gigabytes. It is only
 * as strict as the tests need: it reads what libsolv's repo_rpmmd.c reads (name, arch, version,
 * the dependency lists, `<file>` entries) and throws on structure it cannot read.
 *
 * Format facts: ../shared/docs/formats.md §6.2 (primary) and §6.3 (filelists).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { LayerError } from '../../../src/errors.js';
import type { PackageRecord } from '../../../src/solver/types.js';

/** Reads a metadata file, gunzipping it when the name ends in `.gz`. */
export function readMetadata(path: string): Buffer {
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw) : raw;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return ENTITY[ent] ?? whole;
  });
}

function attrs(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out.set(m[1]!, unescapeXml(m[2] ?? m[3] ?? ''));
  }
  return out;
}

const FLAG_OPS: Record<string, string> = { EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=' };

/**
 * `<rpm:entry name= flags= epoch= ver= rel=/>` → `name op [epoch:]ver[-rel]`, the string form
 * rpm prints. Epoch "0" is dropped the way libsolv's makeevr_atts drops it.
 */
function entryToDep(a: Map<string, string>, where: string): string {
  const name = a.get('name');
  if (!name) throw new LayerError('LAYER_REPO_CORRUPT', `${where}: <rpm:entry> without a name`);
  const flags = a.get('flags');
  if (!flags) return name;
  const op = FLAG_OPS[flags];
  if (!op) throw new LayerError('LAYER_REPO_CORRUPT', `${where}: unknown dependency flags "${flags}" on ${name}`);
  let evr = a.get('ver') ?? '';
  const epoch = a.get('epoch');
  if (epoch && epoch !== '0') evr = `${epoch}:${evr}`;
  const rel = a.get('rel');
  if (rel !== undefined) evr = `${evr}-${rel}`;
  return `${name} ${op} ${evr}`;
}

const DEP_KINDS = [
  'provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances',
] as const;

function tagText(block: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(block);
  return m ? unescapeXml(m[1]!) : undefined;
}

function parsePackage(block: string, where: string): PackageRecord {
  const name = tagText(block, 'name');
  const arch = tagText(block, 'arch');
  const ver = /<version\s[^>]*\/?>/.exec(block);
  if (!name || !arch || !ver) {
    throw new LayerError('LAYER_REPO_CORRUPT', `${where}: <package> without name, arch or version`);
  }
  const va = attrs(ver[0]);
  const rec: PackageRecord = {
    name, arch,
    epoch: Number(va.get('epoch') ?? '0') || 0,
    version: va.get('ver') ?? '',
    release: va.get('rel') ?? '',
    provides: [], requires: [], prerequires: [], conflicts: [], obsoletes: [],
    recommends: [], suggests: [], supplements: [], enhances: [], files: [],
  };
  const pkgWhere = `${where}: package ${name}`;
  for (const kind of DEP_KINDS) {
    const sect = new RegExp(`<rpm:${kind}>([\\s\\S]*?)</rpm:${kind}>`).exec(block);
    if (!sect) continue;
    for (const e of sect[1]!.matchAll(/<rpm:entry\s[^>]*>/g)) {
      const a = attrs(e[0]);
      const dep = entryToDep(a, pkgWhere);
      if (kind === 'requires' && a.get('pre') === '1') rec.prerequires.push(dep);
      else rec[kind].push(dep);
    }
  }
  for (const f of block.matchAll(/<file(?:\s[^>]*)?>([^<]*)<\/file>/g)) rec.files.push(unescapeXml(f[1]!));
  const csum = /<checksum\s[^>]*type="([^"]+)"[^>]*>([^<]*)<\/checksum>/.exec(block);
  if (csum) rec.checksum = `${csum[1]}:${csum[2]!.trim()}`;
  const loc = /<location\s[^>]*href="([^"]*)"/.exec(block);
  if (loc) rec.location = unescapeXml(loc[1]!);
  const summary = tagText(block, 'summary');
  if (summary !== undefined) rec.summary = summary;
  return rec;
}

/** Yields the text of each `<package ...>...</package>` element in document order. */
function* packageBlocks(xml: string): Generator<string> {
  let at = 0;
  for (;;) {
    const start = xml.indexOf('<package', at);
    if (start < 0) return;
    const end = xml.indexOf('</package>', start);
    if (end < 0) throw new LayerError('LAYER_REPO_CORRUPT', 'unterminated <package> element');
    yield xml.slice(start, end);
    at = end + 10;
  }
}

/**
 * Parses primary XML (and optionally filelists XML, merged by pkgid) into records.
 * `where` names the source in error messages.
 */
export function parsePrimary(primary: Uint8Array, opts: { filelists?: Uint8Array; where?: string } = {}): PackageRecord[] {
  const where = opts.where ?? 'primary.xml';
  const xml = Buffer.from(primary.buffer, primary.byteOffset, primary.byteLength).toString('utf8');
  if (!xml.includes('<metadata')) throw new LayerError('LAYER_REPO_CORRUPT', `${where}: not rpm-md primary XML (no <metadata>)`);
  const records: PackageRecord[] = [];
  for (const block of packageBlocks(xml)) records.push(parsePackage(block, where));
  if (opts.filelists) mergeFilelists(records, opts.filelists, where);
  return records;
}

function mergeFilelists(records: PackageRecord[], filelists: Uint8Array, where: string): void {
  const byPkgid = new Map<string, PackageRecord>();
  for (const r of records) if (r.checksum) byPkgid.set(r.checksum.slice(r.checksum.indexOf(':') + 1), r);
  const xml = Buffer.from(filelists.buffer, filelists.byteOffset, filelists.byteLength).toString('utf8');
  for (const block of packageBlocks(xml)) {
    const id = /pkgid="([^"]+)"/.exec(block)?.[1];
    const rec = id ? byPkgid.get(id) : undefined;
    if (!rec) throw new LayerError('LAYER_REPO_CORRUPT', `${where}: filelists package ${id ?? '(no pkgid)'} is not in primary`);
    // Primary already lists a subset of the same paths; keep each path once.
    const seen = new Set(rec.files);
    for (const f of block.matchAll(/<file(?:\s[^>]*)?>([^<]*)<\/file>/g)) {
      const path = unescapeXml(f[1]!);
      if (!seen.has(path)) { seen.add(path); rec.files.push(path); }
    }
  }
}
