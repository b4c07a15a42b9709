/**
 * Pulling a commit from an archive-mode OSTree repository over HTTP (or file://), as `ostree
 * pull` does without deltas: `config` (the mode must be archive), `summary` (else
 * `refs/heads/REF`) for the ref's commit, then the commit, its dirmeta and dirtree objects and
 * the `.filez` content objects into a bare / bare-user Store. Every object is verified: a
 * metadata object's SHA-256 is its name; a content object's canonical checksum (formats.md
 * §2.4.1) is recomputed from the decoded `.filez`. Transfers go through net/'s Fetcher (p-limit
 * concurrency, byte caps, timeouts, minrate, bounded retries).
 *
 * Resuming: objects are written children first and the commit last, and a dirtree is written
 * only after everything below it, so after an interrupted pull a dirtree in the store means its
 * whole subtree is there: the next pull skips it without a request, and fetches only what is
 * missing (plus the few dirtrees whose subtrees were unfinished).
 *
 * Crash safety: every object goes through the store's temp file + rename; the commit object is
 * written only once its tree is complete, so a commit in the store is always whole. No ref is
 * set here: the caller does that.
 *
 * Signatures: when the remote requires them (remote-verify.ts), the summary is checked against
 * `summary.sig` before a ref is read from it, and the commit against its `.commitmeta` before
 * any of its tree is fetched; the commitmeta is then kept in the store, as ostree does.
 *
 * Speed: content objects are written off the event loop (Store.writeContentAsync), so
 * responses keep being read while files are created; durability is one syncfs before the
 * caller's ref (Repo.setRef), as ostree does, not one fsync per object.
 *
 * Progress: `pull.progress`, `pull.delta` and `pull.delta.part` events (pull-progress.ts).
 *
 * Limits: a `.filez` is held in memory while it is verified, capped at MAX_FILEZ bytes. Up to
 * 2 × `concurrency` objects are in flight, but only while each stays within BIG_OBJECT bytes
 * (compressed and inflated): a larger one (a server's Content-Length says so, or its header
 * declares a larger content) is fetched and written alone, one at a time. Peak memory is then
 * about 2 × concurrency × 2 × BIG_OBJECT (1 GiB at the defaults) plus one object of at most
 * MAX_FILEZ and its content, not 2 × concurrency of those (64 GiB).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pLimit from 'p-limit';
import { LayerError } from '../../errors.js';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, FetchFailure, Fetcher, SMALL_FILE_LIMIT, joinUrl, type FetchOptions } from '../../net/index.js';
import type { Report } from '../../report.js';
import type { BaseSource } from './base-source.js';
import { remoteOptions, remoteVerification, verifySigned, type RemoteVerification } from './remote-verify.js';
import { MAX_DETACHED } from '../../store/commitmeta.js';
import { pullDelta, type DeltaMetadata } from './ostree-delta.js';
import { checkBaseLayout } from './ostree-local.js';
import { PullProgress } from './pull-progress.js';
import {
  decodeCommit, decodeDirMeta, decodeDirTree, decodeFilez, decodeSummary, isChecksum, isValidRef, sha256,
  type Checksum, type Store,
} from '../../store/index.js';
import type { ObjectType } from '../../store/objects.js';

/** Most bytes of one `.filez` (held in memory while verified). */
export const MAX_FILEZ = 1 << 30;
/** Objects larger than this (compressed or inflated) are pulled one at a time (see Limits above). */
export const BIG_OBJECT = 16 << 20;
/** Connections per server (net/http1.ts: thousands of small GETs are where undici's per-request cost shows). */
const HTTP1_CONNECTIONS = 8;
/** Most bytes of a summary or a commit/dirtree object. */
const MAX_METADATA = 64 << 20;

export interface PullOptions {
  fetcher?: Fetcher;
  /**
   * Concurrent requests when `fetcher` is not given (default 16: net/'s agent opens at most 8
   * connections per server, and 8 more queued requests keep them busy while this thread writes
   * objects; measured 2.8-3.2x faster than 8 on a 2,000-object pull).
   */
  concurrency?: number;
  report: Report;
  /** Seconds (dnf's `timeout`); default 30. */
  timeout?: number;
  /** Signatures the remote requires (remoteVerification); default none. */
  verify?: RemoteVerification;
  /** Use a static delta when the server offers one (default true). */
  deltas?: boolean;
  /** Bytes past which an object is pulled alone (default BIG_OBJECT; tests lower it). */
  bigObject?: number;
}

