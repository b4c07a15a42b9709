/** Small durable-write helpers for the sysroot (temp file + fsync + rename, directory fsync). */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { LayerError } from '../errors.js';

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

/** syncfs(2) on the filesystem holding `path` (coreutils `sync -f`): makes a whole checkout durable at once. */
export function syncFilesystem(path: string): void {
  try {
    execFileSync('sync', ['-f', path], { stdio: 'ignore' });
  } catch (err) {
    throw new LayerError('LAYER_SYSROOT', `syncing ${path} failed`, { cause: err, hint: 'coreutils `sync` must be on PATH' });
  }
}
