/**
 * What bounds one transfer, so a hostile or broken server can cost a bounded amount of memory,
 * disk and time, never more:
 *
 * - bytes: every transfer has a byte cap. Files whose size the metadata declares (data files,
 *   packages) are capped at exactly that size; files nothing declares (repomd.xml, `.asc`
 *   signatures, keys, mirrorlists, metalinks) at SMALL_FILE_LIMIT. Reading stops at the cap.
 * - speed: dnf's `minrate` over dnf's `timeout` window (curl's LOW_SPEED_LIMIT / LOW_SPEED_TIME,
 *   as librepo sets them): a transfer averaging at most `minrate` B/s over a whole window is
 *   abandoned. `timeout` also bounds connecting + response headers and any silence in the body.
 * - total time: a deadline per file, the time its cap takes at `minrate` plus two `timeout`s
 *   (connect and the last window), so a server pacing itself just above `minrate` still ends.
 * - retries: see RETRY_BUDGET_MS and http.ts.
 */

/**
 * Cap for files without a declared size. Real ones are kilobytes (Fedora's metalink ~20 kB, a
 * repomd.xml with a dozen records ~10 kB, a key bundle ~100 kB); 1 MiB leaves a wide margin and
 * keeps an endless reply from exhausting memory (it was held whole: 6 GB, then a RangeError).
 */
export const SMALL_FILE_LIMIT = 1 << 20;

/**
 * Cap for a data file or package whose metadata omits its size (createrepo_c always writes
 * it; very old repos may not): 4 GiB, above the largest packages distributions ship.
 */
export const LARGE_FILE_LIMIT = 4 * 2 ** 30;

/** dnf's defaults (dnf.conf(5)): `timeout` 30 s, `minrate` 1000 B/s, `retries` 10. */
export const DEFAULT_TIMEOUT_S = 30;
export const DEFAULT_MINRATE = 1000;
export const DEFAULT_RETRIES = 10;

/**
 * Most time spent waiting between retries of one URL (first backoff 50 ms, doubling): at the
 * defaults that allows 3 retries (50 + 100 + 200 ms), so a mirror answering 503 at once costs 4
 * requests and ~0.35 s before the next mirror, as with dnf 4.14 (4 requests, ~0.4 s here).
 * Honouring dnf's `retries=10` with backoff instead cost 48 s per dead repo.
 */
export const RETRY_BUDGET_MS = 500;

/** First retry delay; doubled per retry, capped at MAX_BACKOFF_MS. */
export const BACKOFF_MS = 50;
export const MAX_BACKOFF_MS = 8000;

export interface TransferLimits {
  /** Seconds for connect + headers, for body silence, and the minrate window (dnf `timeout`). */
  timeout: number;
  /** B/s averaged over a `timeout` window below which the transfer is abandoned; 0 = off. */
  minrate: number;
  /** Most bytes accepted; reading stops there. */
  maxBytes: number;
  /** Overrides the derived deadline (seconds for the whole file, every attempt included). */
  deadline?: number;
}

/** The whole-file deadline in ms (undefined: none, when minrate is off and none was set). */
export function deadlineMs(l: TransferLimits): number | undefined {
  if (l.deadline !== undefined) return Math.max(1, l.deadline * 1000);
  if (!(l.minrate > 0)) return undefined;
  return Math.ceil((2 * l.timeout + l.maxBytes / l.minrate) * 1000);
}

/**
 * The minrate check: bytes are counted per window of `timeout` seconds; a window that ends with
 * at most `minrate × window` bytes (but some: silence is the idle timeout's) fails the transfer. Callers tick on every chunk and call
 * `check` from a timer too, since a stalled peer sends no chunk to tick on.
 */
export class RateWatch {
  private windowStart: number;
  private bytes = 0;

  constructor(
    private readonly minrate: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  tick(n: number): void {
    this.bytes += n;
  }

  /** Undefined while the rate holds, else why it does not. */
  check(): string | undefined {
    if (!(this.minrate > 0)) return undefined;
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return undefined;
    // A silent window is the idle timeout's case (a peer that stopped, retried like a reset),
    // not this one's: here the peer is sending, only too slowly to ever finish.
    if (this.bytes === 0) return undefined;
    const rate = (this.bytes * 1000) / elapsed;
    if (rate <= this.minrate) {
      return `too slow: ${this.bytes} bytes in ${(elapsed / 1000).toFixed(1)} s, below minrate ${this.minrate} B/s`;
    }
    this.windowStart = t;
    this.bytes = 0;
    return undefined;
  }

  /** How often `check` should run: often enough to end a window promptly. */
  get pollMs(): number {
    return Math.max(50, Math.min(1000, this.windowMs / 4));
  }
}

/** `1.2 MiB`-style sizes for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