export interface PullResult {
  commit: Checksum;
  /** Objects fetched and written; objects the store already had (skipped without a request). */
  fetched: number;
  present: number;
  /** Bytes transferred. */
  bytes: number;
  /** Set when a static delta was used (ostree-delta.ts). */
  delta?: { from?: Checksum; parts: number; skipped: number; bytes: number; objects: number };
}

type MetaType = 'commit' | 'dirtree' | 'dirmeta';

/** The commit `ref` names on the remote at `url`: from the summary, else refs/heads/REF. */
export async function resolveRemoteRef(url: string, ref: string, opts: PullOptions & { fetcher: Fetcher }): Promise<Checksum> {
  if (!isValidRef(ref)) throw new LayerError('LAYER_USAGE', `invalid ref name '${ref}'`);
  const o = fetchOpts(opts);
  const config = Buffer.from(await get(opts.fetcher, joinUrl(url, 'config'), o, 'config')).toString('utf8');
  const mode = /^\s*mode\s*=\s*(\S+)\s*$/m.exec(config)?.[1];
  if (mode !== 'archive-z2' && mode !== 'archive') {
    throw new LayerError('LAYER_STORE', `${url} is a '${mode ?? '(no mode)'}' repository; only archive repositories are served over HTTP`);
  }
  const summary = await get(opts.fetcher, joinUrl(url, 'summary'), { ...o, maxBytes: MAX_METADATA }, 'summary', true);
  if (opts.verify && (opts.verify.gpg?.summary || opts.verify.ed25519?.summary)) {
    if (!summary) throw new LayerError('LAYER_COMMIT_SIGNATURE', `${url}: remote ${opts.verify.remote} requires a signed summary and the server has no summary`);
    const sig = await get(opts.fetcher, joinUrl(url, 'summary.sig'), { ...o, maxBytes: MAX_DETACHED }, 'summary.sig', true);
    await verifySigned(opts.verify, summary, sig, `summary of ${url}`, true);
  }
  if (summary) {
    const hit = decodeSummary(summary).refs.find((r) => r.ref === ref);
    if (hit) return hit.commit;
  }
  const text = await get(opts.fetcher, joinUrl(url, `refs/heads/${ref}`), o, `ref ${ref}`, true);
  const csum = text ? Buffer.from(text).toString('utf8').trim() : '';
  if (!isChecksum(csum)) throw new LayerError('LAYER_STORE', `${url} has no ref '${ref}'${summary ? ' (neither in its summary nor in refs/heads)' : ''}`);
  return csum;
}

/** Pull the commit `ref` names (or a commit checksum) from the archive repo at `url` into `store`. */
export async function pullFromRemote(store: Store, url: string, ref: string, opts: PullOptions): Promise<PullResult> {
  const fetcher = opts.fetcher ?? new Fetcher({ concurrency: opts.concurrency ?? 16, http1Connections: HTTP1_CONNECTIONS });
  const ctx = { ...opts, fetcher };
  const commit = isChecksum(ref) ? ref : await resolveRemoteRef(url, ref, ctx);
  const res: PullResult = { commit, fetched: 0, present: 0, bytes: 0 };
  // Before any tree object: a refused commit costs two requests and writes nothing.
  const verified = opts.verify ? await verifyCommit(store, fetcher, url, commit, fetchOpts(opts), opts.verify) : undefined;
  if (store.hasObject(commit, 'commit')) {
    res.present++;
    return res;
  }
  const progress = new PullProgress(opts.report, url);
  const fromDelta = opts.deltas === false ? undefined : await deltaFirst(store, url, fetcher, opts, res, progress);
  const walk = objectWalk(store, url, {
    fetcher, o: fetchOpts(opts), res, progress, fromDelta, concurrency: opts.concurrency ?? 16, bigObject: opts.bigObject ?? BIG_OBJECT,
  });
  progress.need(1);
  const commitBytes = verified ?? await walk.fetchMeta('commit', commit);
  const c = decodeCommit(commitBytes);
  await opts.report.section('pull', async () => {
    await settleAll([walk.dirmeta(c.rootMeta), walk.tree(c.rootTree)]);
  });
  progress.done();
  store.writeMetadata('commit', commitBytes);
  return res;
}

