/**
 * The writers' queue for the sysroot lock (issue 16), through Sysroot.lockWait: waiters are served
 * in arrival order, each one after the other; a waiter killed with SIGKILL leaves no ticket that
 * blocks anyone and the holder keeps its lock; timeouts fail with LAYER_LOCKED; `lock()` (no
 * waiting) does not jump the queue. Waiters are real processes (lock-waiter.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { formatLockWait, Sysroot, SysrootLock } from '../../src/sysroot/index.js';
import { tempDir as makeTempDir } from './helpers.js';

const made: string[] = [];
function tempDir(tag: string): string {
  const d = makeTempDir(tag);
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const WAITER = resolve(import.meta.dirname, 'lock-waiter.ts');

interface Waiter {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function startWaiter(sysroot: string, name: string, log: string, holdMs: number, timeoutS?: number): Waiter {
  const args = ['--import', 'tsx', WAITER, sysroot, name, log, String(holdMs), ...(timeoutS === undefined ? [] : [String(timeoutS)])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`waiter ${name} exited ${code}: ${err}\n`);
    res(code);
  }));
  return { child, stdout: () => out, exited };
}

function tickets(s: Sysroot): string[] {
  const q = join(s.stateDir, 'lock-queue');
  return existsSync(q) ? readdirSync(q) : [];
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function freshSysroot(): Sysroot {
  return Sysroot.init(join(tempDir('queue'), 'sysroot'));
}

describe('sysroot lock queue', () => {
  it('serves three waiting writers in arrival order, one at a time; a SIGKILLed waiter blocks no one and the holder keeps the lock', async () => {
    const s = freshSysroot();
    s.lock('holder');
    const log = join(s.path, 'order.log');
    // Start each waiter only once the previous one has queued: that is the arrival order.
    const w1 = startWaiter(s.path, 'w1', log, 300);
    await until('w1 queued', () => tickets(s).length === 1);
    const w2 = startWaiter(s.path, 'w2', log, 300);
    await until('w2 queued', () => tickets(s).length === 2);
    const w3 = startWaiter(s.path, 'w3', log, 300);
    await until('w3 queued', () => tickets(s).length === 3);
    await until('all told who holds the lock', () => [w1, w2, w3].every((w) => w.stdout().includes(`waiting ${process.pid}`)));

    w2.child.kill('SIGKILL');
    expect(await w2.exited).toBe(null);
    // The holder is unaffected: the lock is still ours and a sysroot change still works.
    expect(SysrootLock.read(join(s.stateDir, 'lock'))?.pid).toBe(process.pid);
    expect(s.cleanup().removedDeployments).toEqual([]);
    s.release();

    expect(await w1.exited).toBe(0);
    expect(await w3.exited).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('w1 start\nw1 end\nw3 start\nw3 end\n');
    // The killed waiter's ticket was removed by the others; nothing is left to block a writer.
    expect(tickets(s)).toEqual([]);
    expect(SysrootLock.read(join(s.stateDir, 'lock'))).toBeUndefined();
    s.lock('after');
    s.release();
  }, 60_000);

  it('writers started at the same moment all get the lock, never two at once', async () => {
    const s = freshSysroot();
    const log = join(s.path, 'order.log');
    const ws = ['a', 'b', 'c'].map((n) => startWaiter(s.path, n, log, 150));
    expect(await Promise.all(ws.map((w) => w.exited))).toEqual([0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) {
      const name = lines[i]!.split(' ')[0];
      expect(lines[i]).toBe(`${name} start`);
      expect(lines[i + 1]).toBe(`${name} end`);
    }
    expect(tickets(s)).toEqual([]);
  }, 60_000);

  it('a timeout fails with LAYER_LOCKED naming the holder; 0 fails at once; neither leaves a ticket', async () => {
    const s = freshSysroot();
    s.lock('layer install held');
    const other = Sysroot.open(s.path);
    const seen: { pid: number; command: string; since: Date }[] = [];
    const t0 = Date.now();
    const err = await other.lockWait('second', { timeoutSeconds: 0.4, onWait: (h) => seen.push(h) }).catch((e: unknown) => e);
    const waited = Date.now() - t0;
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_LOCKED');
    expect((err as LayerError).message).toContain(`pid ${process.pid} (layer install held`);
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.pid).toBe(process.pid);
    expect(seen[0]!.command).toBe('layer install held');
    expect(Math.abs(Date.now() - seen[0]!.since.getTime())).toBeLessThan(60_000);
    expect(formatLockWait(seen[0]!, new Date(seen[0]!.since.getTime() + 5000))).toBe(
      `Waiting for the sysroot lock: held by pid ${process.pid} (layer install held) since ${seen[0]!.since.toISOString()} (5 s ago)`);

    const t1 = Date.now();
    const now = await other.lockWait('third', { timeoutSeconds: 0, onWait: () => seen.push(seen[0]!) }).catch((e: unknown) => e);
    expect((now as LayerError).code).toBe('LAYER_LOCKED');
    expect((now as LayerError).message).toBe(`sysroot is locked by pid ${process.pid} (layer install held, since ${seen[0]!.since.toISOString()})`);
    expect(Date.now() - t1).toBeLessThan(200);
    expect(seen).toHaveLength(1); // failing at once is not waiting
    expect(tickets(s)).toEqual([]);
    s.release();
    await other.lockWait('now free', { timeoutSeconds: 0 });
    other.release();
  });

  it('an aborted wait removes its ticket; lock() does not jump ahead of a queued writer', async () => {
    const s = freshSysroot();
    s.lock('holder');
    const other = Sysroot.open(s.path);
    const ac = new AbortController();
    const waiting = other.lockWait('aborted', { signal: ac.signal }).catch((e: unknown) => e);
    await until('queued', () => tickets(s).length === 1);
    ac.abort();
    expect((await waiting as Error).name).toBe('AbortError');
    expect(tickets(s)).toEqual([]);

    // A writer queues; the holder leaves; a non-waiting lock() must not take the lock first.
    const log = join(s.path, 'order.log');
    const w = startWaiter(s.path, 'queued', log, 500);
    await until('queued', () => tickets(s).length === 1);
    s.release();
    let jumped = false;
    while (tickets(s).length > 0) {
      try {
        other.lock('impatient');
        jumped = true;
        other.release();
      } catch (e) {
        expect((e as LayerError).code).toBe('LAYER_LOCKED');
      }
      await sleep(5);
    }
    expect(await w.exited).toBe(0);
    expect(jumped).toBe(false);
    expect(readFileSync(log, 'utf8')).toBe('queued start\nqueued end\n');
  }, 30_000);
});
