/**
 * engine/: the single driver (request → solve → fetch/import → compose → deploy) every `layer`
 * command uses, plus the read-only views (status, db list/diff) and the non-composing verbs.
 *
 * - `runTransaction(req)`: init / install / uninstall; returns an EngineResult (outcome
 *   `deployed`, `unchanged`, `dry-run`, `downloaded`, `aborted`) with the transaction steps, package diff
 *   and the new deployment. Errors are LayerErrors naming package, repo, file or sysroot.
 * - `rollback`, `bootPending`, `cleanup`, `refreshMetadata`.
 * - `describeStatus(sysroot)`: deployments with commit version/timestamp for `status`.
 * - `listPackages(tree)`, `diffPackages(a, b)`, `diffDeployments(a, b)`.
 * - `runInDeployment(path, argv)` (`layer run`), `runHealthChecks(path)` (health checks; what
 *   `upgrade --health-check` calls), `explainPackage` (`layer why`), lockfiles (lockfile.ts).
 */
export { runTransaction } from './engine.js';
export { runUpgrade, type UpgradeRequest, type UpgradeResult } from './upgrade.js';
export { runDeploy } from './recipe-deploy.js';
export type { AdvisorySelection } from './advisory-filter.js';
export { readCachedUpdate, type CachedUpdate } from './cached-update.js';
export { rollback, bootPending, cleanup } from './admin.js';
export { refreshMetadata } from './refresh.js';
export { describeStatus, type DeploymentView, type StatusView } from './status.js';
export { listPackages, diffPackages, diffDeployments, type ListedPackage } from './db.js';
export { hostArch } from './repos.js';
export { runInDeployment, selectDeployment, sharedVarOf, type RunOptions, type RunResult } from './run.js';
export {
  runHealthChecks, listHealthChecks, healthError, describeFailure, rollbackIfUnhealthy, HEALTH_DIR,
  type HealthCheck, type HealthCheckResult, type HealthOptions, type HealthReport,
} from './health.js';
export { explainPackage, type WhyAnswer, type WhyStep } from './why.js';
export { readLockfile, writeLockfile, type Lockfile, type LockedPackage, type LockedRepo } from './lockfile.js';
export type { Plan, PlanStep, ProvidedRequest } from '../compose/index.js';
export { baseSourceOf, ostreeLocalSource, recipeSource, type BaseSource } from './sources/index.js';
export type * from './types.js';
