/**
 * compose/: a request → a plan → a committed root tree.
 *
 *   const p = await plan(request, { store, repos, arch, cacheDir, options: {}, report });
 *   p.steps                // what will happen, as records (action, reason, versions, sizes)
 *   const { commit } = await apply(p, { store, repos, cacheDir, report });
 *
 * `composeTree(req)` does both in one call. Errors: LAYER_NO_MATCH, LAYER_UNSOLVABLE,
 * LAYER_BASE_LOCKED (names the base package and the requested item forcing the change),
 * LAYER_FILE_CONFLICT (path and both owners), LAYER_SCRIPTLET (package, scriptlet, output),
 * LAYER_REPO_* from downloads. On any failure the store only holds unreferenced objects; the
 * base commit is untouched.
 *
 * Also here: the scriptlet machinery (runTransactionScriptlets, runScriptlet, sandbox),
 * account resolution, and scratch directories (scratch.ts).
 */
export { composeTree } from './compose.js';
export { plan, inputDigestOf, COMPOSE_VERSION, INSTALLING, LOCAL_REPO } from './plan.js';
export { apply } from './apply/index.js';
export { baseFromRows, readBase, withBase, type BaseSet } from './base.js';
export { baseLockedMessage, BASE_LOCKED_HINT } from './solve.js';
export { cleanStaleScratch, createScratch, mountsUnder, releaseAllScratch, scratchRemoved, type Scratch } from './scratch.js';
export {
  COMPOSE_KEYS, type ApplyContext, type ApplyResult, type ApplyStepName, type ComposeOptions, type ComposeRequest, type ComposeResult,
  type PackageVerifier, type PendingRef, type Plan, type PlanContext, type PlanLocal, type PlanRepo, type PlanStep, type ProvidedRequest, type StepAction, type StepReason,
} from './types.js';
export { runTransactionScriptlets, type TransactionPackage, type TransactionOptions, type TransactionResult, type OwnedFile } from './scriptlets-transaction.js';
export { runScriptlet, DEFAULT_LUA_SKIPS, type Scriptlet, type ScriptletOutcome, type LuaSkip } from './scriptlets.js';
export { runInSandbox, type SandboxRun, type SandboxResult } from './sandbox.js';
export { resolveOwnership, readAccounts, type Ownership } from './users.js';
