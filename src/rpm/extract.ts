/**
 * Safe extraction of a payload into a directory.
 *
 * Everything is first written into a fresh temp directory created inside the target, so a
 * package that turns out bad (digest mismatch at the end, unsafe path, truncation) leaves the
 * target as it was. Only after the whole payload verified are the entries moved into place.
 * Nothing ever follows a symlink: not one from the payload (a path through one is refused, even
 * if it would stay inside) nor one already in the target (refused where a directory is needed;
 * replaced, never followed, where a file goes).
 *
 * Crash safety: a crash leaves at most a `.layer-extract-*` directory inside the target, which
 * the next extraction does not reuse; entries already moved stay. Locking: none; callers must
 * not extract two packages into the same directory concurrently.
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, link, lstat, lutimes, mkdir, mkdtemp, open, readdir, realpath, rename, rm, rmdir, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LayerError, withContext } from '../errors.js';
import type { PayloadEntry } from './payload.js';

export interface ExtractOptions {
  /**
   * Apply the header's owners (names resolved through `idMap`, default: the target's
   * etc/passwd and etc/group, then "root" = 0) and file capabilities. Needs root.
   */
  owners?: boolean;
  idMap?: { user(name: string): number | undefined; group(name: string): number | undefined };
}

const run = promisify(execFile);

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Creates `rel`'s parent directories under `root` (0755), refusing to pass through symlinks. */
async function ensureParents(root: string, rel: string, what: string, made: Set<string>): Promise<void> {
  const parts = rel.split('/');
  let cur = '';
  for (let i = 0; i < parts.length - 1; i++) {
    cur = cur ? `${cur}/${parts[i]}` : (parts[i] as string);
    if (made.has(cur)) continue;
    const st = await lstatOrNull(join(root, cur));
    if (!st) await mkdir(join(root, cur), { mode: 0o755 });
    else if (st.isSymbolicLink()) throw new LayerError('LAYER_UNSAFE_PATH', `${what}: payload path '${rel}' passes through symlink '${cur}'`);
    else if (!st.isDirectory()) throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload path '${rel}' needs '${cur}' to be a directory`);
    made.add(cur);
  }
}

async function readIds(file: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const { readFile } = await import('node:fs/promises');
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0] && /^\d+$/.test(f[2] ?? '')) out.set(f[0], Number(f[2]));
    }
  } catch { /* no file: only root resolves */ }
  return out;
}

export async function extractEntries(entries: AsyncIterable<PayloadEntry>, dir: string, what: string, opts: ExtractOptions = {}): Promise<void> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await lstat(root)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw withContext(`${what}: extraction target ${dir}`, err);
  }
  let idMap = opts.idMap;
  if (opts.owners && !idMap) {
    const users = await readIds(join(root, 'etc/passwd'));
    const groups = await readIds(join(root, 'etc/group'));
    idMap = { user: (n) => (n === 'root' ? 0 : users.get(n)), group: (n) => (n === 'root' ? 0 : groups.get(n)) };
  }
  const tmp = await mkdtemp(join(root, '.layer-extract-'));
  try {
    const made = new Set<string>();
    const dirs: PayloadEntry[] = [];
    const pendingLinks = new Map<string, PayloadEntry[]>();
    for await (const e of entries) {
      await ensureParents(tmp, e.path, what, made);
      const p = join(tmp, e.path);
      if (await lstatOrNull(p)) throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload has '${e.path}' twice`);
      switch (e.type) {
        case 'dir':
          await mkdir(p, { mode: 0o700 });
          made.add(e.path);
          dirs.push(e);
          continue;
        case 'symlink':
          await symlink(e.linkTarget ?? '', p);
          break;
        case 'file':
          if (e.hardlinkTo) {
            const list = pendingLinks.get(e.hardlinkTo) ?? [];
            list.push(e);
            pendingLinks.set(e.hardlinkTo, list);
            continue;
          }
          await writeContent(p, e.content);
          break;
        case 'fifo':
          await run('mknod', [p, 'p']);
          break;
        case 'char':
        case 'block': {
          const rdev = e.file.rdev;
          await run('mknod', [p, e.type === 'char' ? 'c' : 'b', String((rdev >> 8) & 0xfff), String((rdev & 0xff) | ((rdev >> 12) & 0xfff00))]);
          break;
        }
        case 'socket':
          continue; // cannot be created from a payload; rpm's fsm makes them with mknod, we leave them out.
      }
      await applyMeta(p, e, opts.owners === true, idMap, what);
      for (const m of pendingLinks.get(e.path) ?? []) {
        await ensureParents(tmp, m.path, what, made);
        await link(p, join(tmp, m.path));
      }
      pendingLinks.delete(e.path);
    }
    if (pendingLinks.size) throw new LayerError('LAYER_RPM_FORMAT', `${what}: hardlink set without data for '${[...pendingLinks.keys()][0]}'`);
    await merge(tmp, root, '', what);
    // Directory modes last (deepest first) so read-only directories did not block writing.
    for (const d of dirs.sort((a, b) => b.path.length - a.path.length)) await applyMeta(join(root, d.path), d, opts.owners === true, idMap, what);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** 'wx' = O_CREAT|O_EXCL: never opens (or follows) anything that already exists. */
async function writeContent(p: string, content: AsyncIterable<Uint8Array> | undefined): Promise<void> {
  const fh = await open(p, 'wx', 0o600);
  try {
    if (content) {
      for await (const chunk of content) {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
}

async function applyMeta(p: string, e: PayloadEntry, owners: boolean, idMap: ExtractOptions['idMap'], what: string): Promise<void> {
  if (owners) {
    const uid = idMap?.user(e.user);
    const gid = idMap?.group(e.group);
    if (uid === undefined || gid === undefined) throw new LayerError('LAYER_RPM_FORMAT', `${what}: cannot resolve owner ${e.user}:${e.group} of '${e.path}'`);
    await lchown(p, uid, gid);
  }
  if (e.type === 'symlink') {
    await lutimes(p, e.mtime, e.mtime);
    return;
  }
  // chown clears setuid bits and capabilities, so mode and caps come after it.
  await chmod(p, e.mode & 0o7777);
  if (owners && e.caps) {
    const { setAttribute } = await import('fs-xattr');
    await setAttribute(p, 'security.capability', Buffer.from(e.caps));
  }
  await utimes(p, e.mtime, e.mtime);
}

/** Moves `src/rel` into `dst/rel`, merging directories; never follows a symlink in `dst`. */
async function merge(src: string, dst: string, rel: string, what: string): Promise<void> {
  for (const name of await readdir(join(src, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const s = join(src, r);
    const d = join(dst, r);
    const [ss, ds] = [await lstat(s), await lstatOrNull(d)];
    if (!ds) {
      await rename(s, d);
    } else if (ss.isDirectory()) {
      if (ds.isSymbolicLink()) throw new LayerError('LAYER_UNSAFE_PATH', `${what}: '${r}' is a symlink in the target; refusing to write through it`);
      if (!ds.isDirectory()) throw new LayerError('LAYER_FILE_CONFLICT', `${what}: '${r}' is a directory in the package but not in the target`);
      await merge(src, dst, r, what);
      await rmdir(s);
    } else {
      if (ds.isDirectory()) throw new LayerError('LAYER_FILE_CONFLICT', `${what}: '${r}' is a directory in the target but not in the package`);
      await rename(s, d); // replaces the entry itself, even a symlink, without following it
    }
  }
}
