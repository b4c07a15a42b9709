/**
 * Reading one commit's objects from any OSTree repository layer writes: bare / bare-user (a
 * sysroot's store, compose's work store) or archive-z2 (what `layer compose` publishes). The
 * OCI exporter walks a commit through this and does not care which mode the repo has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { loadContentMeta } from '../store/content.js';
import { ArchiveRepo, Store, decodeFilez, isChecksum, type Checksum, type FileMeta } from '../store/index.js';

export type MetaObject = 'commit' | 'dirtree' | 'dirmeta';

export interface CommitReader {
  readonly path: string;
  /** A ref or checksum → the commit checksum. */
  resolve(rev: string): Checksum;
  readMeta(type: MetaObject, csum: Checksum): Buffer;
  /** The commit's detached metadata (`.commitmeta`: signatures), if it has any. */
  readCommitMeta(csum: Checksum): Buffer | undefined;
  /** A content object: its metadata and bytes (empty for a symlink). */
  readContent(csum: Checksum): { meta: FileMeta; content: Buffer };
}

/** Open the repository at `path`, whichever mode it has. */
export function openCommitReader(path: string): CommitReader {
  let config: string;
  try {
    config = readFileSync(join(path, 'config'), 'utf8');
  } catch (err) {
    throw new LayerError('LAYER_STORE', `${path} is not an OSTree repository (no readable config)`, { cause: err });
  }
  const mode = /^\s*mode\s*=\s*(\S+)\s*$/m.exec(config)?.[1];
  return mode === 'archive-z2' || mode === 'archive' ? archiveReader(ArchiveRepo.open(path)) : storeReader(Store.open(path));
}

function noRef(path: string, rev: string): LayerError {
  return new LayerError('LAYER_STORE', `no ref '${rev}' in ${path}`, { hint: 'give a ref of the repo or a commit checksum' });
}

function archiveReader(repo: ArchiveRepo): CommitReader {
  return {
    path: repo.path,
    resolve(rev) {
      const c = isChecksum(rev) ? rev : repo.readRef(rev);
      if (!c) throw noRef(repo.path, rev);
      return c;
    },
    readMeta: (type, csum) => repo.readObject(csum, type),
    readCommitMeta: (csum) => (repo.hasObject(csum, 'commitmeta') ? repo.readObject(csum, 'commitmeta') : undefined),
    readContent: (csum) => decodeFilez(repo.readObject(csum, 'file')),
  };
}

function storeReader(store: Store): CommitReader {
  return {
    path: store.path,
    resolve(rev) {
      if (isChecksum(rev)) return rev;
      const c = store.readRef(rev);
      if (!c) throw noRef(store.path, rev);
      return c;
    },
    readMeta: (type, csum) => store.readMetadata(type, csum),
    readCommitMeta(csum) {
      try {
        return readFileSync(join(store.path, 'objects', csum.slice(0, 2), `${csum.slice(2)}.commitmeta`));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new LayerError('LAYER_STORE', `cannot read the commitmeta of ${csum} in ${store.path}`, { cause: err });
      }
    },
    readContent(csum) {
      const m = loadContentMeta(store, csum);
      const meta: FileMeta = { uid: m.uid, gid: m.gid, mode: m.mode, xattrs: m.xattrs };
      if (m.target !== undefined) return { meta: { ...meta, target: m.target }, content: Buffer.alloc(0) };
      return { meta, content: readFileSync(store.objectPath(csum, 'file')) };
    },
  };
}
