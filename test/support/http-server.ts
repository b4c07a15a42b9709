/**
 * A static file server on 127.0.0.1 that injects faults, for repo fetching tests.
 * Faults are matched by request path (string suffix or RegExp), consumed in order, and can
 * be limited to `times` requests; every request is logged so tests can assert what was
 * (not) fetched. Hostile behaviours (an endless body, a trickle) respect the socket's
 * backpressure and count what they sent, so a test can tell how much the client read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize } from 'node:path';

export type Fault =
  /** Answer `code`; with `endless`, an error page that never ends. */
  | { kind: 'status'; code: number; endless?: boolean }
  /** 200 without a Content-Length, then filler bytes for as long as the client reads. */
  | { kind: 'endless' }
  /**
   * The body `bytes` bytes (default 1) every `intervalMs`, its full Content-Length declared; with
   * `endless`, filler at that pace forever (no Content-Length).
   */
  | { kind: 'trickle'; intervalMs: number; bytes?: number; endless?: boolean }
  /** Destroy the socket before any response. */
  | { kind: 'reset' }
  /** Send headers, then the body only after `delayMs` (past the client's timeout). */
  | { kind: 'slow'; delayMs: number }
  /** Declare the full Content-Length, send `bytes` of the body, then close. */
  | { kind: 'truncate'; bytes?: number }
  /** Send `bytes` of the body, then hang without closing (a peer that died mid-transfer). */
  | { kind: 'stall'; bytes: number }
  /** Serve the body with its bytes flipped in the middle (checksum mismatch, same size). */
  | { kind: 'corrupt' }
  /** Serve this body instead (e.g. a truncated-but-complete gzip, malformed XML). */
  | { kind: 'body'; body: Uint8Array | string }
  /** 302 to another location. */
  | { kind: 'redirect'; location: string };

interface Rule {
  match: string | RegExp;
  fault: Fault;
  times: number;
}

export class FaultServer {
  readonly requests: string[] = [];
  /** Body bytes handed to the socket, by request path (hostile faults only). */
  readonly sent = new Map<string, number>();
  private rules: Rule[] = [];
  private readonly extra = new Map<string, Uint8Array | string>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly root: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Inject `fault` on requests whose path ends with (or matches) `match`, `times` times (default forever). */
  fault(match: string | RegExp, fault: Fault, times = Infinity): this {
    this.rules.push({ match, fault, times });
    return this;
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** Serve generated content at `path` (mirrorlists, metalinks). */
  put(path: string, body: Uint8Array | string): void {
    this.extra.set(path, body);
  }

  /** Requests whose path ends with `suffix`. */
  count(suffix: string): number {
    return this.requests.filter((p) => p.endsWith(suffix)).length;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private takeFault(path: string): Fault | undefined {
    const rule = this.rules.find((r) => r.times > 0 && (typeof r.match === 'string' ? path.endsWith(r.match) : r.match.test(path)));
    if (rule === undefined) return undefined;
    rule.times--;
    return rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push(path);
    const fault = this.takeFault(path);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      if (fault.endless) {
        res.writeHead(fault.code);
        this.pump(path, res);
      } else res.writeHead(fault.code).end(`fault ${fault.code}`);
      return;
    }
    if (fault?.kind === 'endless') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      this.pump(path, res);
      return;
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(302, { location: fault.location }).end();
      return;
    }
    let body: Uint8Array | string | undefined = this.extra.get(path);
    if (body === undefined) {
      const file = normalize(join(this.root, path));
      if (!file.startsWith(normalize(this.root))) {
        res.writeHead(403).end();
        return;
      }
      body = await readFile(file).catch(() => undefined);
    }
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    let buf = Buffer.from(body);
    if (fault?.kind === 'body') buf = Buffer.from(fault.body);
    if (fault?.kind === 'corrupt') {
      buf = Buffer.from(buf);
      const mid = buf.length >> 1;
      buf[mid] = (buf[mid] ?? 0) ^ 0xff;
    }
    if (fault?.kind === 'trickle') {
      if (fault.endless) res.writeHead(200, { 'content-type': 'application/octet-stream' });
      else res.writeHead(200, { 'content-length': buf.length, 'content-type': 'application/octet-stream' });
      res.flushHeaders();
      const step = fault.bytes ?? 1;
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        const part = fault.endless ? Buffer.alloc(step, 0x61) : buf.subarray(at, at + step);
        at += part.length;
        this.sent.set(path, (this.sent.get(path) ?? 0) + part.length);
        res.write(part);
        if (!fault.endless && at >= buf.length) {
          clearInterval(timer);
          res.end();
        }
      }, fault.intervalMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { 'content-length': buf.length, 'content-type': 'application/octet-stream' });
    if (fault?.kind === 'truncate') {
      res.write(buf.subarray(0, fault.bytes ?? buf.length >> 1));
      setTimeout(() => req.socket.destroy(), 10);
      return;
    }
    if (fault?.kind === 'stall') {
      res.write(buf.subarray(0, fault.bytes));
      return;
    }
    if (fault?.kind === 'slow') {
      res.flushHeaders();
      setTimeout(() => {
        if (!res.destroyed) res.end(buf);
      }, fault.delayMs).unref();
      return;
    }
    res.end(buf);
  }

  /** Write filler until the client goes away, waiting for 'drain' whenever the socket is full. */
  private pump(path: string, res: ServerResponse): void {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const more = (): void => {
      while (!res.destroyed && !res.writableEnded) {
        this.sent.set(path, (this.sent.get(path) ?? 0) + chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', more);
          return;
        }
      }
    };
    res.on('error', () => {});
    more();
  }
}
