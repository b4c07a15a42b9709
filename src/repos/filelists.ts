/**
 * Streaming reader for rpm-md `filelists.xml` (formats.md §6.3): every file of every package,
 * keyed by `pkgid` (the package checksum that ties primary, filelists and other together; the
 * same NEVRA may appear twice under different pkgids).
 */
import type { PackageRecord } from '../solver/types.js';
import { asCorrupt, feed, own, type XmlInput } from './primary.js';
import { XmlError, XmlScanner, decodeXml, type XmlHandler } from './xml.js';

export interface FilelistEntry {
  pkgid: string;
  name: string;
  arch: string;
  files: string[];
}

/** Push parser: entries go to `onPackage` as their `</package>` is seen. */
export class FilelistsParser {
  private readonly scanner: XmlScanner;
  private cur: FilelistEntry | undefined;
  private sawRoot = false;

  constructor(onPackage: (entry: FilelistEntry) => void) {
    const handler: XmlHandler = {
      open: (name, a) => {
        if (name === 'filelists') this.sawRoot = true;
        else if (!this.sawRoot) throw new XmlError(`root element is <${name}>, expected <filelists>`, 0);
        else if (name === 'package') {
          if (a.pkgid === undefined) throw new XmlError(`<package name="${a.name ?? '?'}"> without pkgid`, 0);
          this.cur = { pkgid: a.pkgid, name: a.name ?? '', arch: a.arch ?? '', files: [] };
        }
      },
      close: (name, text) => {
        const cur = this.cur;
        if (cur === undefined) return;
        if (name === 'file') cur.files.push(own(decodeXml(text)));
        else if (name === 'package') {
          this.cur = undefined;
          onPackage(cur);
        }
      },
    };
    this.scanner = new XmlScanner(handler);
  }

  write(chunk: Uint8Array | string): void {
    if (typeof chunk === 'string') this.scanner.write(chunk);
    else this.scanner.writeBytes(chunk);
  }

  end(): void {
    this.scanner.end();
    if (!this.sawRoot) throw new XmlError('no <filelists> element: not a filelists.xml', 0);
  }
}

/** Parse decompressed filelists.xml into a map pkgid → entry (LAYER_REPO_CORRUPT naming `opts.what` when malformed). */
export async function parseFilelists(input: XmlInput, opts: { what?: string } = {}): Promise<Map<string, FilelistEntry>> {
  return asCorrupt(opts.what ?? 'filelists.xml', async () => {
    const out = new Map<string, FilelistEntry>();
    const p = new FilelistsParser((e) => out.set(e.pkgid, e));
    await feed(input, (c) => p.write(c));
    p.end();
    return out;
  });
}

/**
 * Replace each record's primary file subset with its full file list, matched by pkgid
 * (`checksum` is `type:pkgid`). Records without an entry keep their primary files.
 */
export function mergeFilelists(records: PackageRecord[], lists: Map<string, FilelistEntry>): void {
  for (const r of records) {
    if (r.checksum === undefined) continue;
    const entry = lists.get(r.checksum.slice(r.checksum.indexOf(':') + 1));
    if (entry !== undefined) r.files = entry.files;
  }
}

/** Whether a path is in primary's file subset (createrepo_c's cr_is_primary). */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}
