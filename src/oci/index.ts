/**
 * OCI images of OSTree commits: export (a commit → an image layout in ostree-ext's chunked
 * form: layer 0 the commit, then one layer per package chunk), import (an image → the same
 * commit, every blob and object verified), the layout and tar formats they use.
 * Registry transfer is skopeo's (src/engine/sources/oci.ts).
 */
export { openCommitReader, type CommitReader } from './commit-reader.js';
export { exportOci, MAX_CHUNKS, OBJECTS_DIR, OSTREE_LAYER, type ExportOciOptions, type ExportOciResult } from './export.js';
export { importImage, imageCommit, type ImportResult } from './import.js';
export { readImage, verifyBlob, MEDIA, type Descriptor, type Image, type ImageConfig, type Manifest } from './layout.js';
export { writeOciArchive } from './archive.js';
export { exportOciTo, type ExportedImage } from './destination.js';
