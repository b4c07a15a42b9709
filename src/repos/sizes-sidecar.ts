/**
 * The `.sizes.tsv` sidecar of a repo's primary (`NEVRA<TAB>download<TAB>installed` per line,
 * written with primary's facts): read in 256 KiB chunks, so showing a transaction of a few rows
 * from a 63k-package repo holds neither the 3 MB file nor a 3 MB string (it did, ~6 MB of the
 * dry run's peak RSS).
 */
import { open } from 'node:fs/promises';
import type { PayloadSizes } from './repo.js';

const CHUNK = 1 << 18;
/** Up to this many wanted NEVRAs are found by searching each chunk; more, by reading every line. */
const SEARCH_MAX = 32;

/** Sizes of the `only` NEVRAs (all when undefined); undefined when the file cannot be read. */
export async function readSizesSidecar(
  path: string, only: ReadonlySet<string> | undefined,
): Promise<Map<string, PayloadSizes> | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  const out = new Map<string, PayloadSizes>();
  const put = (line: string): void => {
    const [nevra, d, i] = line.split('\t');
    if (nevra === undefined || nevra === '') return;
    out.set(nevra, { ...(d ? { downloadSize: Number(d) } : {}), ...(i ? { installSize: Number(i) } : {}) });
  };
  const search = only !== undefined && only.size <= SEARCH_MAX ? [...only].map((n) => Buffer.from(`\n${n}\t`)) : undefined;
  try {
    // buf[0] is a newline, so the first line matches `\nNEVRA\t` like every other.
    const buf = Buffer.alloc(CHUNK * 2 + 1);
    buf[0] = 0x0a;
    let held = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 1 + held, CHUNK, null);
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
    await fh.close();
  }
  return out;
}

function nextLineEnd(b: Buffer, from: number): number {
  const nl = b.indexOf(0x0a, from);
  return nl < 0 ? b.length : nl;
}
