/**
 * layer as a library: the same engine the `layer` command drives.
 *
 *   import { runTransaction, describeStatus, silentReport } from 'layer';
 *   const r = await runTransaction({
 *     sysroot: '/var/tmp/sysroot', command: 'my-tool', report: silentReport,
 *     change: { kind: 'install', packages: ['openssl'], localRpms: [] },
 *     options: { dryRun: true },
 *   });
 *   r.plan?.steps          // [{ action: 'install', reason: 'requested', name: 'openssl', ... }]
 *
 * Lower down: `plan(request, ctx)` → Plan (plain data) and `apply(plan, ctx)` → commit; the
 * Request value and its verbs; the Sysroot (deployments, origin, lock); the store.
 */
export { runDeploy } from './engine/index.js';
export { runTransaction, rollback, bootPending, cleanup, refreshMetadata, describeStatus, listPackages, diffPackages, diffDeployments, hostArch } from './engine/index.js';
export type { EngineRequest, EngineResult, EngineOptions, Change, PackageDiff, DeploymentView, StatusView } from './engine/index.js';
export { baseSourceOf, ostreeLocalSource, recipeSource, type BaseSource } from './engine/index.js';
export { runUpgradeChecks, describeCheck, type UpgradeChecks, type UpgradeCheckOptions, type CheckResult } from './engine/upgrade-checks.js';
export { buildReport, REPORT_SCHEMA, REPORT_VERSION, type ReportDoc, type ReportInput } from './nightly/report.js';
export { renderHtml } from './nightly/html.js';
export { writeReport } from './nightly/write.js';
export { ostreeRemoteSource, pullFromRemote, type PullOptions, type PullResult } from './engine/sources/index.js';
export { composeRepo, parseRecipe, readRecipe, type ComposeRepoRequest, type ComposeRepoResult } from './fleet/index.js';
export { ociSource, pullFromOci, parseOciSpec, type OciRef } from './engine/sources/index.js';
export { exportOci, importImage, openCommitReader, readImage, writeOciArchive, type ExportOciResult, type ImportResult, type Image } from './oci/index.js';
export { plan, apply, composeTree, cleanStaleScratch } from './compose/index.js';
export type {
  Plan, PlanStep, PlanContext, ApplyContext, ApplyResult, ComposeOptions, ProvidedRequest, StepAction, StepReason, PackageVerifier,
} from './compose/index.js';
export { addPackages, addLocalPackages, addRepoReplacements, removePackages, setBase, recipeRequest, commitRequest, sameRequest, type Request, type Recipe, type LocalPackage, type RepoReplacement } from './request/index.js';
export { Sysroot, formatOrigin, parseOrigin, type Deployment, type Origin, type SysrootStatus } from './sysroot/index.js';
export { Store, ArchiveRepo, exportCommit, updateSummary, type Checksum } from './store/index.js';
export { generateDelta, type DeltaResult, type GenerateOptions } from './store/delta/index.js';
export { LayerError, asLayerError, type ErrorCode } from './errors.js';
export { silentReport, EventReport, RecordingReport, CollectingReport, type Report, type LayerEvent, type EventData, type Progress } from './report.js';
export { compareEvr, formatEvr, formatNevra, parseEvr, parseNevra, nameOf, vercmp, type Nevra, type Evr, type NevraParts } from './nevra.js';
