/**
 * Getting bytes from a URL: http(s) through undici (keep-alive Agent per proxy/TLS/timeout
 * setting, redirects followed), `file://` URLs and plain paths straight from disk. One p-limit
 * per Fetcher bounds concurrent transfers. Every transfer is bounded in bytes, speed and time
 * (limits.ts); the sink is awaited per chunk, so a slow consumer slows the reading
 * (backpressure) instead of queueing chunks in memory.
 *
 * Failures are FetchFailure values with a `kind`. Not retried on the same URL (the caller moves
 * on to the next mirror): 4xx other than 408/429, too large, too slow, past the deadline.
 * Retried with exponential backoff: 5xx, 408, 429, refused or reset connections, truncated
 * bodies, timeouts — at most `retries` times and within RETRY_BUDGET_MS of waiting per URL.
 *
 * Knows nothing of repos or packages: repos/, and later OSTree and OCI pullers, build on it.
 */
import { createReadStream } from 'node:fs';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';
import {
  BACKOFF_MS,
  DEFAULT_MINRATE,
  MAX_BACKOFF_MS,
  RETRY_BUDGET_MS,
  RateWatch,
  SMALL_FILE_LIMIT,
  deadlineMs,
  formatBytes,
  type TransferLimits,
} from './limits.js';
import { extraCa } from './ca.js';
import { Http1Pool } from './http1.js';
import { isLocal, localPath } from './url.js';

// undici costs ~75 ms to load: imported only when an http(s) transfer really happens, so a
// dry run on cached (or file://) metadata never pays for it.
type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;
const loadUndici = (): Promise<Undici> => (undici ??= import('undici'));

export type FailureKind =
  /** The server answered with an error status. */
  | 'status'
  /** Connecting, or the transfer, failed (refused, reset, truncated, silent past `timeout`). */
  | 'transport'
  /** More bytes than the limit. */
  | 'too-large'
  /** Below `minrate` for a whole window. */
  | 'too-slow'
  /** The file's total deadline passed. */
  | 'deadline'
  /** A local file could not be read, or the URL scheme is not supported. */
  | 'local';

/** Why one URL failed; `permanent` failures are not retried on the same URL. */
export class FetchFailure extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly permanent: boolean,
    readonly kind: FailureKind = 'transport',
  ) {
    super(`${url}: ${reason}`);
    this.name = 'FetchFailure';
  }
}

export interface FetchOptions {
  /** Seconds for connect + headers, body silence, and the minrate window (dnf `timeout`). */
  timeout: number;
  /** Extra attempts after the first on transient failures (bounded further by the retry budget). */
  retries: number;
  /** B/s over a `timeout` window below which a transfer is abandoned (dnf `minrate`; default 1000; 0 = off). */
  minrate?: number;
  /**
   * Most bytes accepted. `bytes()` defaults to SMALL_FILE_LIMIT; `stream()` requires it, and
   * callers pass the size the metadata declares.
   */
  maxBytes?: number;
  /** What `maxBytes` is, for the message ("the size primary.xml declares"). */
  maxBytesWhat?: string;
  /** Seconds for the whole file, overriding the derived deadline (limits.ts). */
  deadline?: number;
  proxy?: string;
  sslverify?: boolean;
  /** Called with each chunk's length (progress). */
  onBytes?: (n: number) => void;
}

export interface FetcherOptions {
  /** Concurrent transfers across all users of this fetcher (default 4). */
  concurrency?: number;
  /** First backoff delay in ms (default BACKOFF_MS, 50), doubled per retry, capped at 8 s. */
  backoffMs?: number;
  /** Most ms spent waiting between retries of one URL (default RETRY_BUDGET_MS). */
  retryBudgetMs?: number;
  /**
   * Plain `http://` without a proxy through the lean client (http1.ts) with this many
   * connections per server, instead of undici: for many small files from one server (an
   * OSTree pull), where undici's per-request CPU cost dominates. Default: off (undici).
   */
  http1Connections?: number;
}

/** Receives a transfer; awaited per chunk. `reset` discards partial data before a retry. */
export interface Sink {
  reset(): void | Promise<void>;
  chunk(b: Uint8Array): void | Promise<void>;
}

