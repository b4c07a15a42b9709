/**
 * `--lock-timeout SECONDS` for the commands that change a sysroot: the option spec, its parsing,
 * and the wait message on stderr (the message text is the sysroot stage's `formatLockWait`).
 * Kept apart from common.ts (which loads the whole engine) so light commands start fast.
 */
import { LayerError } from '../errors.js';
import { formatLockWait, type LockWaitOptions } from '../sysroot/index.js';
import { str, type OptionSpec, type Parsed } from './args.js';

export const LOCK_TIMEOUT_OPTION: Record<string, OptionSpec> = { 'lock-timeout': { value: true } };

/** undefined when not given (wait as long as it takes); 0 fails at once as before the queue existed. */
export function lockTimeout(p: Parsed): number | undefined {
  const v = str(p, 'lock-timeout');
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new LayerError('LAYER_USAGE', `--lock-timeout takes a number of seconds, not '${v}'`);
  return Number(v);
}

/** Lock-wait options from the command line: the timeout, and the holder named on stderr while waiting. */
export function lockWaitOptions(p: Parsed): LockWaitOptions {
  const timeoutSeconds = lockTimeout(p);
  return {
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    onWait: (holder) => process.stderr.write(`${formatLockWait(holder)}\n`),
  };
}