interface WalkCtx {
  fetcher: Fetcher;
  o: FetchOptions;
  res: PullResult;
  progress: PullProgress;
  fromDelta: DeltaMetadata | undefined;
  /** Requests in flight; twice as many content objects may be held (fetched, being written). */
  concurrency: number;
  /** Objects past this many bytes are pulled alone. */
  bigObject: number;
}

/**
 * The object walk of a pull: each object once (shared subtrees and files are fetched once),
 * a dirtree written after its subtree. Content objects are decoded on this thread, then
 * verified and written off it (Store.writeContentAsync); at most 2 × `concurrency` of them are
 * between request and rename at a time, which bounds memory whatever the tree's size.
 */
function objectWalk(store: Store, url: string, w: WalkCtx) {
  const { fetcher, o, res, progress } = w;
  const objUrl = (csum: Checksum, ext: string) => joinUrl(url, `objects/${csum.slice(0, 2)}/${csum.slice(2)}.${ext}`);
  const contentSlots = pLimit(2 * w.concurrency);
  const fetchMeta = async (type: MetaType, csum: Checksum): Promise<Buffer> => {
    // Metadata the delta carried was verified against its name when the part was executed.
    const carried = w.fromDelta?.get(type + csum);
    if (carried) {
      progress.have();
      return carried.bytes;
    }
    const bytes = Buffer.from(await get(fetcher, objUrl(csum, type), { ...o, maxBytes: MAX_METADATA }, `${type} ${csum}`));
    if (sha256(bytes) !== csum) throw mismatch(url, type, csum);
    res.fetched++;
    res.bytes += bytes.length;
    progress.got(bytes.length);
    return bytes;
  };
  const countPresent = (): void => {
    res.present++;
    progress.have();
  };
  const seen = new Map<string, Promise<void>>();
  /** `fn` once per object; a present object counts as present and runs nothing. */
  const once = (key: string, type: ObjectType, csum: Checksum, fn: () => Promise<void>): Promise<void> => {
    let p = seen.get(key);
    if (!p) {
      progress.need(1);
      // For dirtrees, present means complete (written only after their subtree).
      p = store.hasObject(csum, type) ? Promise.resolve(countPresent()) : fn();
      seen.set(key, p);
    }
    return p;
  };
  const fetchAndWrite = contentFetcher(store, url, w, objUrl);
  const file = (csum: Checksum) => once(`f${csum}`, 'file', csum, () => contentSlots(() => fetchAndWrite(csum)));
  const dirmeta = (csum: Checksum) => once(`m${csum}`, 'dirmeta', csum, async () => {
    const bytes = await fetchMeta('dirmeta', csum);
    decodeDirMeta(bytes);
    store.writeMetadata('dirmeta', bytes);
  });
  const tree = (csum: Checksum): Promise<void> => once(`t${csum}`, 'dirtree', csum, async () => {
    const bytes = await fetchMeta('dirtree', csum);
    const t = decodeDirTree(bytes);
    await settleAll([
      ...t.files.map(([, c]) => file(c)),
      ...t.dirs.flatMap(([, sub, meta]) => [dirmeta(meta), tree(sub)]),
    ]);
    store.writeMetadata('dirtree', bytes);
  });
  return { fetchMeta, dirmeta, tree };
}

/**
 * Fetch, verify and write one content object: fetched with at most `bigObject` bytes; past
 * that (or when its header declares a larger content), again without that bound and written
 * alone, holding the one big-object slot.
 */
