/**
 * Output helpers every command uses. Kept apart from common.ts (which loads the whole engine)
 * so that light commands (rollback, status, boot-pending, cleanup) start fast.
 */
import { resolve } from 'node:path';
import { bool, str, type Parsed } from './args.js';

export function sysrootOf(p: Parsed): string {
  return resolve(str(p, 'sysroot') ?? '/');
}

export function emit(p: Parsed, json: unknown, text: () => string): void {
  process.stdout.write(bool(p, 'json') ? JSON.stringify(json, null, 2) + '\n' : text());
}
