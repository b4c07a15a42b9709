// MOVED: the --from-ostree base is now src/engine/sources/ostree-local.ts (edit it there).
// This re-export is removed when the redesign lands.
export { pullFromOstree } from './sources/ostree-local.js';
