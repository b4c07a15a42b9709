/**
 * The options that name an HTTP base for `init` and `rebase`: `--from-remote URL --ref REF
 * [--remote NAME]` and the keys its commits must be signed with, `--gpg-import KEYFILE` (OSTree's
 * `remote gpg-import`) and `--sign-verify ed25519=KEYFILE` (OSTree's `sign-verify` with a
 * `verification-ed25519-file`).
 */
import { resolve } from 'node:path';
import type { RemoteBase } from '../engine/index.js';
import { LayerError } from '../errors.js';
import { str, type OptionSpec, type Parsed } from './args.js';

export const REMOTE_FLAGS: Record<string, OptionSpec> = {
  'from-remote': { value: true }, ref: { value: true }, remote: { value: true },
  'gpg-import': { value: true }, 'sign-verify': { value: true },
};

/** The remote base the options name (undefined without --from-remote); `name` is the default remote name. */
export function remoteBaseOf(p: Parsed, command: string, name: string): RemoteBase | undefined {
  const url = str(p, 'from-remote');
  const ref = str(p, 'ref');
  const gpg = str(p, 'gpg-import');
  const sign = str(p, 'sign-verify');
  if (url === undefined) {
    const stray = ['ref', 'remote', 'gpg-import', 'sign-verify'].find((f) => str(p, f) !== undefined);
    if (stray) throw new LayerError('LAYER_USAGE', `layer ${command}: --${stray} goes with --from-remote URL`);
    return undefined;
  }
  if (!ref) throw new LayerError('LAYER_USAGE', `layer ${command}: --from-remote URL needs --ref REF`);
  let ed25519: string | undefined;
  if (sign !== undefined) {
    const m = /^ed25519=(.+)$/.exec(sign);
    if (!m?.[1]) throw new LayerError('LAYER_USAGE', `layer ${command}: --sign-verify takes ed25519=KEYFILE, not '${sign}'`);
    ed25519 = resolve(m[1]);
  }
  const trust = { ...(gpg !== undefined ? { gpgImport: [resolve(gpg)] } : {}), ...(ed25519 ? { ed25519: [ed25519] } : {}) };
  return { url, ref, remote: str(p, 'remote') ?? name, ...(gpg !== undefined || ed25519 ? { trust } : {}) };
}
