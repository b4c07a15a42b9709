/**
 * The lean HTTP/1.1 client (net/http1.ts, through Fetcher's `http1Connections`) against a raw
 * TCP server on 127.0.0.1 that writes replies byte for byte: keep-alive reuse within the
 * connection cap, chunked bodies split anywhere, bodies read until close, interim replies,
 * redirects, a kept-alive connection the server closed meanwhile, early closes and oversized
 * headers. The behaviour shared with undici (caps, timeouts, retries) is in http.test.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fetcher, FetchFailure, type FetchOptions } from '../../src/net/index.js';

type Reply = (s: Socket) => void;

/** A server answering each request with `routes[path]` (else 404); counts requests and connections. */
class RawServer {
  private server: Server | undefined;
  routes = new Map<string, Reply>();
  requests: string[] = [];
  connections = 0;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((s) => {
      this.connections++;
      let buf = '';
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          const path = buf.slice(0, end).split(' ')[1] ?? '/';
          buf = buf.slice(end + 4);
          this.requests.push(path);
          const reply = this.routes.get(path) ?? ((x: Socket) => void x.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
          reply(s);
        }
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }
}

let srv: RawServer;
beforeAll(async () => {
  srv = await new RawServer().start();
});
afterAll(() => srv.stop());

const opts = (o: Partial<FetchOptions> = {}): FetchOptions => ({ timeout: 5, retries: 0, ...o });
const fixed = (body: string, extra = ''): Reply => (s) => void s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`);

/** Write `text` one byte per event-loop turn: every parser state sees a split. */
async function dribble(s: Socket, text: string): Promise<void> {
  for (const ch of text) {
    s.write(ch, 'latin1');
    await new Promise((r) => setImmediate(r));
  }
}

function reset(): void {
  srv.routes.clear();
  srv.requests.length = 0;
  srv.connections = 0;
}

describe('lean HTTP/1.1 client', () => {
  it('reuses kept-alive connections: 60 requests, 16 at a time, over at most 3 connections', async () => {
    reset();
    for (let i = 0; i < 60; i++) srv.routes.set(`/o${i}`, fixed(`object ${i}`));
    const f = new Fetcher({ concurrency: 16, http1Connections: 3 });
    const got = await Promise.all(Array.from({ length: 60 }, (_, i) => f.bytes(`${srv.url}/o${i}`, opts())));
    await f.close();
    expect(got.map((b) => Buffer.from(b).toString())).toEqual(Array.from({ length: 60 }, (_, i) => `object ${i}`));
    expect(srv.requests).toHaveLength(60);
    expect(srv.connections).toBeLessThanOrEqual(3);
    expect(srv.connections).toBeGreaterThanOrEqual(1);
  });

  it('chunked bodies with extensions and trailers, split at every byte', async () => {
    reset();
    srv.routes.set('/c', (s) => void dribble(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n'));
    srv.routes.set('/after', fixed('next'));
    const f = new Fetcher({ http1Connections: 1 });
    expect(Buffer.from(await f.bytes(`${srv.url}/c`, opts())).toString()).toBe('hello 0123456789');
    // The connection is reused after the trailers: the parser ended exactly at the reply's end.
    expect(Buffer.from(await f.bytes(`${srv.url}/after`, opts())).toString()).toBe('next');
    await f.close();
    expect(srv.connections).toBe(1);
  });

  it('a malformed chunk size, or a chunked body past maxBytes, fails the transfer at once', async () => {
    reset();
    srv.routes.set('/bad', (s) => void s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'));
    srv.routes.set('/huge', (s) => void s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n' + 'x'.repeat(4096)));
    const f = new Fetcher({ http1Connections: 1 });
    const t0 = Date.now();
    await expect(f.bytes(`${srv.url}/bad`, opts())).rejects.toThrow(/chunk size/);
    await expect(f.bytes(`${srv.url}/huge`, opts({ maxBytes: 1024 }))).rejects.toThrow(/longer than 1024 bytes/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await f.close();
  });

  it('interim 100 replies are skipped; an HTTP/1.0 body without a length is read until close', async () => {
    reset();
    srv.routes.set('/old', (s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil the end');
      s.end();
    });
    const f = new Fetcher({ http1Connections: 2 });
    expect(Buffer.from(await f.bytes(`${srv.url}/old`, opts())).toString()).toBe('until the end');
    await f.close();
  });

  it('follows redirects, relative and absolute, at most 5', async () => {
    reset();
    srv.routes.set('/a', (s) => void s.write('HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n'));
    srv.routes.set('/b', (s) => void s.write(`HTTP/1.1 301 Moved\r\nLocation: ${srv.url}/c\r\nContent-Length: 0\r\n\r\n`));
    srv.routes.set('/c', fixed('moved here'));
    srv.routes.set('/loop', (s) => void s.write('HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n'));
    const f = new Fetcher({ http1Connections: 2 });
    expect(Buffer.from(await f.bytes(`${srv.url}/a`, opts())).toString()).toBe('moved here');
    const e = await f.bytes(`${srv.url}/loop`, opts()).catch((x: unknown) => x);
    await f.close();
    expect(e).toBeInstanceOf(FetchFailure);
    expect((e as FetchFailure).reason).toBe('HTTP 302');
    expect(srv.requests.filter((p) => p === '/loop')).toHaveLength(6);
  });

  it('a kept-alive connection the server closed meanwhile is retried on a fresh one, not failed', async () => {
    reset();
    // Each reply claims keep-alive, then the server closes the connection once the client is idle.
    srv.routes.set('/k', (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => s.destroy(), 20);
    });
    const f = new Fetcher({ http1Connections: 1 });
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(await f.bytes(`${srv.url}/k`, opts())).toString()).toBe('ok');
      await new Promise((r) => setTimeout(r, 60));
    }
    await f.close();
    expect(srv.requests).toHaveLength(3);
    expect(srv.connections).toBe(3);
  });

  it('a body cut short of its Content-Length is a transport failure, retried', async () => {
    reset();
    srv.routes.set('/t', (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      s.end();
    });
    const f = new Fetcher({ http1Connections: 2, backoffMs: 1 });
    const e = await f.bytes(`${srv.url}/t`, opts({ retries: 2 })).catch((x: unknown) => x);
    await f.close();
    expect(e).toBeInstanceOf(FetchFailure);
    expect((e as FetchFailure).permanent).toBe(false);
    expect((e as FetchFailure).reason).toMatch(/^transfer interrupted after 3 bytes: UND_ERR_SOCKET: other side closed mid-reply/);
    expect(srv.requests).toHaveLength(3);
  });

  it('headers past 64 KiB are refused without buffering what follows', async () => {
    reset();
    srv.routes.set('/h', (s) => {
      s.write('HTTP/1.1 200 OK\r\n');
      const line = `X-Pad: ${'p'.repeat(1000)}\r\n`;
      const more = (): void => {
        while (!s.destroyed && s.write(line));
        if (!s.destroyed) s.once('drain', more);
      };
      more();
    });
    const f = new Fetcher({ http1Connections: 1 });
    const e = await f.bytes(`${srv.url}/h`, opts()).catch((x: unknown) => x);
    await f.close();
    expect(e).toBeInstanceOf(FetchFailure);
    expect((e as FetchFailure).reason).toMatch(/response headers longer than 65536 bytes/);
  });

  it('silence after the headers ends the transfer after `timeout`', async () => {
    reset();
    srv.routes.set('/s', (s) => void s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'));
    const f = new Fetcher({ http1Connections: 1 });
    const t0 = Date.now();
    const e = await f.bytes(`${srv.url}/s`, opts({ timeout: 0.3 })).catch((x: unknown) => x);
    await f.close();
    expect((e as FetchFailure).reason).toMatch(/^transfer interrupted after 2 bytes: UND_ERR_BODY_TIMEOUT: no data for 0\.3 s/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
