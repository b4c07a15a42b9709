/**
 * Fetching one repo's metadata into its cache: pick mirrors (baseurl list, mirrorlist or
 * metalink), get repomd.xml, then each needed data file, verifying size, checksum,
 * open-checksum and (for XML) a full parse before anything is renamed into the cache.
 * Mirrors are tried in order; a mirror that fails (after the fetcher's retries) or serves a
 * file that does not verify is skipped for the next one. Every transfer is bounded (net/):
 * data files at the size repomd.xml declares, decompressed content at its open-size.
 */
import { closeSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { RepoCache } from './cache.js';
import { FetchFailure, LARGE_FILE_LIMIT, joinUrl, type FetchOptions, type Fetcher } from '../net/index.js';
import { parseMetalink, parseMirrorlist } from './mirrors.js';
import type { Digest, RepomdRecord } from './repomd.js';
import type { RepoConfig } from './types.js';
import { decompressFile, hasher } from './verify.js';
import { XmlError } from './xml.js';

export interface MirrorPlan {
  baseurls: string[];
  /** From a metalink: what repomd.xml must hash to. */
  repomdDigests: Digest[];
  repomdSize?: number;
  /** Where the list came from, for messages. */
  origin: string;
}

/** A failed attempt, kept for the final error message. */
export interface Attempt {
  url: string;
  reason: string;
  code?: 'LAYER_REPO_CHECKSUM' | 'LAYER_REPO_CORRUPT';
}

/** The dnf defaults for a config that predates the `minrate` key (built by hand, not parsed). */
const DEFAULT_MINRATE = 1000;

export function fetchOptions(cfg: RepoConfig, report: Report | undefined, label: string, total?: number): FetchOptions & { done(): void } {
  const progress = report?.progress(`${cfg.id}: ${label}`, total, 'bytes');
  const o: FetchOptions & { done(): void } = {
    timeout: cfg.timeout,
    retries: cfg.retries,
    minrate: cfg.minrate ?? DEFAULT_MINRATE,
    sslverify: cfg.sslverify,
    onBytes: (n) => progress?.tick(n),
    done: () => progress?.done(),
  };
  if (cfg.proxy !== undefined) o.proxy = cfg.proxy;
  return o;
}

/** Resolve the mirrors of `cfg`: explicit baseurls first, then mirrorlist, then metalink. */
export async function planMirrors(cfg: RepoConfig, fetcher: Fetcher, attempts: Attempt[]): Promise<MirrorPlan> {
  const plan: MirrorPlan = { baseurls: [...cfg.baseurls], repomdDigests: [], origin: 'baseurl' };
  const opts = fetchOptions(cfg, undefined, 'mirrors');
  if (cfg.metalink !== undefined) {
    try {
      const ml = parseMetalink(await fetcher.bytes(cfg.metalink, opts), `repo ${cfg.id}: metalink ${cfg.metalink}`);
      plan.baseurls.push(...ml.baseurls);
      plan.repomdDigests = ml.digests;
      if (ml.size !== undefined) plan.repomdSize = ml.size;
      plan.origin = `metalink ${cfg.metalink}`;
    } catch (e) {
      attempts.push(attemptOf(cfg.metalink, e));
    }
  } else if (cfg.mirrorlist !== undefined) {
    try {
      const text = Buffer.from(await fetcher.bytes(cfg.mirrorlist, opts)).toString('utf8');
      plan.baseurls.push(...parseMirrorlist(text));
      plan.origin = `mirrorlist ${cfg.mirrorlist}`;
    } catch (e) {
      attempts.push(attemptOf(cfg.mirrorlist, e));
    }
  }
  plan.baseurls = [...new Set(plan.baseurls)];
  return plan;
}

/**
 * One failed attempt as a record. A reply past the cap for files of undeclared size
 * (repomd.xml, mirrorlists, metalinks, keys) is corrupt metadata; one larger than a declared
 * size is turned into LAYER_REPO_CHECKSUM where the size is known (`oversize`).
 */
export function attemptOf(url: string, e: unknown): Attempt {
  if (e instanceof FetchFailure && e.kind === 'too-large') return { url: e.url, reason: e.reason, code: 'LAYER_REPO_CORRUPT' };
  if (e instanceof FetchFailure) return { url: e.url, reason: e.reason };
  if (e instanceof LayerError && (e.code === 'LAYER_REPO_CHECKSUM' || e.code === 'LAYER_REPO_CORRUPT')) {
    return { url, reason: e.message, code: e.code };
  }
  if (e instanceof LayerError) return { url, reason: e.message };
  throw e;
}

/** Check fetched repomd.xml bytes against a metalink's size and digests. */
export function checkRepomd(bytes: Uint8Array, plan: MirrorPlan, what: string): void {
  if (plan.repomdSize !== undefined && bytes.length !== plan.repomdSize) {
    throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: size ${bytes.length}, metalink says ${plan.repomdSize}`);
  }
  // Like librepo, check the strongest digest offered; weaker ones add nothing.
  const strength = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
  const best = [...plan.repomdDigests].sort((a, b) => strength.indexOf(b.algo) - strength.indexOf(a.algo))[0];
  for (const d of best === undefined ? [] : [best]) {
    const got = hasher(d).update(bytes).digest('hex');
    if (got !== d.hex) throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${d.algo} ${got}, metalink says ${d.hex}`);
  }
}

