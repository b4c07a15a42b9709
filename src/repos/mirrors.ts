/**
 * Mirrorlist and metalink documents (formats.md §6.4, after librepo's mirrorlist.c and
 * metalink.c): both turn into an ordered list of repo roots; a metalink also carries the
 * expected size and digests of repomd.xml, which every mirror's copy must match.
 */
import { LayerError } from '../errors.js';
import { hashAlgo, type Digest } from './repomd.js';
import { XmlError, scanXml } from './xml.js';

/** One baseurl per line; blank lines and `#` comments skipped; only URLs (`://`) or `/paths`. */
export function parseMirrorlist(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && (l.includes('://') || l.startsWith('/')));
}

export interface Metalink {
  /** Repo roots, highest preference first. */
  baseurls: string[];
  size?: number;
  /** Every digest listed for repomd.xml that layer knows how to compute. */
  digests: Digest[];
}

/** Parse a Metalink 3.0 document for the `repomd.xml` file; `what` names it in errors. */
export function parseMetalink(bytes: Uint8Array | string, what: string): Metalink {
  const urls: { url: string; pref: number; order: number }[] = [];
  const digests: Digest[] = [];
  let size: number | undefined;
  let inFile = false;
  let found = false;
  let hashType: string | undefined;
  let urlAttrs: Record<string, string> = {};
  try {
    scanXml(bytes, {
      open(name, a) {
        if (name === 'file') {
          inFile = a.name === 'repomd.xml';
          found ||= inFile;
        } else if (inFile && name === 'hash') hashType = a.type;
        else if (inFile && name === 'url') urlAttrs = a;
      },
      close(name, text) {
        if (!inFile) return;
        const t = text.trim();
        if (name === 'file') inFile = false;
        else if (name === 'size') size = Number(t);
        else if (name === 'hash') {
          const algo = hashAlgo(hashType);
          if (algo !== undefined && t !== '') digests.push({ algo, hex: t.toLowerCase() });
        } else if (name === 'url') {
          const proto = (urlAttrs.protocol ?? t.slice(0, t.indexOf(':'))).toLowerCase();
          if (!['http', 'https', 'file'].includes(proto)) return;
          const base = t.replace(/\/?repodata\/repomd\.xml$/, '');
          const pref = Number(urlAttrs.preference ?? 100);
          urls.push({ url: base, pref: Number.isFinite(pref) ? pref : 0, order: urls.length });
        }
      },
    });
  } catch (e) {
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: malformed metalink: ${e.message}`, { cause: e });
    throw e;
  }
  if (!found) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: metalink has no <file name="repomd.xml">`);
  urls.sort((a, b) => b.pref - a.pref || a.order - b.order);
  const out: Metalink = { baseurls: urls.map((u) => u.url), digests };
  if (size !== undefined && Number.isFinite(size)) out.size = size;
  return out;
}