/** A sink's own failure (a full disk, a parse error): passed through untouched, never retried. */
class SinkError {
  constructor(readonly error: unknown) {}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Fetcher {
  private readonly limit: LimitFunction;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly backoffMs: number;
  private readonly retryBudgetMs: number;
  private readonly http1: Http1Pool | undefined;

  constructor(opts: FetcherOptions = {}) {
    this.limit = pLimit(opts.concurrency ?? 4);
    this.backoffMs = opts.backoffMs ?? BACKOFF_MS;
    this.retryBudgetMs = opts.retryBudgetMs ?? RETRY_BUDGET_MS;
    if (opts.http1Connections !== undefined) this.http1 = new Http1Pool(Math.max(1, opts.http1Connections), KEEP_ALIVE_MS);
  }

  private dispatcher(u: Undici, opts: FetchOptions, ca: string[] | undefined): Dispatcher {
    const { Agent, ProxyAgent, interceptors } = u;
    const ms = Math.max(1, opts.timeout * 1000);
    const key = `${opts.proxy ?? ''}|${opts.sslverify === false ? 'insecure' : 'verify'}|${ms}`;
    let d = this.dispatchers.get(key);
    if (d === undefined) {
      const connect = { rejectUnauthorized: opts.sslverify !== false, timeout: ms, ...(ca ? { ca } : {}) };
      const base: Dispatcher =
        opts.proxy !== undefined
          ? new ProxyAgent({ uri: opts.proxy, connect, requestTls: connect })
          : new Agent({ connect, keepAliveTimeout: KEEP_ALIVE_MS, connections: 8 });
      d = base.compose(interceptors.redirect({ maxRedirections: 5 }));
      this.dispatchers.set(key, d);
    }
    return d;
  }

  /**
   * Stream `url` into `sink`, at most `opts.maxBytes` bytes. Throws FetchFailure after the last
   * attempt; an error thrown by the sink is rethrown as it is.
   */
  async stream(url: string, opts: FetchOptions & { maxBytes: number }, sink: Sink): Promise<void> {
    return this.limit(async () => {
      const limits: TransferLimits = { timeout: opts.timeout, minrate: opts.minrate ?? DEFAULT_MINRATE, maxBytes: opts.maxBytes };
      if (opts.deadline !== undefined) limits.deadline = opts.deadline;
      const dl = deadlineMs(limits);
      const deadline: Deadline | undefined = dl === undefined ? undefined : { at: Date.now() + dl, ms: dl };
      let waited = 0;
      for (let attempt = 0; ; attempt++) {
        try {
          if (attempt > 0) await sink.reset();
          await this.once(url, opts, limits, sink, deadline);
          return;
        } catch (e) {
          if (e instanceof SinkError) throw e.error;
          const f = e instanceof FetchFailure ? e : new FetchFailure(url, describe(e), false);
          if (f.permanent || attempt >= opts.retries) throw f;
          const wait = Math.min(this.backoffMs * 2 ** attempt, MAX_BACKOFF_MS);
          const nearDeadline = deadline !== undefined && Date.now() + wait >= deadline.at;
          const spent = waited + wait > this.retryBudgetMs ? 'retry budget spent' : nearDeadline ? 'deadline near' : undefined;
          if (spent !== undefined) {
            throw new FetchFailure(url, `${f.reason} (gave up after ${attempt + 1} attempts: ${spent})`, false, f.kind);
          }
          waited += wait;
          await sleep(wait);
        }
      }
    });
  }

  /** Whole body in memory, for small files (repomd.xml, signatures, keys, mirrorlists, metalinks). */
  async bytes(url: string, opts: FetchOptions): Promise<Uint8Array> {
    let parts: Uint8Array[] = [];
    const maxBytes = opts.maxBytes ?? SMALL_FILE_LIMIT;
    const maxBytesWhat = opts.maxBytesWhat ?? (opts.maxBytes === undefined ? `layer's ${formatBytes(SMALL_FILE_LIMIT)} limit for files of undeclared size` : undefined);
    await this.stream(url, { ...opts, maxBytes, ...(maxBytesWhat !== undefined ? { maxBytesWhat } : {}) }, {
      reset: () => void (parts = []),
      chunk: (b) => void parts.push(b),
    });
    // One part (a small reply): no copy.
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
  }

  private async once(
    url: string,
    opts: FetchOptions & { maxBytes: number },
    limits: TransferLimits,
    sink: Sink,
    deadline: Deadline | undefined,
  ): Promise<void> {
    const what = opts.maxBytesWhat ? ` (${opts.maxBytesWhat})` : '';
    const tooLarge = () => new FetchFailure(url, `reply longer than ${opts.maxBytes} bytes${what}; stopped reading`, true, 'too-large');
    if (isLocal(url)) return this.local(url, opts.maxBytes, (b) => deliver(sink, opts, b), tooLarge);
    if (!/^https?:\/\//.test(url)) throw new FetchFailure(url, 'unsupported URL scheme', true, 'local');
    if (deadline !== undefined && Date.now() >= deadline.at) throw pastDeadline(url, deadline.ms);
    const t: Transfer = { url, opts, limits, sink, deadline, tooLarge };
    if (this.http1 && opts.proxy === undefined && url.startsWith('http://')) return this.lean(this.http1, t, 0);
    return this.viaUndici(t);
  }

  private async viaUndici(t: Transfer): Promise<void> {
    const { url, opts, limits, deadline, tooLarge } = t;
    const guard = new Guard();
    if (deadline !== undefined) guard.after(deadline.at - Date.now(), () => pastDeadline(url, deadline.ms));
    try {
      const ms = Math.max(1, opts.timeout * 1000);
      const [u, ca] = await Promise.all([loadUndici(), extraCa()]);
      const res = await u
        .request(url, { dispatcher: this.dispatcher(u, opts, ca), headersTimeout: ms, bodyTimeout: ms, signal: guard.signal })
        .catch((e: unknown) => {
          throw guard.why ?? new FetchFailure(url, describe(e), false);
        });
      if (res.statusCode !== 200) {
        // Not drained: an error page could be endless too.
        discard(res.body);
        throw statusFailure(url, res.statusCode);
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        discard(res.body);
        throw tooLarge();
      }
      const watch = new RateWatch(limits.minrate, limits.timeout * 1000);
      guard.every(watch.pollMs, () => {
        const slow = watch.check();
        return slow === undefined ? undefined : new FetchFailure(url, slow, true, 'too-slow');
      });
      const toSink = (b: Uint8Array) => deliver(t.sink, opts, b);
      const got = await readBody(res.body, { url, maxBytes: opts.maxBytes, watch, guard, deliver: toSink, tooLarge });
      if (Number.isFinite(declared) && got !== declared) {
        throw new FetchFailure(url, `truncated body: ${got} of ${declared} bytes`, false);
      }
    } finally {
      guard.dispose();
    }
  }

  /**
   * One attempt through the lean client: no timers or abort signals of its own (the socket's
   * idle timeout covers silence; the deadline and minrate are checked on every received
   * buffer), and the sink is called directly, awaited only when it returns a promise.
   * Redirects are followed here (at most MAX_REDIRECTS; https targets go through undici).
   */
  private async lean(pool: Http1Pool, t: Transfer, hops: number): Promise<void> {
    const { url, opts, limits, deadline, tooLarge } = t;
    const watch = new RateWatch(limits.minrate, limits.timeout * 1000);
    const idleMs = Math.max(1, opts.timeout * 1000);
    let status = 0;
    let location: string | undefined;
    let got = 0;
    try {
      await pool.get({ url: new URL(url), idleMs: deadline ? Math.max(1, Math.min(idleMs, deadline.at - Date.now())) : idleMs }, {
        head: (code, headers) => {
          status = code;
          location = headers.get('location');
          if (code !== 200) return false; // not read: an error page could be endless too
          if (Number(headers.get('content-length') ?? 0) > opts.maxBytes) throw tooLarge();
          return true;
        },
        chunk: (b) => {
          if (got + b.length > opts.maxBytes) throw tooLarge();
          got += b.length;
          watch.tick(b.length);
          return deliver(t.sink, opts, b);
        },
        check: (silent) => {
          if (deadline !== undefined && Date.now() >= deadline.at) return pastDeadline(url, deadline.ms);
          if (silent) return undefined; // a stalled peer is the idle timeout's (retried), not minrate's
          const slow = watch.check();
          return slow === undefined ? undefined : new FetchFailure(url, slow, true, 'too-slow');
        },
      });
    } catch (e) {
      if (e instanceof SinkError || e instanceof FetchFailure) throw e;
      throw new FetchFailure(url, got > 0 ? `transfer interrupted after ${got} bytes: ${describe(e)}` : describe(e), false);
    }
    if (status === 200) return;
    if (status >= 300 && status < 400 && location !== undefined && hops < MAX_REDIRECTS) {
      const next = new URL(location, url).href;
      const moved = { ...t, url: next };
      return next.startsWith('http://') ? this.lean(pool, moved, hops + 1) : this.viaUndici(moved);
    }
    throw statusFailure(url, status);
  }

  private async local(
    url: string,
    maxBytes: number,
    deliver: (b: Uint8Array) => void | Promise<void>,
    tooLarge: () => FetchFailure,
  ): Promise<void> {
    let got = 0;
    try {
      for await (const chunk of createReadStream(localPath(url))) {
        const b = chunk as Buffer;
        if (got + b.length > maxBytes) throw tooLarge();
        got += b.length;
        await deliver(b);
      }
    } catch (e) {
      if (e instanceof SinkError || e instanceof FetchFailure) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      // Node's message repeats the path ("..., open '/x'"); the URL is reported beside it.
      const reason = describe(e).replace(/, \w+ '.*'$/, '');
      throw new FetchFailure(url, reason, code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR', 'local');
    }
  }

  async close(): Promise<void> {
    this.http1?.close();
    const ds = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(ds.map((d) => d.close().catch(() => {})));
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const KEEP_ALIVE_MS = 10_000;
const MAX_REDIRECTS = 5;

/** One attempt's inputs. */
interface Transfer {
  url: string;
  opts: FetchOptions & { maxBytes: number };
  limits: TransferLimits;
  sink: Sink;
  deadline: Deadline | undefined;
  tooLarge: () => FetchFailure;
}

/**
 * Hand a chunk to the sink, then count it: synchronously when the sink is synchronous (no
 * promise per chunk), else once its promise settles. A sink's error comes out as a SinkError.
 */
function deliver(sink: Sink, opts: FetchOptions, b: Uint8Array): void | Promise<void> {
  let r: void | Promise<void>;
  try {
    r = sink.chunk(b);
  } catch (e) {
    throw new SinkError(e);
  }
  if (r === undefined) {
    opts.onBytes?.(b.length);
    return;
  }
  return r.then(
    () => opts.onBytes?.(b.length),
    (e: unknown) => {
      throw new SinkError(e);
    },
  );
}

function statusFailure(url: string, status: number): FetchFailure {
  const permanent = status < 500 && status !== 429 && status !== 408;
  return new FetchFailure(url, `HTTP ${status}`, permanent, 'status');
}

interface Deadline {
  at: number;
  ms: number;
}

/**
 * Our own reasons to stop a transfer (deadline, minrate): the first one wins, aborts the
 * request, and replaces the error undici then raises.
 */
class Guard {
  private readonly ac = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  why: FetchFailure | undefined;

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  stop(f: FetchFailure): void {
    this.why ??= f;
    this.ac.abort();
  }

  after(ms: number, reason: () => FetchFailure): void {
    // Node fires a timer longer than 2^31-1 ms (24.8 days) at once; a deadline that far away
    // (a 4 GiB file at 1000 B/s) bounds nothing a person would wait for, so none is set.
    if (ms > MAX_TIMER_MS) return;
    this.timers.push(setTimeout(() => this.stop(reason()), Math.max(0, ms)));
  }

  every(ms: number, check: () => FetchFailure | undefined): void {
    this.timers.push(
      setInterval(() => {
        const f = check();
        if (f !== undefined) this.stop(f);
      }, ms),
    );
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}

/** Read `body` into `deliver` up to `maxBytes` (+0), one awaited chunk at a time; returns the byte count. */
interface BodyReader {
  url: string;
  maxBytes: number;
  watch: RateWatch;
  guard: Guard;
  deliver: (b: Uint8Array) => void | Promise<void>;
  tooLarge: () => FetchFailure;
}

async function readBody(body: AsyncIterable<unknown>, o: BodyReader): Promise<number> {
  let got = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (got + b.length > o.maxBytes) {
        o.guard.stop(o.tooLarge());
        break; // leaving the loop destroys the body: nothing more is read
      }
      got += b.length;
      o.watch.tick(b.length);
      await o.deliver(b);
      if (o.guard.why !== undefined) break;
    }
  } catch (e) {
    if (e instanceof SinkError) throw e;
    throw o.guard.why ?? new FetchFailure(o.url, `transfer interrupted after ${got} bytes: ${describe(e)}`, false);
  }
  if (o.guard.why !== undefined) throw o.guard.why;
  return got;
}

/** Close a reply without reading it (undici reports the abort as an error event: expected here). */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

function pastDeadline(url: string, ms: number): FetchFailure {
  return new FetchFailure(url, `not complete within the ${(ms / 1000).toFixed(1)} s deadline for this file`, true, 'deadline');
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return code !== undefined && !e.message.startsWith(code) ? `${code}: ${e.message}${cause}` : `${e.message}${cause}`;
  }
  return String(e);
}
