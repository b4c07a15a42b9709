/** `layer status`: deployments with what their commits say (version, timestamp, base, repos). */
import { COMPOSE_KEYS } from '../compose/types.js';
import { nameOf } from '../nevra.js';
import { commitMetadata, type Checksum, type GValue } from '../store/index.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';

export interface DeploymentView extends Deployment {
  version: string | undefined;
  /** Commit timestamp, seconds since the epoch. */
  timestamp: number;
  baseChecksum: Checksum;
  pending: boolean;
  rollback: boolean;
  /** The repos the commit was composed from (commit metadata); [] for a base taken from ostree. */
  repos: ComposedFrom[];
  /** NEVRAs of the layered packages: the origin's record, else the commit metadata's. */
  layeredNevras: string[];
  /**
   * Base packages this tree no longer has, or has in another version: the base commit's package
   * list against this commit's (both from commit metadata; empty when the base has none, e.g. a
   * base taken from an ostree repo).
   */
  baseChanges: { removed: string[]; replaced: { from: string; to: string }[] };
}

/** One repo a commit was composed from, as buildMetadata (compose/digest.ts) records it. */
export interface ComposedFrom {
  id: string;
  /** sha256 of its repomd.xml. */
  digest: string;
  /** repomd.xml `<revision>`, '' when it has none. */
  revision: string;
  /** Newest `<timestamp>` of its primary metadata, seconds since the epoch; 0 when unknown. */
  timestamp: number;
}

function composedFrom(value: GValue | undefined): ComposedFrom[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((row) => {
    if (!Array.isArray(row) || typeof row[0] !== 'string') return [];
    return [{ id: row[0], digest: String(row[1] ?? ''), revision: String(row[2] ?? ''), timestamp: Number(row[3] ?? 0) }];
  });
}

export interface StatusView {
  sysroot: string;
  deployments: DeploymentView[];
}

function strings(value: GValue | undefined): string[] | undefined {
  return Array.isArray(value) ? value.map(String) : undefined;
}

function baseChanges(base: string[] | undefined, tree: string[] | undefined): DeploymentView['baseChanges'] {
  const out: DeploymentView['baseChanges'] = { removed: [], replaced: [] };
  if (!base || !tree) return out;
  const now = new Map(tree.map((n) => [nameOf(n), n]));
  for (const was of base) {
    const is = now.get(nameOf(was));
    if (is === undefined) out.removed.push(was);
    else if (is !== was) out.replaced.push({ from: was, to: is });
  }
  return out;
}

export function describeStatus(path: string): StatusView {
  const s = Sysroot.open(path);
  const st = s.status();
  const deployments = st.deployments.map((d): DeploymentView => {
    const c = s.store.readCommit(d.checksum);
    const v = commitMetadata(c, 'version');
    const layered = strings(commitMetadata(c, COMPOSE_KEYS.layered)?.value);
    const packages = strings(commitMetadata(c, COMPOSE_KEYS.packages)?.value);
    const basePackages = d.origin.baseCommit === d.checksum ? packages : readPackages(s, d.origin.baseCommit);
    return {
      ...d,
      version: typeof v?.value === 'string' ? v.value : undefined,
      timestamp: Number(c.timestamp),
      baseChecksum: d.origin.baseCommit,
      pending: st.pending?.id === d.id,
      rollback: st.rollback?.id === d.id,
      repos: composedFrom(commitMetadata(c, COMPOSE_KEYS.repos)?.value),
      layeredNevras: d.origin.layered ?? layered ?? [],
      baseChanges: baseChanges(basePackages, packages),
    };
  });
  return { sysroot: path, deployments };
}

/** The package list a commit's metadata records; undefined when it has none or is not in the store. */
function readPackages(s: Sysroot, commit: Checksum): string[] | undefined {
  // A base commit that is not in the store (never pulled whole) has nothing to compare with.
  if (!s.store.hasObject(commit, 'commit')) return undefined;
  return strings(commitMetadata(s.store.readCommit(commit), COMPOSE_KEYS.packages)?.value);
}
