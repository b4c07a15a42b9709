/**
 * Debian's nginx serving a directory as static files on 127.0.0.1, started and stopped by the
 * test: the way a fleet's archive repo is served (README "Composing for a fleet"). Every wait
 * is bounded; the access log lets tests count what clients fetched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { requireTool, tempDir } from '../support/tools.js';

export interface Nginx {
  port: number;
  /** http://127.0.0.1:PORT/repo: the served directory. */
  url: string;
  /** Requests logged so far: [status, path, bytes sent]. */
  requests(): { status: number; path: string; bytes: number }[];
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 now (also used by test/oci/registry.ts). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => res(false));
  });
}

/** Serve `root` at /repo/ from nginx with its files under `prefix`. */
export async function startNginx(root: string, prefix: string): Promise<Nginx> {
  requireTool('/usr/sbin/nginx', 'nginx');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  // `user root`: the test runs as root and its temp dirs are 0700, which nobody could not read.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const conf = `${user}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  log_format fleet '$status $request_uri $body_bytes_sent';
  access_log ${prefix}/access.log fleet;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    location /repo/ { alias ${root}/; }
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  writeFileSync(join(prefix, 'access.log'), '');
  const proc: ChildProcess = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) {
    if (exited) throw new Error(`nginx exited at start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await canConnect(port))) {
    proc.kill('SIGKILL');
    throw new Error(`nginx did not listen on 127.0.0.1:${port} within 5 s: ${stderr}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/repo`,
    requests: () => readFileSync(join(prefix, 'access.log'), 'utf8').split('\n').filter(Boolean).map((l) => {
      const [status, path, bytes] = l.split(' ');
      return { status: Number(status), path: path ?? '', bytes: Number(bytes) };
    }),
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGQUIT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * Temp directories and nginx servers for one test file: `dir(tag)` makes a directory, `serve`
 * starts nginx on a directory; all are stopped and removed after the file's tests.
 */
export function fleetScope(prefix: string): { dir(tag: string): string; serve(root: string, confDir: string): Promise<Nginx> } {
  const dirs: string[] = [];
  const servers: Nginx[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return {
    dir(tag) {
      const d = tempDir(prefix, tag);
      dirs.push(d);
      return d;
    },
    async serve(root, confDir) {
      const n = await startNginx(root, confDir);
      servers.push(n);
      return n;
    },
  };
}
