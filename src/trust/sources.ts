/**
 * Where keys come from: a repo's `gpgkey=` URLs (file://, plain paths, http(s):// through the
 * caller's fetch function, i.e. the repos' own client with its limits and proxy settings) and
 * the base rpmdb's `gpg-pubkey` entries (their DESCRIPTION is the armored key, as rpm writes it).
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LayerError } from '../errors.js';
import type { RpmHeader } from '../rpm/index.js';
import { MAX_ARMOR_BYTES } from './armor.js';
import type { Cert } from './key.js';
import { parseArmoredKeys } from './keyring.js';

/** Gets a small file's bytes (the repos' fetcher: `(url) => fetcher.bytes(url, opts)`); `repo` says for whom. */
export type FetchBytes = (url: string, repo?: { id: string }) => Promise<Uint8Array>;

/** Reads one gpgkey URL. file:// and paths are read here; anything else goes to `fetch`. */
export async function fetchKeyFile(url: string, fetch: FetchBytes | undefined, repo?: { id: string }): Promise<Uint8Array> {
  const local = url.startsWith('file:') || url.startsWith('/');
  try {
    if (local) {
      const path = url.startsWith('file:') ? fileURLToPath(url) : url;
      const st = await stat(path);
      if (st.size > MAX_ARMOR_BYTES) throw new Error(`larger than ${MAX_ARMOR_BYTES} bytes`);
      return await readFile(path);
    }
    if (!/^https?:\/\//.test(url)) throw new Error('unsupported URL scheme (file://, http:// and https:// are)');
    if (!fetch) throw new Error('no network fetcher was given');
    const b = await fetch(url, repo);
    if (b.length > MAX_ARMOR_BYTES) throw new Error(`larger than ${MAX_ARMOR_BYTES} bytes`);
    return b;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.message.replace(/^\w+: /, '');
    throw new LayerError('LAYER_GPG_KEY', `cannot retrieve GPG key from ${url}: ${why}`, { cause: e });
  }
}

/** The certificates at each of `urls`, in order. Any URL that fails fails the whole call. */
export async function keysFromUrls(urls: readonly string[], fetch: FetchBytes | undefined, repo?: { id: string }): Promise<{ url: string; certs: Cert[] }[]> {
  const out: { url: string; certs: Cert[] }[] = [];
  for (const url of urls) out.push({ url, certs: parseArmoredKeys(await fetchKeyFile(url, fetch, repo), url) });
  return out;
}

const TAG_DESCRIPTION = 1005;

/**
 * The keys recorded in an rpmdb (`openRpmdb(tree).packages()`): every `gpg-pubkey` entry's
 * armored DESCRIPTION. An entry that does not parse is a LAYER_GPG_KEY error naming it.
 */
export function keysFromRpmdb(pkgs: readonly { name: string; version: string; release: string; header: RpmHeader }[]): Cert[] {
  const out: Cert[] = [];
  for (const p of pkgs) {
    if (p.name !== 'gpg-pubkey') continue;
    const what = `rpmdb gpg-pubkey-${p.version}-${p.release}`;
    const text = p.header.string(TAG_DESCRIPTION);
    if (!text) throw new LayerError('LAYER_GPG_KEY', `${what}: no armored key in its description`);
    out.push(...parseArmoredKeys(text, what));
  }
  return out;
}
