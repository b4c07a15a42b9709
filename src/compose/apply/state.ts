/**
 * What the apply steps share: the plan, the context, and what each step leaves for the next
 * (paths of downloaded files, opened packages, their store commits, the assembled root).
 */
import type { Nevra } from '../../nevra.js';
import type { RpmPackage } from '../../rpm/index.js';
import type { HeaderRow, InstalledPackage } from '../../rpmdb/index.js';
import type { Checksum, UnionDir } from '../../store/index.js';
import type { BaseSet } from '../base.js';
import type { PartialTree } from './partial.js';
import type { ApplyContext, PendingRef, Plan, PlanStep } from '../types.js';

export interface ApplyState {
  readonly plan: Plan;
  readonly ctx: ApplyContext;
  /** This composition's scratch directory (scratch.ts). */
  readonly scratch: string;
  /** The tree being assembled: `<scratch>/root`. */
  readonly root: string;
  /** The base, read again from the store (its rpmdb: owners, headers, triggers). */
  readonly base: BaseSet;
  /** Steps that put a package into the tree, in install order. */
  readonly installs: readonly PlanStep[];
  /** Base packages the new tree keeps. */
  readonly kept: readonly InstalledPackage[];
  /** download → the .rpm file of each installed package (none for one taken from the store). */
  readonly paths: Map<Nevra, string>;
  /** download → the metadata checksum (`type:hex`) each downloaded file was checked against. */
  readonly checksums: Map<Nevra, string>;
  /** verify → each package opened (headers and digests checked). */
  readonly rpms: Map<Nevra, RpmPackage>;
  /** import → each package's store commit. */
  readonly commits: Map<Nevra, Checksum>;
  /** import → the package refs left to the caller (ctx.deferRefs). */
  readonly refs: PendingRef[];
  /**
   * checkout → the new tree as an object-level union when no scratch tree is needed
   * (direct.ts); the later steps then edit it instead of `root`, which is never created.
   */
  union?: UnionDir;
  /**
   * checkout → when all the scriptlets would run is ldconfig, the part of the tree it needs,
   * checked out into `root`, and the union it came from (partial.ts).
   */
  partial?: PartialTree;
  /** rpmdb → the new tree's Packages rows (hnum, blob). */
  rpmdbRows?: HeaderRow[];
  /** commit → the new commit. */
  commit?: Checksum;
}

/** The value a step left in `map`, or a LAYER_INTERNAL error naming the broken invariant. */
export function need<K, V>(map: ReadonlyMap<K, V>, key: K, what: string): V {
  const v = map.get(key);
  if (v === undefined) throw new Error(`assertion failed: no ${what} for ${String(key)}`);
  return v;
}
