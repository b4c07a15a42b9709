/**
 * Payload path safety: every entry must land strictly inside the target directory.
 */
import { LayerError } from '../errors.js';

/**
 * `./usr/bin/x` → `usr/bin/x`. Rejects with LAYER_UNSAFE_PATH anything absolute (rpm payloads
 * are always `./`-prefixed), any `..` component, NULs, and empty results.
 */
export function normalizePayloadPath(raw: string, what: string): string {
  const unsafe = (why: string): LayerError => new LayerError('LAYER_UNSAFE_PATH', `${what}: unsafe payload path '${raw}': ${why}`);
  if (raw.includes('\0')) throw unsafe('contains NUL');
  if (raw.startsWith('/')) throw unsafe('absolute path');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe("'..' component");
  if (parts.length === 0) throw unsafe('empty path');
  return parts.join('/');
}
