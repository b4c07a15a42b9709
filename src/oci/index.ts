/**
 * OCI images of OSTree commits: export (a commit → an image layout split into layers by
 * package), import (an image → the same commit, every blob verified), the layout and tar
 * formats they use. Registry transfer is skopeo's (src/engine/sources/oci.ts).
 */
export { openCommitReader, type CommitReader } from './commit-reader.js';
export { exportOci, MAX_LAYERS, OBJECTS_DIR, type ExportOciOptions, type ExportOciResult } from './export.js';
export { importImage, imageCommit, type ImportResult } from './import.js';
export { readImage, verifyBlob, MEDIA, type Descriptor, type Image, type ImageConfig, type Manifest } from './layout.js';
export { writeOciArchive } from './archive.js';
