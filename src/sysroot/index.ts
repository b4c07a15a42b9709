/**
 * sysroot/: OSTree-like deployments on a directory (or `/`): deploy with /etc merge, atomic
 * boot-entry swap, rollback (entries only), booted/pending/rollback roles, retention and cleanup,
 * the one-transaction-at-a-time lock. See sysroot.ts for the layout and crash-safety contract.
 */
export { Sysroot, type DeployResult } from './sysroot.js';
export { formatOrigin, parseOrigin, sameRequest } from './origin.js';
export { diffEtc, writeMergedEtc, type EtcChanges } from './etc-merge.js';
export { SysrootLock, type LockHolder } from './lock.js';
export type { Deployment, Origin, SysrootStatus } from './types.js';
