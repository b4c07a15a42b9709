/**
 * Streaming reader for rpm-md `primary.xml` (formats.md §6.2) into solver PackageRecords.
 *
 * Input arrives in chunks (a decompressing stream), is tokenized by XmlScanner and each
 * `<package>` becomes one record as soon as its end tag is seen; memory holds the records and
 * one chunk, never the XML document.
 *
 * Dependencies become the strings rpm prints: `name`, `name >= 2-3`, `name = 1:2-3`; a zero
 * epoch is left out as libsolv and rpm do; rich dependencies arrive whole in `name`. Requires
 * with `pre="1"` go to `prerequires`.
 */
import { LayerError } from '../errors.js';
import type { PackageRecord } from '../solver/types.js';
import { XmlError, XmlScanner, decodeXml, type Attrs, type XmlHandler } from './xml.js';

const FLAG_OPS: Record<string, string> = { EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=' };

/** `<rpm:entry>` attributes → rpm's printed dependency (`foo >= 1:2-3`). */
export function depString(a: Attrs): string {
  const name = a.name ?? '';
  const flags = a.flags;
  if (flags === undefined || flags === '') return name;
  const op = FLAG_OPS[flags];
  if (op === undefined) throw new XmlError(`unknown dependency flags '${flags}' on '${name}'`, 0);
  let evr = a.ver ?? '';
  const epoch = a.epoch;
  if (epoch !== undefined && epoch !== '' && epoch !== '0') evr = `${epoch}:${evr}`;
  if (a.rel !== undefined && a.rel !== '') evr = `${evr}-${a.rel}`;
  return evr === '' ? name : `${name} ${op} ${evr}`;
}

type DepKey = 'provides' | 'requires' | 'conflicts' | 'obsoletes' | 'recommends' | 'suggests' | 'supplements' | 'enhances';

const DEP_BLOCKS: Record<string, DepKey> = {
  'rpm:provides': 'provides',
  'rpm:requires': 'requires',
  'rpm:conflicts': 'conflicts',
  'rpm:obsoletes': 'obsoletes',
  'rpm:recommends': 'recommends',
  'rpm:suggests': 'suggests',
  'rpm:supplements': 'supplements',
  'rpm:enhances': 'enhances',
};

function emptyRecord(): PackageRecord {
  return {
    name: '',
    epoch: 0,
    version: '',
    release: '',
    arch: '',
    provides: [],
    requires: [],
    prerequires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
  };
}

/**
 * Copy a string out of the chunk it was sliced from. V8 keeps a sliced string's whole parent
 * (a decoded input chunk) alive; records hold thousands of such slices, which would pin the
 * XML text in memory. Concatenating and slicing again leaves a slice of a small flat copy.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function intAttr(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Push parser: `write` chunks, records are handed to `onPackage` as they complete, `end`
 * checks the document was whole. Throws XmlError on malformed input.
 */
export class PrimaryParser {
  private readonly scanner: XmlScanner;
  private pkg: PackageRecord | undefined;
  private deps: DepKey | undefined;
  private sawRoot = false;
  private count = 0;
  private declared: number | undefined;

  constructor(onPackage: (pkg: PackageRecord) => void) {
    const handler: XmlHandler = {
      open: (name, a) => {
        const pkg = this.pkg;
        if (pkg === undefined) {
          if (name === 'metadata') {
            this.sawRoot = true;
            this.declared = intAttr(a.packages);
          } else if (name === 'package') {
            if (!this.sawRoot) throw new XmlError('<package> outside <metadata>: not a primary.xml', 0);
            this.pkg = emptyRecord();
          } else if (!this.sawRoot) {
            throw new XmlError(`root element is <${name}>, expected <metadata>: not a primary.xml`, 0);
          }
          return;
        }
        switch (name) {
          case 'rpm:entry': {
            if (this.deps === undefined) return;
            // own(), not intern(): interning saved 19 MB on 63k packages but cost 17% CPU.
            const dep = own(depString(a));
            if (this.deps === 'requires' && a.pre === '1') pkg.prerequires.push(dep);
            else pkg[this.deps].push(dep);
            return;
          }
          case 'version':
            pkg.epoch = intAttr(a.epoch) ?? 0;
            pkg.version = this.intern(a.ver ?? '');
            pkg.release = this.intern(a.rel ?? '');
            return;
          case 'checksum':
            this.checksumType = a.type ?? 'sha256';
            return;
          case 'time': {
            const t = intAttr(a.build);
            if (t !== undefined) pkg.buildTime = t;
            return;
          }
          case 'size': {
            const p = intAttr(a.package);
            const i = intAttr(a.installed);
            if (p !== undefined) pkg.downloadSize = p;
            if (i !== undefined) pkg.installSize = i;
            return;
          }
          case 'location':
            if (a.href !== undefined) pkg.location = own(a.href);
            return;
          default: {
            const block = DEP_BLOCKS[name];
            if (block !== undefined) this.deps = block;
          }
        }
      },
      close: (name, text) => {
        const pkg = this.pkg;
        if (pkg === undefined) return;
        switch (name) {
          case 'file':
            pkg.files.push(own(decodeXml(text)));
            return;
          case 'name':
            pkg.name = own(decodeXml(text));
            return;
          case 'arch':
            pkg.arch = this.intern(decodeXml(text));
            return;
          case 'summary':
            pkg.summary = own(decodeXml(text));
            return;
          case 'checksum':
            pkg.checksum = own(`${this.checksumType}:${text.trim()}`);
            return;
          case 'rpm:sourcerpm':
            if (text !== '') pkg.sourceRpm = own(decodeXml(text));
            return;
          case 'package':
            if (pkg.name === '' || pkg.arch === '' || pkg.version === '') {
              throw new XmlError(`package #${this.count + 1} lacks name, arch or version`, 0);
            }
            this.pkg = undefined;
            this.count++;
            onPackage(pkg);
            return;
          default:
            if (this.deps !== undefined && DEP_BLOCKS[name] !== undefined) this.deps = undefined;
        }
      },
    };
    this.scanner = new XmlScanner(handler);
  }

  private checksumType = 'sha256';
  /** Versions, releases and arches repeat across packages: store each once. */
  private readonly strings = new Map<string, string>();

  private intern(s: string): string {
    let v = this.strings.get(s);
    if (v === undefined) {
      v = own(s);
      this.strings.set(v, v);
    }
    return v;
  }

  write(chunk: Uint8Array | string): void {
    if (typeof chunk === 'string') this.scanner.write(chunk);
    else this.scanner.writeBytes(chunk);
  }

  /** Finish; returns the number of packages seen. */
  end(): number {
    this.scanner.end();
    if (!this.sawRoot) throw new XmlError('no <metadata> element: not a primary.xml', 0);
    if (this.declared !== undefined && this.declared !== this.count) {
      throw new XmlError(`<metadata packages="${this.declared}"> but ${this.count} packages present`, 0);
    }
    return this.count;
  }
}

export type XmlInput = Uint8Array | string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

/** Feed any XmlInput into a parser's write(); strings and single buffers in one go. */
export async function feed(input: XmlInput, write: (chunk: Uint8Array | string) => void): Promise<void> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    write(input);
    return;
  }
  if (Symbol.asyncIterator in input) {
    for await (const chunk of input) write(chunk);
  } else {
    for (const chunk of input) write(chunk);
  }
}

/** Run `fn`, turning an XmlError into LAYER_REPO_CORRUPT naming `what`. */
export async function asCorrupt<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: malformed XML: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Parse decompressed primary.xml (bytes, string, or a stream of chunks such as a
 * `fs.createReadStream` piped through a decompressor) into PackageRecords, in document order.
 * Malformed or truncated XML: LayerError LAYER_REPO_CORRUPT naming `opts.what` (default
 * "primary.xml").
 */
export async function parsePrimary(input: XmlInput, opts: { what?: string } = {}): Promise<PackageRecord[]> {
  return asCorrupt(opts.what ?? 'primary.xml', async () => {
    const out: PackageRecord[] = [];
    const p = new PrimaryParser((pkg) => out.push(pkg));
    await feed(input, (c) => p.write(c));
    p.end();
    return out;
  });
}
