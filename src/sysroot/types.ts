/**
 * Plain data of the sysroot stage: deployments and their origins. Everything here is a value;
 * the Sysroot class (sysroot.ts) reads and writes them.
 */
import type { Checksum } from '../store/index.js';

/**
 * What a deployment was asked to be, as rpm-ostree's `.origin` records it: the base plus the
 * request, never a history. Every change is recomposed from `baseCommit` with these inputs.
 */
export interface Origin {
  /** The base as the user named it (a ref, `REPO:REF` for --from-ostree, or a checksum). */
  baseRef: string;
  /** The base commit the layered packages go on top of. */
  baseCommit: Checksum;
  /** Package specs the user asked to layer (names, provides, file paths), in request order. */
  requested: string[];
  /** Local RPMs, by content: `sha256` of the file and the NEVRA it carried. */
  requestedLocal: { sha256: string; nevra: string }[];
  /** Base packages removed from the tree (by name). */
  removed: string[];
  /** layer's own records of the composed result (not inputs): the compose input digest and layered NEVRAs. */
  inputDigest?: string;
  layered?: string[];
  /** Specs that were requested but the base already provides (`--allow-inactive`). */
  inactive?: string[];
}

export interface Deployment {
  osname: string;
  checksum: Checksum;
  serial: number;
  /** `<checksum>.<serial>`: the deployment directory's name. */
  id: string;
  /** Absolute path of the deployment's root directory. */
  path: string;
  origin: Origin;
  /** Position in boot order; 0 is the default (what the next boot starts). */
  index: number;
  booted: boolean;
}

/** The deployments of a sysroot and their roles, as `status` shows them. */
export interface SysrootStatus {
  path: string;
  /** Boot order; index 0 is the default. */
  deployments: Deployment[];
  booted: Deployment | undefined;
  /** The default deployment when it is not the booted one (applied at the next boot). */
  pending: Deployment | undefined;
  /** The deployment `rollback` would make the default. */
  rollback: Deployment | undefined;
}
