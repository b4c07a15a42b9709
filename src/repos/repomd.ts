/**
 * repomd.xml (formats.md §6.1): the index of a repository's metadata files with their
 * checksums. Records are looked up by `type`, never by position.
 */
import { LayerError } from '../errors.js';
import { XmlError, scanXml } from './xml.js';

export type HashAlgo = 'sha1' | 'sha256' | 'sha512' | 'sha384' | 'sha224' | 'md5';

export interface Digest {
  algo: HashAlgo;
  hex: string;
}

export interface RepomdRecord {
  type: string;
  /** Relative to the repo root (baseurl), or to `base` when given. */
  location: string;
  /** `<location xml:base>`: the file lives under this URL instead of the mirror. */
  base?: string;
  checksum: Digest;
  openChecksum?: Digest;
  size?: number;
  openSize?: number;
  timestamp?: number;
}

export interface Repomd {
  revision?: string;
  records: Map<string, RepomdRecord>;
}

/** Normalise repomd / metalink hash names (`sha` is SHA-1 in old repos). */
export function hashAlgo(name: string | undefined): HashAlgo | undefined {
  switch ((name ?? '').toLowerCase()) {
    case 'sha':
    case 'sha1':
      return 'sha1';
    case 'sha224':
      return 'sha224';
    case 'sha256':
      return 'sha256';
    case 'sha384':
      return 'sha384';
    case 'sha512':
      return 'sha512';
    case 'md5':
      return 'md5';
    default:
      return undefined;
  }
}

/** Parse repomd.xml; `what` names the file in errors (LAYER_REPO_CORRUPT). */
export function parseRepomd(bytes: Uint8Array | string, what: string): Repomd {
  const records = new Map<string, RepomdRecord>();
  let revision: string | undefined;
  let cur: Partial<RepomdRecord> & { type?: string } = {};
  let inData = false;
  let sumAlgo: string | undefined;
  let root = false;
  const fail = (msg: string): never => {
    throw new LayerError('LAYER_REPO_CORRUPT', `${what}: ${msg}`);
  };
  try {
    scanXml(bytes, {
      open(name, a) {
        if (!root) {
          if (name !== 'repomd') fail(`root element is <${name}>, expected <repomd>`);
          root = true;
        } else if (name === 'data') {
          inData = true;
          cur = { type: a.type ?? '' };
        } else if (inData && (name === 'checksum' || name === 'open-checksum')) {
          sumAlgo = a.type;
        } else if (inData && name === 'location') {
          if (a.href !== undefined) cur.location = a.href;
          if (a['xml:base']) cur.base = a['xml:base'];
        }
      },
      close(name, text) {
        const t = text.trim();
        if (!inData) {
          if (name === 'revision') revision = t;
          return;
        }
        switch (name) {
          case 'checksum':
          case 'open-checksum': {
            const algo = hashAlgo(sumAlgo);
            if (algo === undefined) fail(`unknown checksum type '${sumAlgo ?? ''}' for ${cur.type}`);
            const d: Digest = { algo: algo as HashAlgo, hex: t.toLowerCase() };
            if (name === 'checksum') cur.checksum = d;
            else cur.openChecksum = d;
            return;
          }
          case 'size':
          case 'open-size':
          case 'timestamp': {
            const n = Number(t);
            if (!Number.isFinite(n)) fail(`bad <${name}> '${t}' for ${cur.type}`);
            if (name === 'size') cur.size = n;
            else if (name === 'open-size') cur.openSize = n;
            else cur.timestamp = n;
            return;
          }
          case 'data': {
            inData = false;
            if (!cur.type) fail('<data> without type');
            if (cur.location === undefined) fail(`<data type="${cur.type}"> without <location>`);
            if (cur.checksum === undefined) fail(`<data type="${cur.type}"> without <checksum>`);
            records.set(cur.type as string, cur as RepomdRecord);
          }
        }
      },
    });
  } catch (e) {
    if (e instanceof LayerError) throw e;
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: malformed XML: ${e.message}`, { cause: e });
    throw e;
  }
  if (!root) fail('empty document');
  const out: Repomd = { records };
  if (revision !== undefined) out.revision = revision;
  return out;
}
