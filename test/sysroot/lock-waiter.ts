/**
 * A writer for the lock-queue tests, run as its own process:
 *   node --import tsx lock-waiter.ts SYSROOT NAME LOG HOLD_MS [TIMEOUT_S]
 * Waits for the sysroot lock, appends `NAME start` / `NAME end` to LOG around HOLD_MS of holding
 * it, and prints `waiting <pid>` on stdout when it has to wait (onWait). Exit 3 on LAYER_LOCKED.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LayerError } from '../../src/errors.js';
import { Sysroot } from '../../src/sysroot/index.js';

const [path, name, log, hold, timeout] = process.argv.slice(2);
const s = Sysroot.open(path!);
try {
  await s.lockWait(`waiter ${name}`, {
    ...(timeout === undefined ? {} : { timeoutSeconds: Number(timeout) }),
    onWait: (h) => process.stdout.write(`waiting ${h.pid}\n`),
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(err instanceof LayerError && err.code === 'LAYER_LOCKED' ? 3 : 1);
}
appendFileSync(log!, `${name} start\n`);
await sleep(Number(hold));
appendFileSync(log!, `${name} end\n`);
s.release();
