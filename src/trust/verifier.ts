/**
 * The verify step's plug: a function with compose's PackageVerifier shape (structurally: trust
 * sits below compose and does not import it) that runs checkPackageSignatures over a
 * transaction's opened packages, fetching http(s) gpgkey URLs with the shared net/ client under
 * each repo's own timeout/proxy/TLS settings, and keeps the result (the keys to record as
 * gpg-pubkey entries in the new rpmdb).
 */
import { LayerError } from '../errors.js';
import { Fetcher } from '../net/index.js';
import type { Report } from '../report.js';
import type { RpmPackage } from '../rpm/index.js';
import { checkPackageSignatures, type SignatureCheckOptions, type SignatureCheckResult, type SignedRepo } from './check.js';

/** A repo as the verifier needs it: RepoConfig satisfies this. */
export interface VerifierRepo extends SignedRepo {
  timeout?: number;
  retries?: number;
  minrate?: number;
  proxy?: string;
  sslverify?: boolean;
}

export interface PackageVerifierHandle {
  /** compose's `ApplyContext.verify`. Throws SignatureError / LAYER_GPG_KEY to refuse. */
  verify(packages: { rpm: RpmPackage; path: string; repo: string; local: boolean }[], report: Report): Promise<void>;
  /** What the last `verify` decided (imported keys first of all); undefined before it ran. */
  result(): SignatureCheckResult | undefined;
}

/**
 * `repos`: the enabled repos' configs (gpgcheck, gpgkey, fetch settings). `opts`: base keys
 * (keysFromRpmdb of the base), localGpgcheck, policy, confirmImport — as checkPackageSignatures.
 */
export function createPackageVerifier(repos: readonly VerifierRepo[], opts: Omit<SignatureCheckOptions, 'report' | 'fetch'> = {}): PackageVerifierHandle {
  let last: SignatureCheckResult | undefined;
  return {
    result: () => last,
    async verify(packages, report) {
      const byId = new Map(repos.map((r) => [r.id, r]));
      const items = packages.map((p) => {
        if (p.local) return { pkg: p.rpm };
        const repo = byId.get(p.repo);
        if (!repo) throw new LayerError('LAYER_INTERNAL', `package ${p.rpm.nevra} comes from repo '${p.repo}', which has no configuration here`);
        return { pkg: p.rpm, repo };
      });
      let fetcher: Fetcher | undefined;
      try {
        last = await checkPackageSignatures(items, {
          ...opts,
          report,
          fetch: (url, repo) => {
            fetcher ??= new Fetcher();
            const cfg = repo ? byId.get(repo.id) : undefined;
            return fetcher.bytes(url, {
              timeout: cfg?.timeout ?? 30,
              retries: cfg?.retries ?? 3,
              ...(cfg?.minrate !== undefined ? { minrate: cfg.minrate } : {}),
              ...(cfg?.proxy !== undefined ? { proxy: cfg.proxy } : {}),
              ...(cfg?.sslverify !== undefined ? { sslverify: cfg.sslverify } : {}),
            });
          },
        });
      } finally {
        await fetcher?.close();
      }
    },
  };
}
