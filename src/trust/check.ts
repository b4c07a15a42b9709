/**
 * The gpgcheck decision for a transaction's packages, as dnf makes it (dnf/base.py
 * `_get_key_for_package`): a repo with gpgcheck=1 has every package verified; a package whose
 * key is missing makes the repo's `gpgkey=` keys be fetched and imported (each shown as dnf shows
 * it, and confirmed when the caller asks), then it is verified again. Local packages are checked
 * only with localpkg_gpgcheck (dnf's default: off).
 */
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import type { RpmPackage } from '../rpm/index.js';
import { primaryUserId, type Cert } from './key.js';
import { Keyring } from './keyring.js';
import { DEFAULT_POLICY, type TrustPolicy } from './policy.js';
import { SignatureError, verifyRpmSignature } from './rpmsig.js';
import { keysFromUrls, type FetchBytes } from './sources.js';
import { SigType } from './signature.js';

/** The part of a RepoConfig that matters here. */
export interface SignedRepo {
  id: string;
  name?: string;
  gpgcheck: boolean;
  gpgkeys: readonly string[];
}

export interface SignatureCheckItem {
  pkg: RpmPackage;
  /** Where it comes from; absent for a local (command-line) package. */
  repo?: SignedRepo;
}

/** A key that was not trusted before and is imported for this transaction. */
export interface ImportedKey {
  cert: Cert;
  /** Primary key fingerprint, lowercase hex. */
  fingerprint: string;
  /** dnf's "0x…" id: the last 8 hex digits (upper case) of the signing key's id. */
  shortId: string;
  /** Fingerprint of the signing key dnf shows (the primary's when it can sign, else the signing subkey's), upper case. */
  signingFingerprint: string;
  userId: string;
  /** The gpgkey URL it came from. */
  url: string;
  repo: string;
}

export interface SignatureCheckOptions {
  /** Keys trusted already (the base rpmdb's gpg-pubkey entries). Not modified. */
  baseKeys?: Keyring | readonly Cert[];
  /** dnf's localpkg_gpgcheck: verify local packages too (default false, as dnf). */
  localGpgcheck?: boolean;
  policy?: TrustPolicy;
  /** Fetches http(s) gpgkey URLs: the repos' fetcher (`(u) => fetcher.bytes(u, opts)`). */
  fetch?: FetchBytes;
  report?: Report;
  /**
   * Asked before a key is imported (the CLI shows formatKeyImport(key) and asks "Is this ok
   * [y/N]:"); absent = import (as dnf with -y). Declining fails the package as dnf does.
   */
  confirmImport?: (key: ImportedKey) => Promise<boolean>;
}

export interface SignatureCheckResult {
  /** Keys newly imported, in import order: record them in the new tree's rpmdb (rpmdb/pubkey.ts). */
  imported: ImportedKey[];
  /** Packages whose signature verified, with the primary fingerprint of the key. */
  verified: { pkg: RpmPackage; fingerprint: string }[];
  /** Packages not checked, and why (gpgcheck=0, a local package without localpkg_gpgcheck). */
  unchecked: { pkg: RpmPackage; why: string }[];
  /** Every key trusted at the end (base + imported). */
  keyring: Keyring;
}

/** The key dnf names when importing: the first signing-capable key of the certificate (gpgme's order). */
function signingKeyOf(cert: Cert): { keyId: string; fingerprint: string } {
  const selfFlags = [...cert.directSigs, ...cert.userIds.flatMap((u) => u.sigs)]
    .filter((s) => s.type === SigType.DirectKey || (s.type >= SigType.CertGeneric && s.type <= SigType.CertPositive))
    .sort((a, b) => (b.created ?? 0) - (a.created ?? 0))[0]?.keyFlags;
  if (selfFlags === undefined || selfFlags & 0x02) return cert.primary;
  for (const s of cert.subkeys) {
    const b = s.sigs.filter((x) => x.type === SigType.SubkeyBinding).sort((x, y) => (y.created ?? 0) - (x.created ?? 0))[0];
    if (b?.keyFlags !== undefined && b.keyFlags & 0x02) return s.key;
  }
  return cert.primary;
}

export function importedKey(cert: Cert, url: string, repo: string): ImportedKey {
  const k = signingKeyOf(cert);
  return {
    cert,
    fingerprint: cert.primary.fingerprint,
    shortId: k.keyId.slice(-8).toUpperCase(),
    signingFingerprint: k.fingerprint.toUpperCase(),
    userId: primaryUserId(cert),
    url,
    repo,
  };
}

/** dnf's exact text (dnf/crypto.py log_key_import), without a trailing newline. */
export function formatKeyImport(key: ImportedKey): string {
  const fpr = key.signingFingerprint.match(/.{1,4}/g)!.join(' ');
  return `Importing GPG key 0x${key.shortId}:\n Userid     : "${key.userId}"\n Fingerprint: ${fpr}\n From       : ${key.url.replace('file://', '')}`;
}

/**
 * Verifies every package whose repo has gpgcheck=1 (local ones with `localGpgcheck`), importing
 * the repos' keys when a package needs them. Throws the first refusal: a SignatureError
 * (LAYER_RPM_SIGNATURE with its category) or LAYER_GPG_KEY when a gpgkey URL cannot be read.
 */
