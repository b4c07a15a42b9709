/**
 * The wasm side of a parity case: builds a Pool through the public solver API from the same
 * data the native oracle read, and reduces a SolveResult to the NativeResult shape so the two
 * compare with one `expect`.
 */
import { loadSolver, Pool } from '../../../src/solver/index.js';
import type { PackageRecord, RepoSource, SolveResult } from '../../../src/solver/types.js';
import type { NativeResult } from './native.js';

export type Loader = 'records' | 'rpmmd' | 'solv';

export interface RepoInput {
  name: string;
  records: () => Promise<PackageRecord[]>;
  primaryXml: () => Uint8Array;
  filelistsXml: () => Uint8Array | undefined;
  solvBytes: () => Uint8Array;
}

export async function sourceFor(repo: RepoInput, loader: Loader): Promise<RepoSource> {
  switch (loader) {
    case 'records':
      return { kind: 'records', records: await repo.records() };
    case 'rpmmd': {
      const filelists = repo.filelistsXml();
      return { kind: 'rpmmd', primary: repo.primaryXml(), ...(filelists ? { filelists } : {}) };
    }
    case 'solv':
      return { kind: 'solv', bytes: repo.solvBytes() };
  }
}

/** A pool with `available` repos in order, plus the installed system repo if given. */
export async function openPool(opts: { available: RepoInput[]; installed?: RepoInput; loader: Loader }): Promise<Pool> {
  await loadSolver();
  const pool = new Pool({ arch: 'x86_64' });
  // Same repo order as the native testcase (installed first), so solvable ids line up and
  // libsolv's id-order tie-breaks cannot differ between the two sides.
  if (opts.installed) {
    const sys = pool.addRepo(opts.installed.name, await sourceFor(opts.installed, opts.loader), { priority: 0 });
    pool.setInstalled(sys);
  }
  for (const r of opts.available) pool.addRepo(r.name, await sourceFor(r, opts.loader), { priority: 0 });
  return pool;
}

/** The wasm result in the native oracle's shape. */
export function outcomeOf(res: SolveResult): NativeResult {
  if (!res.ok) return { ok: false, problemCount: res.problems.length, problems: res.problems.map((p) => p.text) };
  const incoming = new Set<string>();
  const outgoing = new Set<string>();
  for (const step of res.transaction.steps) {
    if (step.kind === 'erase' || step.kind === 'obsoleted') outgoing.add(step.pkg.nevra);
    else incoming.add(step.pkg.nevra);
    for (const old of step.replaces ?? []) outgoing.add(old.nevra);
  }
  return { ok: true, incoming: [...incoming].sort(), outgoing: [...outgoing].sort() };
}
