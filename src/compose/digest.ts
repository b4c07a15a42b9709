/**
 * The input digest of a composition and the commit metadata that carries it. The digest covers
 * everything that decides the tree: the base commit, the request (sorted specs, the local
 * packages' header digests, removals, options that change the result), the architecture, each
 * repo's repomd.xml digest, and the solution (steps in order). Equal digest, equal tree: a later
 * request that digests the same needs no rebuild.
 */
import { createHash } from 'node:crypto';
import type { RpmPackage } from '../rpm/index.js';
import type { TransactionStep } from '../solver/index.js';
import { V, Variant, type GValue } from '../store/index.js';
import { COMPOSE_KEYS, type ComposeRequest } from './types.js';

/** Bumped when what a compose produces for the same inputs changes. */
export const COMPOSE_VERSION = 1;

export function inputDigest(o: { req: ComposeRequest; base: string | null; locals: readonly RpmPackage[]; steps: readonly TransactionStep[] }): string {
  const { req } = o;
  const input = {
    v: COMPOSE_VERSION,
    base: o.base,
    arch: req.arch,
    install: [...req.install].sort(),
    local: o.locals.map((p) => createHash('sha256').update(p.header.blob).digest('hex')).sort(),
    remove: [...req.remove].sort(),
    options: { replaceFiles: !!req.options.replaceFiles, ignoreWeakDeps: !!req.options.ignoreWeakDeps, allowBaseChanges: !!req.options.allowBaseChanges },
    repos: req.repos.active.map((r) => [r.id, r.digest ?? '']).sort(),
    solution: o.steps.map((s) => [s.kind, s.pkg.nevra, s.pkg.repo]),
  };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** Commit metadata of a composed tree (keys in COMPOSE_KEYS). */
export function buildMetadata(o: { req: ComposeRequest; base: string | null; packages: readonly string[]; layered: readonly string[]; digest: string }): [string, Variant][] {
  const repos: GValue[] = o.req.repos.active.map((r) => {
    const ts = Math.max(0, ...[...(r.record('primary') ? [r.record('primary')!] : [])].map((x) => x.timestamp ?? 0));
    return [r.id, r.digest ?? '', r.revision ?? '', BigInt(ts)];
  });
  return [
    [COMPOSE_KEYS.requested, V.strings(o.req.install)],
    [COMPOSE_KEYS.localRpms, V.strings(o.req.localRpms)],
    [COMPOSE_KEYS.removed, V.strings(o.req.remove)],
    [COMPOSE_KEYS.packages, V.strings(o.packages)],
    [COMPOSE_KEYS.layered, V.strings(o.layered)],
    [COMPOSE_KEYS.base, V.string(o.base ?? '')],
    // (id, repomd.xml sha256, repomd revision, primary timestamp)
    [COMPOSE_KEYS.repos, new Variant('a(ssst)', repos)],
    [COMPOSE_KEYS.inputDigest, V.string(o.digest)],
  ];
}
