/** Small durable-write helpers for the sysroot (temp file + fsync + rename, directory fsync). */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncFilesystemOf } from '../store/repo.js';

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Crash safety: readers see the old or the new content, never a torn file. */
export function writeFileDurable(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/**
 * writeFileDurable without its two fsyncs, for a file a syncfs (below) makes durable before
 * anything refers to it: temp file + rename, so it is still never seen torn.
 */
export function writeFileBeforeSync(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, path);
}

/** syncfs(2) on the filesystem holding `path`: the store's, with the sysroot's error code. */
export function syncFilesystem(path: string): void {
  syncFilesystemOf(path, 'LAYER_SYSROOT');
}
