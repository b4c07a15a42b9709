/**
 * The tar entries of an ostree-native ("encapsulated") container layer, in the form
 * ostree-ext's tar format v1 has (bootc-dev/bootc crates/ostree-ext/src/tar/export.rs, read
 * for facts; see README "OCI images"): an OSTree repository in bare-split-xattrs mode under
 * `sysroot/ostree/repo/` whose objects are the truth, and the rootfs paths as hardlinks to
 * those objects, so a container runtime sees the tree while bootc imports the objects.
 *
 * - repo structure: `sysroot`, `sysroot/ostree`, `sysroot/ostree/repo`, `…/objects` and its 256
 *   `00`..`ff` subdirectories, the standard repo subdirectories, then `config` saying
 *   `mode=bare-split-xattrs` (every layer carries it, as ostree-ext's do);
 * - a metadata object: `objects/XX/REST.{commit,commitmeta,dirtree,dirmeta}`, root 0644;
 * - a content object: first `objects/XX/REST.file-xattrs-link` (a regular file holding the
 *   `a(ayay)` xattrs GVariant: ostree-ext's importer needs it before every `.file`), then
 *   `objects/XX/REST.file` with the object's owner, mode and bytes (or symlink target) and its
 *   xattrs as pax `SCHILY.xattr.*` records (security.selinux left out, as ostree-ext does:
 *   container runtimes do not apply it), then one hardlink per tree path to the object. An
 *   empty regular file is written as itself, not as a hardlink (ostree-ext does so, so a
 *   container build changing it cannot change the object under /sysroot).
 * - tree paths: `usr/etc` is written as `etc` (what a container expects); the root is `./`.
 */
import { serialize } from '../store/gvariant/index.js';
import { encodeXattrs } from '../store/objects.js';
import { S_IFLNK, S_IFMT, type Checksum, type DirMeta, type FileMeta } from '../store/index.js';
import type { LayerBlobWriter } from './layout.js';
import { padding, tarHeader } from './tar.js';

export const REPO_DIR = 'sysroot/ostree/repo';
export const OBJECTS_DIR = `${REPO_DIR}/objects`;
/** The repository config every layer carries (ostree-ext's, byte for byte). */
export const REPO_CONFIG = '[core]\nrepo_version=1\nmode=bare-split-xattrs\n';
const REPO_SUBDIRS = ['extensions', 'refs', 'refs/heads', 'refs/mirrors', 'refs/remotes', 'state', 'tmp', 'tmp/cache'];
const SELINUX = 'security.selinux';

export type ObjectSuffix = 'commit' | 'commitmeta' | 'dirtree' | 'dirmeta' | 'file' | 'file-xattrs-link';

export function objectPath(csum: string, suffix: ObjectSuffix): string {
  return `${OBJECTS_DIR}/${csum.slice(0, 2)}/${csum.slice(2)}.${suffix}`;
}

/** A tree path as the tar stream names it: `usr/etc…` → `etc…`. */
export function tarPath(treePath: string): string {
  return treePath === 'usr/etc' || treePath.startsWith('usr/etc/') ? treePath.slice(4) : treePath;
}

/** Directories the repo structure writes (a tree's own /sysroot must not write them again). */
export function isStructureDir(path: string): boolean {
  return path === 'sysroot' || path === 'sysroot/ostree' || path === REPO_DIR || path.startsWith(`${REPO_DIR}/`);
}

const noSelinux = (x: FileMeta['xattrs']) => x.filter(([k]) => k !== SELINUX);

/** Writes the entries above into one layer blob. */
export class OstreeTarWriter {
  constructor(private readonly w: LayerBlobWriter) {}

  private async file(path: string, bytes: Uint8Array): Promise<void> {
    await this.w.write(tarHeader({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length }));
    await this.w.write(bytes);
    await this.w.write(padding(bytes.length));
  }

  async dir(path: string, m: Pick<DirMeta, 'mode' | 'uid' | 'gid' | 'xattrs'>): Promise<void> {
    await this.w.write(tarHeader({ path, type: 'dir', mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, size: 0, xattrs: noSelinux(m.xattrs) }));
  }

  async repoStructure(): Promise<void> {
    const root = { mode: 0o755, uid: 0, gid: 0, xattrs: [] };
    for (const d of ['sysroot', 'sysroot/ostree', REPO_DIR, OBJECTS_DIR]) await this.dir(d, root);
    for (let i = 0; i < 256; i++) await this.dir(`${OBJECTS_DIR}/${i.toString(16).padStart(2, '0')}`, root);
    for (const d of REPO_SUBDIRS) await this.dir(`${REPO_DIR}/${d}`, root);
    await this.file(`${REPO_DIR}/config`, Buffer.from(REPO_CONFIG));
  }

  async metaObject(csum: string, suffix: 'commit' | 'commitmeta' | 'dirtree' | 'dirmeta', bytes: Uint8Array): Promise<void> {
    await this.file(objectPath(csum, suffix), bytes);
  }

  /** A content object (xattrs link, object) and its tree paths (sorted by the caller). */
  async content(csum: Checksum, meta: FileMeta, content: Buffer, paths: string[]): Promise<void> {
    await this.file(objectPath(csum, 'file-xattrs-link'), serialize('a(ayay)', encodeXattrs(meta.xattrs)));
    const obj = objectPath(csum, 'file');
    const link = (meta.mode & S_IFMT) === S_IFLNK;
    const base = { mode: meta.mode & 0o7777, uid: meta.uid, gid: meta.gid };
    const xattrs = noSelinux(meta.xattrs);
    if (link) {
      await this.w.write(tarHeader({ ...base, path: obj, type: 'symlink', size: 0, linkname: meta.target ?? '', xattrs }));
    } else {
      await this.w.write(tarHeader({ ...base, path: obj, type: 'file', size: content.length, xattrs }));
      await this.w.write(content);
      await this.w.write(padding(content.length));
    }
    for (const p of paths) {
      const path = tarPath(p);
      if (!link && content.length === 0) await this.w.write(tarHeader({ ...base, path, type: 'file', size: 0, xattrs }));
      else await this.w.write(tarHeader({ ...base, path, type: 'hardlink', size: 0, linkname: obj }));
    }
  }
}
