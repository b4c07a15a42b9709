/**
 * sysroot/: OSTree-like deployments on a directory (or `/`): deploy with /etc merge, atomic
 * boot-entry swap, rollback (entries only), booted/pending/rollback roles, retention and cleanup,
 * pins, the one-transaction-at-a-time lock with its queue of waiting writers, the sysroot's
 * settings. See sysroot.ts for the layout and crash-safety contract.
 */
export { Sysroot, type DeployRef, type DeployResult } from './sysroot.js';
export { formatOrigin, parseOrigin } from './origin.js';
export { diffEtc, writeMergedEtc, type EtcChanges } from './etc-merge.js';
export { SysrootLock, formatLockWait, type LockHolder, type LockWaitHolder, type LockWaitOptions } from './lock.js';
export { CONFIG_DEFAULTS, CONFIG_KEYS, checkKey as checkConfigKey, configPath, readConfig, setConfig, type SysrootConfig } from './config.js';
export type { Deployment, Origin, SysrootStatus } from './types.js';
