/**
 * The object store stage: an OSTree repository (bare / bare-user) written and read by layer,
 * byte-compatible with ostree 2022.7 (formats.md §1–§2).
 *
 * Contract for other stages (compose, sysroot):
 * - `Store.init(path, { mode })` / `Store.open(path)`; mode defaults to `bare` as root, else
 *   `bare-user`. Revisions (`rev`) are ref names or 64-hex commit checksums.
 * - The store is pure OSTree: RPM packages become commits in src/import (importRpm).
 * - Composing: `checkoutUnion([{ commit, owner }], dir, { replaceFiles })` throws
 *   `FileConflictError` (code LAYER_FILE_CONFLICT, `.conflict = { path, owners }`) before
 *   writing anything; `commitTree(dir, { parent, ref, subject, metadata, timestamp })` re-uses
 *   checksums of files hardlinked from the store. Without a checkout: `unionOf(commits)` (a
 *   UnionDir, undefined on a conflict), edited, then `commitUnion` gives the same commit.
 * - Upkeep: `fsck()` → `{ objects, problems[] }` records; `prune({ keepRefs, depth })`.
 */
export { Store, commitMetadata, type CommitInfo, type InitOptions } from './store.js';
export { MutableTree, type CommitOptions } from './commit-tree.js';
export { UnionDir } from './union.js';
export { FileConflictError, type FileConflict, type CheckoutOptions, type UnionOptions } from './checkout.js';
export type { TreeDiff, FsckProblem, FsckResult, PruneOptions, PruneResult } from './maintenance.js';
export type { RepoMode, RepoOptions } from './repo.js';
export { isValidRef } from './repo.js';
export { ArchiveRepo, decodeFilez, encodeFilez, exportCommit, filezChecksum, type ArchiveObjectType, type ArchiveOptions, type ExportResult } from './archive.js';
export { decodeSummary, encodeSummary, updateSummary, type Summary, type SummaryRef } from './summary.js';
export type { TreeEntry } from './tree.js';
export {
  contentChecksum, isChecksum, S_IFDIR, S_IFLNK, S_IFREG, S_IFMT, decodeCommit, decodeDirMeta, decodeDirTree, sha256,
  type Checksum, type Commit, type DirMeta, type FileMeta, type Xattrs,
} from './objects.js';
export { V, Variant, unbox, type GValue } from './gvariant/index.js';
