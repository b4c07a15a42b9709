/**
 * Plain data of the sysroot stage: deployments and their origins. Everything here is a value;
 * the Sysroot class (sysroot.ts) reads and writes them.
 */
import type { Request } from '../request/index.js';
import type { Checksum } from '../store/index.js';

/**
 * What a deployment was asked to be, as rpm-ostree's `.origin` records it: the Request (the
 * base plus what is layered on it, src/request), never a history, plus layer's records of the
 * composed result. Every change is recomposed from `baseCommit` with the request.
 */
export interface Origin extends Request {
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
  /** Kept by retention and `cleanup -r/-p` (`ostree admin pin`; see pin.ts). */
  pinned: boolean;
  /** Written by an upgrade whose checks failed, never made the default (held.ts). */
  held?: boolean;
  /** The kernel its boot entry starts (src/boot), absent for a tree without one. */
  kernel?: { kver: string; bootcsum: string };
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
