/**
 * Debian's `docker-registry` (the reference distribution registry, 2.8) on 127.0.0.1, started
 * and stopped by the test: filesystem storage in a temp dir, plain HTTP. Its access log (a file
 * in the temp dir) lets tests count which blobs clients fetched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect, freePort } from '../fleet/nginx.js';
import { requireTool } from '../support/tools.js';

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  /** Successful blob GETs logged so far: the digests. */
  blobGets(): string[];
  stop(): Promise<void>;
}

export async function startRegistry(dir: string): Promise<Registry> {
  requireTool('docker-registry');
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'storage')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`);
  // The log goes to a file, not a pipe: tests block in execFileSync (skopeo), and a full pipe
  // nobody reads would stall the registry mid-request.
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const proc: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const log = () => readFileSync(logFile, 'utf8');
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) {
    if (exited) throw new Error(`docker-registry exited at start: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await canConnect(port))) {
    proc.kill('SIGKILL');
    throw new Error(`docker-registry did not listen on 127.0.0.1:${port} within 10 s: ${log()}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    // Access log lines (combined format): "GET /v2/NAME/blobs/sha256:HEX HTTP/1.1" 200 …
    blobGets: () => [...log().matchAll(/"GET \/v2\/\S+\/blobs\/(sha256:[0-9a-f]{64}) HTTP\/[0-9.]+" 200 /g)].map((m) => m[1] ?? ''),
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