function contentFetcher(store: Store, url: string, w: WalkCtx, objUrl: (csum: Checksum, ext: string) => string) {
  const { fetcher, o, res, progress } = w;
  const bigSlot = pLimit(1);
  const filez = (csum: Checksum, maxBytes: number) => fetcher.bytes(objUrl(csum, 'filez'), { ...o, maxBytes, maxBytesWhat: 'layer\'s limit for one .filez' });
  const write = async (csum: Checksum, bytes: Uint8Array): Promise<void> => {
    const { meta, content } = decodeFilez(bytes, MAX_FILEZ);
    // Verified before anything is written: a wrong object is never stored, under any name.
    if (await store.writeContentAsync(meta, content, csum) !== csum) throw mismatch(url, 'content', csum);
    res.fetched++;
    res.bytes += bytes.length;
    progress.got(bytes.length);
  };
  const fetchAndWrite = async (csum: Checksum): Promise<void> => {
    const small = await filez(csum, w.bigObject).catch((e: unknown) => {
      if (e instanceof FetchFailure && e.kind === 'too-large') return undefined;
      throw fetchError(e, `content ${csum}`);
    });
    if (small && declaredSize(small) <= w.bigObject) return write(csum, small);
    await bigSlot(async () => write(csum, small ?? await filez(csum, MAX_FILEZ).catch((e: unknown) => {
      throw fetchError(e, `content ${csum}`);
    })));
  };
  return fetchAndWrite;
}

/** Apply a static delta to `res.commit` when the server offers one (ostree-delta.ts): its metadata objects. */
async function deltaFirst(store: Store, url: string, fetcher: Fetcher, opts: PullOptions, res: PullResult, progress: PullProgress)
  : Promise<DeltaMetadata | undefined> {
  const r = await pullDelta(store, url, res.commit, {
    fetcher, o: fetchOpts(opts), report: opts.report, progress, maxObject: MAX_FILEZ,
    get: (u, fo, what, optional) => get(fetcher, u, fo, what, optional as true),
  });
  if (!r) return undefined;
  const { metadata, ...d } = r;
  res.delta = d;
  res.bytes += d.bytes;
  return metadata;
}

/**
 * Checks the commit's signatures (its `.commitmeta`) and keeps that where ostree does (`ostree
 * show` reads it there). Returns the commit object's bytes (the store's, else fetched and
 * checked against the checksum), for the pull to write once the tree is complete.
 */
async function verifyCommit(
  store: Store, fetcher: Fetcher, url: string, commit: Checksum, o: FetchOptions, verify: RemoteVerification,
): Promise<Buffer> {
  const at = (ext: string) => joinUrl(url, `objects/${commit.slice(0, 2)}/${commit.slice(2)}.${ext}`);
  const commitBytes = store.hasObject(commit, 'commit')
    ? store.readMetadata('commit', commit)
    : Buffer.from(await get(fetcher, at('commit'), { ...o, maxBytes: MAX_METADATA }, `commit ${commit}`));
  if (sha256(commitBytes) !== commit) throw mismatch(url, 'commit', commit);
  const bytes = await get(fetcher, at('commitmeta'), { ...o, maxBytes: MAX_DETACHED }, `commitmeta ${commit}`, true);
  await verifySigned(verify, commitBytes, bytes, `commit ${commit} from ${url}`, false);
  if (!bytes) return commitBytes;
  const dest = `${store.path}/objects/${commit.slice(0, 2)}/${commit.slice(2)}.commitmeta`;
  const tmp = store.tmpPath('commitmeta');
  writeFileSync(tmp, bytes, { mode: 0o644 });
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(tmp, dest);
  return commitBytes;
}

/**
 * Wait for every transfer, then throw the first failure: nothing is still writing when a pull
 * fails, and everything that could be fetched is in the store for the next attempt.
 */
async function settleAll(ps: Promise<void>[]): Promise<void> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function fetchOpts(opts: PullOptions): FetchOptions {
  return { timeout: opts.timeout ?? DEFAULT_TIMEOUT_S, retries: DEFAULT_RETRIES, maxBytes: SMALL_FILE_LIMIT };
}

function mismatch(url: string, type: string, csum: Checksum): LayerError {
  return new LayerError('LAYER_REPO_CHECKSUM', `${type} object ${csum} from ${url} does not match its checksum`, { hint: 'the server holds a corrupt object; run ostree fsck on it' });
}

async function get(fetcher: Fetcher, url: string, o: FetchOptions, what: string, optional: true): Promise<Uint8Array | undefined>;
async function get(fetcher: Fetcher, url: string, o: FetchOptions, what: string, optional?: false): Promise<Uint8Array>;
async function get(fetcher: Fetcher, url: string, o: FetchOptions, what: string, optional = false): Promise<Uint8Array | undefined> {
  try {
    return await fetcher.bytes(url, o);
  } catch (err) {
    if (!(err instanceof FetchFailure)) throw err;
    const notFound = err.kind === 'status' && /HTTP 404/.test(err.reason) || (err.kind === 'local' && /ENOENT|no such file/i.test(err.reason));
    if (optional && notFound) return undefined;
    throw fetchError(err, what);
  }
}

