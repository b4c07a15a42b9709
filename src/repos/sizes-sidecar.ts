/**
 * The `.sizes.tsv` sidecar of a repo's primary, written with primary's facts, one line per
 * package: `NEVRA<TAB>download<TAB>installed<TAB>location<TAB>checksum` (files of older
 * versions end after `installed`). Read in 256 KiB chunks, so showing a transaction of a few
 * rows from a 63k-package repo holds neither the 5 MB file nor a 5 MB string (it did, ~6 MB of
 * the dry run's peak RSS), and downloading its packages needs no parse of primary.xml.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { PackageRecord } from '../solver/types.js';
import type { PayloadSizes } from './repo.js';

/** One package of the sidecar: its sizes, and where and what to download when known. */
export interface SidecarRow extends PayloadSizes {
  location?: string;
  checksum?: string;
}

const UNSAFE = /[\t\n\r]/;

/** The sidecar line of a primary record (a location or checksum that cannot sit in TSV is left out). */
export function sidecarLine(nevra: string, r: PackageRecord): string {
  const safe = (v: string | undefined) => (v === undefined || UNSAFE.test(v) ? '' : v);
  return `${nevra}\t${r.downloadSize ?? ''}\t${r.installSize ?? ''}\t${safe(r.location)}\t${safe(r.checksum)}`;
}

const CHUNK = 1 << 18;
/** Up to this many wanted NEVRAs are found by searching each chunk; more, by reading every line. */
const SEARCH_MAX = 32;

/**
 * Rows of the `only` NEVRAs (all when undefined); undefined when the file cannot be read.
 * Read synchronously, a chunk at a time (memory stays two chunks): every caller waits for the
 * rows before doing anything else, and each read through libuv's pool was a round trip for
 * nothing to overlap (three repos' sidecars: ~4 ms of an upgrade's download step).
 */
export async function readSizesSidecar(
  path: string, only: ReadonlySet<string> | undefined,
): Promise<Map<string, SidecarRow> | undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const out = new Map<string, SidecarRow>();
  const put = (line: string): void => {
    const [nevra, d, i, location, checksum] = line.split('\t');
    if (nevra === undefined || nevra === '') return;
    out.set(nevra, {
      ...(d ? { downloadSize: Number(d) } : {}), ...(i ? { installSize: Number(i) } : {}),
      ...(location ? { location } : {}), ...(checksum ? { checksum } : {}),
    });
  };
  const search = only !== undefined && only.size <= SEARCH_MAX ? [...only].map((n) => Buffer.from(`\n${n}\t`)) : undefined;
  try {
    // buf[0] is a newline, so the first line matches `\nNEVRA\t` like every other.
    const buf = Buffer.alloc(CHUNK * 2 + 1);
    buf[0] = 0x0a;
    let held = 0;
    for (;;) {
      const bytesRead = readSync(fd, buf, 1 + held, CHUNK, null);
      const end = 1 + held + bytesRead;
      const last = bytesRead === 0 ? end : buf.lastIndexOf(0x0a, end - 1) + 1;
      const region = buf.subarray(0, Math.max(last, 1));
      if (search) {
        for (const needle of search) {
          const at = region.indexOf(needle);
          if (at >= 0) put(region.toString('utf8', at + 1, nextLineEnd(region, at + 1)));
        }
      } else {
        for (const line of region.toString('utf8', 1).split('\n')) if (only === undefined || only.has(line.slice(0, line.indexOf('\t')))) put(line);
      }
      if (bytesRead === 0) break;
      // Keep the partial last line for the next chunk (a line longer than a chunk is not ours).
      held = end - last;
      if (held > CHUNK) return undefined;
      buf.copy(buf, 1, last, end);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function nextLineEnd(b: Buffer, from: number): number {
  const nl = b.indexOf(0x0a, from);
  return nl < 0 ? b.length : nl;
}
