/**
 * `--lockfile FILE` and `--lockfile-out FILE` of the transaction commands (engine/lockfile.ts
 * has the format and the checks). Both fix the composition's clock: SOURCE_DATE_EPOCH is set
 * for this process to the lockfile's `source-date-epoch` (reading) or, unless already set, to
 * now (writing, recorded in the file), so the composition that writes a lockfile and every one
 * that reads it give the same commit checksum.
 */
import { resolve } from 'node:path';
import { readLockfile, writeLockfile, type Lockfile } from '../engine/lockfile.js';
import type { EngineRequest, EngineResult } from '../engine/types.js';
import { str, type OptionSpec, type Parsed } from './args.js';

export const LOCKFILE_FLAGS: Record<string, OptionSpec> = { lockfile: { value: true }, 'lockfile-out': { value: true } };

export interface LockfileUse {
  /** Spread into the EngineRequest. */
  request: Pick<EngineRequest, 'lockfile' | 'onLockfile'>;
  /** Write --lockfile-out once the transaction has a result worth pinning (not aborted). */
  finish(result: Pick<EngineResult, 'outcome'>): void;
}

export function lockfileUse(p: Parsed): LockfileUse {
  const inFile = str(p, 'lockfile');
  const outFile = str(p, 'lockfile-out');
  const lock = inFile ? readLockfile(resolve(inFile)) : undefined;
  if (lock) process.env.SOURCE_DATE_EPOCH = String(lock['source-date-epoch']);
  else if (outFile && !/^\d+$/.test(process.env.SOURCE_DATE_EPOCH ?? '')) process.env.SOURCE_DATE_EPOCH = String(Math.floor(Date.now() / 1000));
  let planned: Lockfile | undefined;
  return {
    request: {
      ...(lock && inFile ? { lockfile: { lock, file: inFile } } : {}),
      ...(outFile ? { onLockfile: (l: Lockfile) => (planned = l) } : {}),
    },
    finish(result) {
      if (outFile && planned && result.outcome !== 'aborted') writeLockfile(resolve(outFile), planned);
    },
  };
}