export async function checkPackageSignatures(items: readonly SignatureCheckItem[], opts: SignatureCheckOptions = {}): Promise<SignatureCheckResult> {
  const report = opts.report ?? silentReport;
  const policy = opts.policy ?? DEFAULT_POLICY;
  const keyring = new Keyring();
  if (opts.baseKeys instanceof Keyring) for (const c of opts.baseKeys.all()) keyring.add(c);
  else for (const c of opts.baseKeys ?? []) keyring.add(c);
  const result: SignatureCheckResult = { imported: [], verified: [], unchecked: [], keyring };
  // dnf fetches a repo's keys at most once per transaction (_repo_set_imported_gpg_keys).
  const triedRepos = new Set<string>();
  for (const { pkg, repo } of items) {
    if (repo ? !repo.gpgcheck : !opts.localGpgcheck) {
      result.unchecked.push({ pkg, why: repo ? `gpgcheck=0 in repo ${repo.id}` : 'local package (localpkg_gpgcheck is off)' });
      continue;
    }
    try {
      const v = await verifyRpmSignature(pkg, keyring, policy);
      result.verified.push({ pkg, fingerprint: v.fingerprint });
      continue;
    } catch (e) {
      if (!(e instanceof SignatureError) || e.category !== 'key-missing' || !repo || repo.gpgkeys.length === 0 || triedRepos.has(repo.id)) {
        throw addRepoHint(e, repo);
      }
    }
    triedRepos.add(repo.id);
    const installed = await importRepoKeys(repo, pkg, keyring, opts, report, result);
    if (!installed.any) {
      const failing = `. Failing package is: ${pkg.nevra}\n GPG Keys are configured as: ${repo.gpgkeys.join(', ')}`;
      if (installed.declined) throw new SignatureError('LAYER_RPM_SIGNATURE', 'key-missing', `Didn't install any keys${failing}`, undefined, undefined);
      throw new SignatureError(
        'LAYER_RPM_SIGNATURE',
        'key-missing',
        `The GPG keys listed for the "${repo.name ?? repo.id}" repository are already installed but they are not correct for this package.\nCheck that the correct key URLs are configured for this repository${failing}`,
        undefined,
        undefined,
      );
    }
    try {
      const v = await verifyRpmSignature(pkg, keyring, policy);
      result.verified.push({ pkg, fingerprint: v.fingerprint });
    } catch (e) {
      if (e instanceof SignatureError) {
        throw new SignatureError('LAYER_RPM_SIGNATURE', e.category, e.message, e.keyId, e.fingerprint, {
          hint: `Import of key(s) didn't help, wrong key(s)? GPG Keys are configured as: ${repo.gpgkeys.join(', ')}`,
          cause: e,
        });
      }
      throw e;
    }
  }
  return result;
}

async function importRepoKeys(
  repo: SignedRepo,
  pkg: RpmPackage,
  keyring: Keyring,
  opts: SignatureCheckOptions,
  report: Report,
  result: SignatureCheckResult,
): Promise<{ any: boolean; declined: boolean }> {
  let any = false;
  let declined = false;
  for (const url of repo.gpgkeys) if (url.startsWith('http:')) report.warn('gpg.key-unencrypted', `retrieving repo key for ${repo.id} unencrypted from ${url}`, { repo: repo.id, url });
  let files: Awaited<ReturnType<typeof keysFromUrls>>;
  try {
    files = await keysFromUrls(repo.gpgkeys, opts.fetch, repo);
  } catch (e) {
    if (e instanceof LayerError) {
      throw new LayerError(e.code, `repo ${repo.id}: ${e.message} (needed for ${pkg.nevra})`, { hint: `gpgkey= is set at the repo's configuration; fix the URL or the file`, cause: e });
    }
    throw e;
  }
  for (const { url, certs } of files) {
    for (const cert of certs) {
      const key = importedKey(cert, url, repo.id);
      if (keyring.has(cert.primary.fingerprint)) {
        report.info('gpg.key-installed', `GPG key at ${url} (0x${key.shortId}) is already installed`, { repo: repo.id, url, fingerprint: key.fingerprint });
        continue;
      }
      let ok = true;
      if (opts.confirmImport) ok = await opts.confirmImport(key);
      else report.info('gpg.key-import', formatKeyImport(key), { repo: repo.id, url, fingerprint: key.fingerprint, userId: key.userId });
      if (!ok) {
        declined = true;
        continue;
      }
      keyring.add(cert);
      result.imported.push(key);
      report.info('gpg.key-imported', 'Key imported successfully', { fingerprint: key.fingerprint });
      any = true;
    }
  }
  return { any, declined };
}

function addRepoHint(e: unknown, repo: SignedRepo | undefined): unknown {
  if (!(e instanceof SignatureError) || e.hint !== undefined) return e;
  const hint =
    e.category === 'key-missing'
      ? repo
        ? repo.gpgkeys.length === 0
          ? `repo ${repo.id} has gpgcheck=1 but no gpgkey=: add the key's URL to the repo file`
          : `the keys of repo ${repo.id} (${repo.gpgkeys.join(', ')}) did not include it`
        : 'a local package: import its key into the base (rpmkeys --import) or turn localpkg_gpgcheck off'
      : undefined;
  return hint ? new SignatureError('LAYER_RPM_SIGNATURE', e.category, e.message, e.keyId, e.fingerprint, { hint, cause: e }) : e;
}