/** A transfer's failure as the pull reports it (anything else passes through). */
function fetchError(err: unknown, what: string): unknown {
  if (!(err instanceof FetchFailure)) return err;
  return new LayerError('LAYER_REPO_UNREACHABLE', `fetching ${what}: ${err.message}`, { cause: err });
}

/**
 * The content size a `.filez` header declares: its first field, a big-endian u64 at offset 8
 * (formats.md §2.4.3); checked again when the object is decoded. Unreadable: 0 (decoding fails).
 */
function declaredSize(b: Uint8Array): number {
  if (b.length < 16) return 0;
  return Number(Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64BE(8));
}

/**
 * A base from an archive repo over HTTP: fetch() pulls the ref's newest commit into the store
 * (only missing objects) and checks it has the layout a deployment needs. `refspec` is
 * OSTree's `REMOTE:REF` form; the remote itself is recorded in the store's config (addRemote).
 */
export function ostreeRemoteSource(remote: { name: string; url: string }, ref: string, opts: Omit<PullOptions, 'report'> = {}): BaseSource {
  return {
    kind: 'ostree-remote',
    refspec: `${remote.name}:${ref}`,
    async fetch({ store, report }) {
      const verify = remoteVerification(store, remote.name);
      const r = await pullFromRemote(store, remote.url, ref, { ...opts, report, ...(verify ? { verify } : {}) });
      checkBaseLayout(store, r.commit, `${remote.url} ${ref}: commit ${r.commit}`);
      return r.commit;
    },
  };
}

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Record an OSTree remote in the store's `config`, as `ostree remote add` does: `[remote "NAME"]`
 * with `url=`, `gpg-verify=false` unless `options` say otherwise (importRemoteTrust's), and
 * `options` (replacing an earlier remote of that name). The origin's `baserefspec=NAME:REF`
 * then names it, as in OSTree. Temp file + rename.
 */
export function addRemote(store: Store, name: string, url: string, options: Readonly<Record<string, string>> = {}): void {
  if (!REMOTE_NAME.test(name)) throw new LayerError('LAYER_USAGE', `invalid remote name '${name}'`, { hint: 'letters, digits, . _ -' });
  if (!/^(https?|file):\/\/\S+$/.test(url)) throw new LayerError('LAYER_USAGE', `remote URL '${url}' is not an http(s):// or file:// URL`);
  const path = `${store.path}/config`;
  const text = readFileSync(path, 'utf8');
  const kept = dropSection(text, `remote "${name}"`);
  const lines = Object.entries({ 'gpg-verify': 'false', ...options }).map(([k, v]) => `${k}=${v}\n`).join('');
  const out = `${kept.replace(/\n*$/, '\n')}\n[remote "${name}"]\nurl=${url}\n${lines}`;
  const tmp = store.tmpPath('config');
  writeFileSync(tmp, out, { mode: 0o644 });
  renameSync(tmp, path);
}

/** The URL of remote `name` in the store's config, or undefined. */
export function remoteUrl(store: Store, name: string): string | undefined {
  if (!REMOTE_NAME.test(name)) return undefined;
  const url = remoteOptions(store, name).get('url');
  return url === undefined || url === '' ? undefined : url;
}

function dropSection(text: string, section: string): string {
  const out: string[] = [];
  let skip = false;
  for (const line of text.split('\n')) {
    const h = /^\s*\[(.*)\]\s*$/.exec(line);
    if (h) skip = h[1] === section;
    if (!skip) out.push(line);
  }
  return out.join('\n');
}

/** `NAME:REF` where NAME is a remote of the store's config: the remote and the ref; else undefined. */
export function remoteOf(store: Store, spec: string): { remote: { name: string; url: string }; ref: string } | undefined {
  const i = spec.indexOf(':');
  if (i <= 0) return undefined;
  const name = spec.slice(0, i);
  const url = remoteUrl(store, name);
  return url ? { remote: { name, url }, ref: spec.slice(i + 1) } : undefined;
}
