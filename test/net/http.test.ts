/**
 * The shared HTTP client against hostile servers on 127.0.0.1 (test/support/http-server.ts):
 * every transfer stops at its byte cap, reads with backpressure, gives up on a trickle and at
 * its deadline, and spends a bounded time retrying a server that answers errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fetcher, FetchFailure, type FetcherOptions, LARGE_FILE_LIMIT, RateWatch, SMALL_FILE_LIMIT, deadlineMs, type FetchOptions } from '../../src/net/index.js';
import { FaultServer } from '../support/http-server.js';

let root: string;
let server: FaultServer;
const BODY = Buffer.from('x'.repeat(3000));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'layer-net-'));
  writeFileSync(join(root, 'file'), BODY);
  server = await new FaultServer(root).start();
});
afterAll(() => server.stop());
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
  server.sent.clear();
});

const opts = <T extends Partial<FetchOptions>>(o: T = {} as T): FetchOptions & T => ({ timeout: 5, retries: 0, ...o });

async function failure(p: Promise<unknown>): Promise<FetchFailure> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FetchFailure);
  return e as FetchFailure;
}

/** Heap after a full GC when the test runs with --expose-gc, else as it is. */
function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

// Every case runs against both clients: undici (the default) and the lean HTTP/1.1 client
// (net/http1.ts, `http1Connections`) that OSTree pulls use.
describe.each([
  ['undici', {}],
  ['http1', { http1Connections: 4 }],
] as [string, FetcherOptions][])('%s', (_name, client) => {
  const mk = (o: FetcherOptions = {}) => new Fetcher({ ...client, ...o });

  describe('byte caps', () => {
    it('an endless body stops at maxBytes (+0): the sink never sees more, the server is cut off', async () => {
      server.fault('/file', { kind: 'endless' });
      const f = mk();
      let got = 0;
      const before = heap();
      const e = await failure(f.stream(`${server.url}/file`, opts({ maxBytes: 6144, maxBytesWhat: 'the size primary.xml declares', retries: 3 }), {
        reset: () => void (got = 0),
        chunk: (b) => void (got += b.length),
      }));
      await f.close();
      expect(e.kind).toBe('too-large');
      expect(e.permanent).toBe(true);
      expect(e.message).toBe(`${server.url}/file: reply longer than 6144 bytes (the size primary.xml declares); stopped reading`);
      expect(got).toBeLessThanOrEqual(6144);
      expect(server.count('/file')).toBe(1); // not retried: the same mirror would send the same
      // What the server managed to push before the socket closed: socket buffers, not the stream.
      expect((server.sent.get('/file') ?? 0)).toBeLessThan(32 << 20);
      expect(heap() - before).toBeLessThan(32 << 20);
    });

    it('bytes() caps files of undeclared size at SMALL_FILE_LIMIT (no RangeError, no 6 GB)', async () => {
      server.fault('/file', { kind: 'endless' });
      const f = mk();
      const t0 = Date.now();
      const e = await failure(f.bytes(`${server.url}/file`, opts()));
      await f.close();
      expect(SMALL_FILE_LIMIT).toBe(1 << 20);
      expect(e.kind).toBe('too-large');
      expect(e.reason).toBe("reply longer than 1048576 bytes (layer's 1 MiB limit for files of undeclared size); stopped reading");
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    it('a declared Content-Length above the cap fails before the body is read', async () => {
      const f = mk();
      const e = await failure(f.bytes(`${server.url}/file`, opts({ maxBytes: 100 })));
      await f.close();
      expect(e.kind).toBe('too-large');
      expect(e.reason).toMatch(/^reply longer than 100 bytes; stopped reading$/);
    });

    it('an endless error page is not read', async () => {
      server.fault('/file', { kind: 'status', code: 404, endless: true });
      const f = mk();
      const e = await failure(f.bytes(`${server.url}/file`, opts()));
      await f.close();
      expect(e.reason).toBe('HTTP 404');
      expect(e.permanent).toBe(true);
    });

    it('local files are capped too (file:// and plain paths)', async () => {
      const f = mk();
      const e = await failure(f.bytes(`file://${root}/file`, opts({ maxBytes: 1000 })));
      expect(e.kind).toBe('too-large');
      expect(Buffer.from(await f.bytes(join(root, 'file'), opts()))).toEqual(BODY);
      await f.close();
    });
  });

  describe('backpressure', () => {
    it('a slow sink slows the reading: the server cannot run ahead of what was consumed', async () => {
      server.fault('/file', { kind: 'endless' });
      const f = mk();
      let got = 0;
      const t0 = Date.now();
      const stop = new Error('enough');
      const before = heap();
      // The sink takes 10 ms per chunk and gives up after a second: a sink's own error comes out
      // unchanged (not retried, not wrapped as a transfer failure).
      const e = await f
        .stream(`${server.url}/file`, opts({ maxBytes: 1 << 30, retries: 5 }), {
          reset: () => void (got = 0),
          chunk: async (b) => {
            got += b.length;
            await new Promise((r) => setTimeout(r, 10));
            if (Date.now() - t0 > 1000) throw stop;
          },
        })
        .catch((x: unknown) => x);
      await f.close();
      expect(e).toBe(stop);
      expect(server.count('/file')).toBe(1);
      // ~100 chunks consumed; without backpressure loopback delivers gigabytes in that second.
      expect(got).toBeLessThan(64 << 20);
      expect((server.sent.get('/file') ?? 0) - got).toBeLessThan(16 << 20);
      expect(heap() - before).toBeLessThan(32 << 20);
    });
  });

  describe('speed and time', () => {
    it('minrate: a trickle is abandoned after one timeout window, and not retried', async () => {
      server.fault('/file', { kind: 'trickle', intervalMs: 100 });
      const f = mk();
      const t0 = Date.now();
      const e = await failure(f.bytes(`${server.url}/file`, opts({ timeout: 1, minrate: 1000, retries: 10 })));
      const ms = Date.now() - t0;
      await f.close();
      expect(e.kind).toBe('too-slow');
      expect(e.reason).toMatch(/^too slow: \d+ bytes in 1\.\d s, below minrate 1000 B\/s$/);
      expect(server.count('/file')).toBe(1);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(2500);
    });

    it('minrate=0 turns the check off (the trickle then completes)', async () => {
      server.fault('/file', { kind: 'trickle', intervalMs: 5, bytes: 100 });
      const f = mk();
      const b = await f.bytes(`${server.url}/file`, opts({ timeout: 1, minrate: 0 }));
      await f.close();
      expect(Buffer.from(b)).toEqual(BODY);
    });

    it('the deadline ends a transfer paced just above minrate', async () => {
      server.fault('/file', { kind: 'trickle', intervalMs: 100, bytes: 300, endless: true });
      const f = mk();
      const t0 = Date.now();
      const e = await failure(f.bytes(`${server.url}/file`, opts({ timeout: 1, minrate: 1000, deadline: 2, retries: 3 })));
      const ms = Date.now() - t0;
      await f.close();
      expect(e.kind).toBe('deadline');
      expect(e.reason).toBe('not complete within the 2.0 s deadline for this file');
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(3500);
    });

    it('a deadline past what a timer can hold (4 GiB at 1000 B/s) does not fire at once', async () => {
      expect(deadlineMs({ timeout: 30, minrate: 1000, maxBytes: LARGE_FILE_LIMIT })).toBeGreaterThan(2 ** 31);
      const f = mk();
      let got = 0;
      await f.stream(`${server.url}/file`, opts({ maxBytes: LARGE_FILE_LIMIT, minrate: 1000 }), {
        reset: () => void (got = 0),
        chunk: async (b) => {
          got += b.length;
          await new Promise((r) => setTimeout(r, 20)); // past a timer that overflowed to 1 ms
        },
      });
      await f.close();
      expect(got).toBe(BODY.length);
    });

    it('the derived deadline is the cap at minrate plus two timeouts', () => {
      expect(deadlineMs({ timeout: 30, minrate: 1000, maxBytes: SMALL_FILE_LIMIT })).toBe(Math.ceil((60 + 1048.576) * 1000));
      expect(deadlineMs({ timeout: 30, minrate: 0, maxBytes: 1 })).toBeUndefined();
      expect(deadlineMs({ timeout: 30, minrate: 0, maxBytes: 1, deadline: 5 })).toBe(5000);
    });

    it('RateWatch: silence is left to the idle timeout; a slow window fails; a fast one resets', () => {
      let now = 0;
      const w = new RateWatch(1000, 1000, () => now);
      now = 1500;
      expect(w.check()).toBeUndefined(); // nothing received: the idle timeout's case
      w.tick(5000);
      now = 2000;
      expect(w.check()).toBeUndefined(); // 5000 bytes in 2 s: fast enough, new window
      w.tick(999);
      now = 3000;
      expect(w.check()).toBe('too slow: 999 bytes in 1.0 s, below minrate 1000 B/s');
    });
  });

  describe('retries', () => {
    it('a server answering 503 at once: retried within the 0.5 s budget, then given up (dnf defaults)', async () => {
      server.fault('/file', { kind: 'status', code: 503 });
      const f = mk(); // default backoff 50 ms, doubling
      const t0 = Date.now();
      const e = await failure(f.bytes(`${server.url}/file`, opts({ retries: 10 })));
      const ms = Date.now() - t0;
      await f.close();
      expect(e.reason).toBe('HTTP 503 (gave up after 4 attempts: retry budget spent)');
      expect(server.count('/file')).toBe(4);
      expect(ms).toBeGreaterThanOrEqual(340);
      expect(ms).toBeLessThan(900);
    });

    it('retries=N caps the count below the budget; 404 is never retried', async () => {
      server.fault('/file', { kind: 'status', code: 500 });
      const f = mk({ backoffMs: 5 });
      expect((await failure(f.bytes(`${server.url}/file`, opts({ retries: 4 })))).reason).toBe('HTTP 500');
      expect(server.count('/file')).toBe(5);
      server.clearFaults();
      server.requests.length = 0;
      server.fault('/file', { kind: 'status', code: 404 });
      expect((await failure(f.bytes(`${server.url}/file`, opts({ retries: 4 })))).permanent).toBe(true);
      expect(server.count('/file')).toBe(1);
      await f.close();
    });

    it('a refused connection costs the budget, not retries × backoff', async () => {
      const f = mk();
      const t0 = Date.now();
      const e = await failure(f.bytes('http://127.0.0.1:1/x', opts({ retries: 10 })));
      await f.close();
      expect(e.reason).toMatch(/ECONNREFUSED/);
      expect(Date.now() - t0).toBeLessThan(900);
    });
  });
});
