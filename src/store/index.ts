/**
 * The object store stage: an OSTree repository (bare / bare-user) written and read by layer.
 * See store.ts for the verbs, formats.md §1–§2 for the formats implemented.
 */
export { Store, commitMetadata, type CommitInfo, type InitOptions } from './store.js';
export { MutableTree, type CommitOptions } from './commit-tree.js';
export { FileConflictError, type FileConflict, type CheckoutOptions, type UnionOptions } from './checkout.js';
export type { TreeDiff, FsckProblem, FsckResult, PruneOptions, PruneResult } from './maintenance.js';
export type { RepoMode, RepoOptions } from './repo.js';
export { isValidRef } from './repo.js';
export type { TreeEntry } from './tree.js';
export {
  contentChecksum, isChecksum, S_IFDIR, S_IFLNK, S_IFREG, S_IFMT,
  type Checksum, type Commit, type DirMeta, type FileMeta, type Xattrs,
} from './objects.js';
export { V, Variant, unbox, type GValue } from './gvariant/index.js';
export { importRpm, PKG_KEYS, IMPORT_VERSION, type ImportOptions, type ImportResult } from './import-rpm.js';
export { packageRef, placeEntry, type Placement } from './rpm-paths.js';
