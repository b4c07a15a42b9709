/**
 * import/: an RPM package → one commit in the store, under `layer/pkg/<name>/<evr>.<arch>`
 * (`packageRef`), rooted at the package's deepest shared directory (store/tree-prefix.ts; the
 * store reads it back as the whole tree). Metadata keys in `PKG_KEYS`: NEVRA, name, evr, arch, header blob (`ay`, no
 * magic: what the rpmdb stores), header SHA-256, non-root owners `a(sss)` (tree path, user,
 * group) for compose to resolve, skipped device nodes. Objects are root-owned; `/var`, `/run`,
 * `/tmp` content becomes `usr/lib/tmpfiles.d/pkg-<name>.conf` (+ `usr/share/factory/…`
 * copies); `/etc` is under `usr/etc`; files under `/opt` and `/usr/local` are rejected
 * (rpm-paths.ts). Kept apart from src/store so the store is OSTree alone.
 */
export { importRpm, PKG_KEYS, IMPORT_VERSION, type ImportOptions, type ImportResult } from './import-rpm.js';
export { packageRef, placeEntry, type Placement } from './rpm-paths.js';
