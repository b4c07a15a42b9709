/**
 * compose/: base commit + layered packages → a complete committed root tree.
 *
 *   const result = await composeTree({ store, base: { commit }, install: ['openssl'], localRpms: [],
 *     remove: [], repos, arch: 'x86_64', cacheDir, options: {}, report });
 *   result.commit          // the new commit (parent = base), absent for dryRun/downloadOnly
 *   result.transaction     // solver steps with reasons and sizes
 *   result.inputDigest     // pass back as `previous` to skip an unchanged rebuild
 *
 * Errors: LAYER_NO_MATCH, LAYER_UNSOLVABLE, LAYER_BASE_LOCKED (names the base package and the
 * requested item forcing the change), LAYER_FILE_CONFLICT (path and both owners),
 * LAYER_SCRIPTLET (package, scriptlet, output), LAYER_REPO_* from downloads. On any failure the
 * store only holds unreferenced objects; the base commit is untouched.
 *
 * Also here: the scriptlet machinery (runTransactionScriptlets, runScriptlet, sandbox) and
 * account resolution used by the compose.
 */
export { composeTree } from './compose.js';
export { COMPOSE_KEYS, type ComposeRequest, type ComposePlan, type ComposeResult, type ComposeOptions, type ComposeStep, type ComposeTimings } from './types.js';
export { COMPOSE_VERSION } from './digest.js';
export { runTransactionScriptlets, type TransactionPackage, type TransactionOptions, type TransactionResult, type OwnedFile } from './scriptlets-transaction.js';
export { runScriptlet, DEFAULT_LUA_SKIPS, type Scriptlet, type ScriptletOutcome, type LuaSkip } from './scriptlets.js';
export { runInSandbox, type SandboxRun, type SandboxResult } from './sandbox.js';
export { resolveOwnership, readAccounts, type Ownership } from './users.js';