/** Something that reads the decompressed content while it is verified (an XML parser). */
export interface ContentSink {
  write(chunk: Uint8Array): void;
  end(): void;
}

/**
 * Download `rec` from `base` into the cache: stream to a temp file hashing as it goes, check
 * size and checksum, decompress checking open-size/open-checksum while `sink` parses, and only
 * then rename into data/. On any failure the temp file is removed and nothing changes.
 */
export async function fetchDataFile(o: {
  cfg: RepoConfig;
  cache: RepoCache;
  fetcher: Fetcher;
  base: string;
  rec: RepomdRecord;
  report: Report;
  sink?: () => ContentSink | undefined;
}): Promise<string> {
  const { cfg, cache, rec } = o;
  const url = joinUrl(rec.base ?? o.base, rec.location);
  const what = `repo ${cfg.id}: ${rec.type} (${url})`;
  const tmp = cache.tmpPath(rec.type);
  const fd = openSync(tmp, 'w');
  let h = hasher(rec.checksum);
  let pos = 0;
  const opts = fetchOptions(cfg, o.report, rec.type, rec.size);
  const cap = rec.size !== undefined
    ? { maxBytes: rec.size, maxBytesWhat: 'the size repomd.xml declares' }
    : { maxBytes: LARGE_FILE_LIMIT, maxBytesWhat: "layer's 4 GiB limit for files of undeclared size" };
  try {
    try {
      await o.fetcher.stream(url, { ...opts, ...cap }, {
        reset: () => {
          ftruncateSync(fd, 0);
          pos = 0;
          h = hasher(rec.checksum);
        },
        chunk: (b) => {
          h.update(b);
          pos += writeSync(fd, b, 0, b.length, pos);
        },
      });
    } catch (e) {
      throw oversize(e, what);
    } finally {
      closeSync(fd);
      opts.done();
    }
    if (rec.size !== undefined && pos !== rec.size) {
      throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: size ${pos}, repomd.xml says ${rec.size}`);
    }
    const got = h.digest('hex');
    if (got !== rec.checksum.hex) {
      throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${rec.checksum.algo} ${got}, repomd.xml says ${rec.checksum.hex}`);
    }
    await verifyContent(tmp, rec, what, o.sink?.());
    return await cache.commitData(tmp, rec);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A reply larger than the size the metadata declares: not the file described (LAYER_REPO_CHECKSUM). */
export function oversize(e: unknown, what: string): unknown {
  if (!(e instanceof FetchFailure) || e.kind !== 'too-large') return e;
  return new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${e.reason}`, { cause: e });
}

/** Decompress `path`, checking open-size/open-checksum and feeding `sink`; errors name `what`. */
export async function verifyContent(path: string, rec: RepomdRecord, what: string, sink?: ContentSink): Promise<void> {
  const oh = rec.openChecksum !== undefined ? hasher(rec.openChecksum) : undefined;
  let size = 0;
  try {
    for await (const b of decompressFile(path)) {
      oh?.update(b);
      size += b.length;
      // A compression bomb stops at the declared size, before the parser sees the excess.
      if (rec.openSize !== undefined && size > rec.openSize) break;
      sink?.write(b);
    }
  } catch (e) {
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: malformed XML: ${e.message}`, { cause: e });
    throw new LayerError('LAYER_REPO_CORRUPT', `${what}: corrupt compressed data: ${(e as Error).message}`, { cause: e });
  }
  if (rec.openSize !== undefined && size !== rec.openSize) {
    const got = size > rec.openSize ? `more than ${rec.openSize} bytes (stopped reading)` : `${size}`;
    throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: decompressed size ${got}, repomd.xml says ${rec.openSize}`);
  }
  if (oh !== undefined && rec.openChecksum !== undefined) {
    const got = oh.digest('hex');
    if (got !== rec.openChecksum.hex) {
      throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: decompressed ${rec.openChecksum.algo} ${got}, repomd.xml says open-checksum ${rec.openChecksum.hex}`);
    }
  }
  try {
    sink?.end();
  } catch (e) {
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: malformed XML: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Render attempts for an error message. */
export function describeAttempts(attempts: Attempt[]): string {
  return attempts.map((a) => (a.reason.includes(a.url) ? `  ${a.reason}` : `  ${a.url}: ${a.reason}`)).join('\n');
}
