/**
 * net/: the HTTP client every puller shares (rpm-md repos today; OSTree and OCI later). Below
 * every other stage: it imports nothing from them.
 *
 * - `Fetcher`: `stream(url, opts, sink)` (awaited sink: backpressure; `maxBytes` required) and
 *   `bytes(url, opts)` (small files, capped at SMALL_FILE_LIMIT unless told otherwise); bounded
 *   concurrency, retries with backoff inside a budget, minrate/timeout/deadline per transfer.
 * - `FetchFailure`: why one URL failed (`kind`, `permanent`); callers turn it into their
 *   LayerError after trying their mirrors.
 * - limits.ts: the documented bounds and dnf's defaults.
 */
export { Fetcher, FetchFailure, type FailureKind, type FetchOptions, type FetcherOptions, type Sink } from './http.js';
export {
  SMALL_FILE_LIMIT, LARGE_FILE_LIMIT, DEFAULT_MINRATE, DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, RETRY_BUDGET_MS, BACKOFF_MS, MAX_BACKOFF_MS,
  RateWatch, deadlineMs, formatBytes, type TransferLimits,
} from './limits.js';
export { isLocal, localPath, joinUrl } from './url.js';
