/**
 * Getting bytes from a URL: http(s) through undici (keep-alive Agent per proxy/TLS setting,
 * redirects followed), `file://` URLs and plain paths straight from disk. One global p-limit
 * bounds concurrent transfers. Transient failures (5xx, 429, resets, timeouts, truncated
 * bodies) are retried with exponential backoff; 404/403/410 are final for that URL so the
 * caller moves on to the next mirror.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';

// undici costs ~75 ms to load: imported only when an http(s) transfer really happens, so a
// dry run on cached (or file://) metadata never pays for it.
type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;
const loadUndici = (): Promise<Undici> => (undici ??= import('undici'));

/** Why one URL failed; `permanent` failures are not retried on the same URL. */
export class FetchFailure extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly permanent: boolean,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'FetchFailure';
  }
}

export interface FetchOptions {
  /** Seconds without headers or body progress before the attempt is abandoned. */
  timeout: number;
  /** Extra attempts after the first on transient failures. */
  retries: number;
  proxy?: string;
  sslverify?: boolean;
  /** Called with each chunk's length (progress). */
  onBytes?: (n: number) => void;
}

export interface FetcherOptions {
  /** Concurrent transfers across all repos (default 4). */
  concurrency?: number;
  /** First backoff delay in ms (default 250), doubled per retry, capped at 8 s. */
  backoffMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True for URLs read from the local filesystem. */
export function isLocal(url: string): boolean {
  return url.startsWith('file:') || url.startsWith('/');
}

export function localPath(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}

/** Join a repo root and a relative location (`repodata/x.xml.gz`). */
export function joinUrl(base: string, rel: string): string {
  return base.endsWith('/') ? base + rel : `${base}/${rel}`;
}

export class Fetcher {
  private readonly limit: LimitFunction;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly backoffMs: number;

  constructor(opts: FetcherOptions = {}) {
    this.limit = pLimit(opts.concurrency ?? 4);
    this.backoffMs = opts.backoffMs ?? 250;
  }

  private dispatcher(u: Undici, opts: FetchOptions): Dispatcher {
    const { Agent, ProxyAgent, interceptors } = u;
    const key = `${opts.proxy ?? ''}|${opts.sslverify === false ? 'insecure' : 'verify'}`;
    let d = this.dispatchers.get(key);
    if (d === undefined) {
      const connect = { rejectUnauthorized: opts.sslverify !== false };
      const base: Dispatcher =
        opts.proxy !== undefined
          ? new ProxyAgent({ uri: opts.proxy, connect, requestTls: connect })
          : new Agent({ connect, keepAliveTimeout: 10_000, connections: 8 });
      d = base.compose(interceptors.redirect({ maxRedirections: 5 }));
      this.dispatchers.set(key, d);
    }
    return d;
  }

  /**
   * Stream `url` into `sink` (called per chunk). On a retried attempt `reset` is called first so
   * the sink can discard partial data. Throws FetchFailure after the last attempt.
   */
  async stream(url: string, opts: FetchOptions, sink: { reset(): void; chunk(b: Uint8Array): void }): Promise<void> {
    return this.limit(async () => {
      let attempt = 0;
      for (;;) {
        try {
          if (attempt > 0) sink.reset();
          await this.once(url, opts, sink.chunk);
          return;
        } catch (e) {
          const f = e instanceof FetchFailure ? e : new FetchFailure(url, describe(e), false);
          if (f.permanent || attempt >= opts.retries) throw f;
          attempt++;
          await sleep(Math.min(this.backoffMs * 2 ** (attempt - 1), 8000));
        }
      }
    });
  }

  /** Whole body in memory, for small files (repomd.xml, mirrorlists, metalinks). */
  async bytes(url: string, opts: FetchOptions): Promise<Uint8Array> {
    let parts: Uint8Array[] = [];
    await this.stream(url, opts, {
      reset: () => (parts = []),
      chunk: (b) => parts.push(b),
    });
    return Buffer.concat(parts);
  }

  private async once(url: string, opts: FetchOptions, chunk: (b: Uint8Array) => void): Promise<void> {
    if (isLocal(url)) {
      try {
        for await (const b of createReadStream(localPath(url))) {
          chunk(b as Buffer);
          opts.onBytes?.((b as Buffer).length);
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Node's message repeats the path ("..., open '/x'"); the URL is reported beside it.
        const reason = describe(e).replace(/, \w+ '.*'$/, '');
        throw new FetchFailure(url, reason, code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR');
      }
      return;
    }
    if (!/^https?:\/\//.test(url)) throw new FetchFailure(url, 'unsupported URL scheme', true);
    const ms = Math.max(1, opts.timeout * 1000);
    const u = await loadUndici();
    const res = await u.request(url, {
      dispatcher: this.dispatcher(u, opts),
      headersTimeout: ms,
      bodyTimeout: ms,
    }).catch((e: unknown) => {
      throw new FetchFailure(url, describe(e), false);
    });
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      const permanent = res.statusCode < 500 && res.statusCode !== 429 && res.statusCode !== 408;
      throw new FetchFailure(url, `HTTP ${res.statusCode}`, permanent);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    let got = 0;
    try {
      for await (const b of res.body) {
        got += (b as Buffer).length;
        chunk(b as Buffer);
        opts.onBytes?.((b as Buffer).length);
      }
    } catch (e) {
      throw new FetchFailure(url, `transfer interrupted after ${got} bytes: ${describe(e)}`, false);
    }
    if (Number.isFinite(declared) && got !== declared) {
      throw new FetchFailure(url, `truncated body: ${got} of ${declared} bytes`, false);
    }
  }

  async close(): Promise<void> {
    const ds = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(ds.map((d) => d.close().catch(() => {})));
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return code !== undefined && !e.message.startsWith(code) ? `${code}: ${e.message}${cause}` : `${e.message}${cause}`;
  }
  return String(e);
}
