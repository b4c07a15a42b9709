/**
 * Repository upkeep: `diff` between commits, `fsck` (re-hash every object, find missing ones)
 * and `prune` (delete what no kept ref reaches).
 *
 * Locking: prune deletes objects and stale temp files; it must not run while another process
 * writes the same repository (the engine holds the sysroot lock for both).
 */
import { lstatSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { recomputeContent } from './content.js';
import { PREFIX_KEY, prefixOf } from './tree-prefix.js';
import { decodeCommit, decodeDirMeta, decodeDirTree, sha256, type Checksum, type ObjectType } from './objects.js';
import type { Repo } from './repo.js';
import { readDirTree, walkRaw } from './tree.js';

export interface TreeDiff {
  /** Paths (with a leading '/') present only in the second tree, directories and their contents. */
  added: string[];
  removed: string[];
  /** Same path, different content checksum or directory metadata. */
  modified: string[];
}

export function diffTrees(repo: Repo, a: [Checksum, Checksum], b: [Checksum, Checksum]): TreeDiff {
  const out: TreeDiff = { added: [], removed: [], modified: [] };
  const all = (root: [Checksum, Checksum], prefix: string, into: string[]): void => {
    for (const n of walkRaw(repo, root[0], root[1], prefix)) into.push(`/${n.path}`);
  };
  const visit = (ta: Checksum, tb: Checksum, prefix: string): void => {
    if (ta === tb) return;
    const A = readDirTree(repo, ta);
    const B = readDirTree(repo, tb);
    const p = (name: string) => (prefix === '' ? name : `${prefix}/${name}`);
    const bFiles = new Map(B.files);
    const bDirs = new Map(B.dirs.map(([n, t, m]) => [n, [t, m] as [Checksum, Checksum]]));
    const aFiles = new Map(A.files);
    const aDirs = new Map(A.dirs.map(([n, t, m]) => [n, [t, m] as [Checksum, Checksum]]));
    for (const [name, csum] of A.files) {
      const other = bFiles.get(name);
      if (other === undefined) out.removed.push(`/${p(name)}`);
      else if (other !== csum) out.modified.push(`/${p(name)}`);
    }
    for (const [name, root] of aDirs) {
      const other = bDirs.get(name);
      if (!other) all(root, p(name), out.removed);
      else {
        if (other[1] !== root[1]) out.modified.push(`/${p(name)}`);
        visit(root[0], other[0], p(name));
      }
    }
    for (const [name] of B.files) if (!aFiles.has(name)) out.added.push(`/${p(name)}`);
    for (const [name, root] of bDirs) if (!aDirs.has(name)) all(root, p(name), out.added);
  };
  visit(a[0], b[0], '');
  if (a[1] !== b[1]) out.modified.push('/');
  for (const list of [out.added, out.removed, out.modified]) list.sort();
  return out;
}

export interface FsckProblem {
  kind: 'corrupt' | 'invalid' | 'missing';
  type: ObjectType;
  checksum: Checksum;
  detail: string;
}

export interface FsckResult {
  /** Loose objects re-hashed. */
  objects: number;
  problems: FsckProblem[];
}

const TYPES: Record<string, ObjectType> = { file: 'file', dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit' };

/** Every loose object as (checksum, type). */
export function* listObjects(repo: Repo): Generator<[Checksum, ObjectType]> {
  const objects = join(repo.path, 'objects');
  for (const xx of readdirSync(objects)) {
    if (!/^[0-9a-f]{2}$/.test(xx)) continue;
    for (const name of readdirSync(join(objects, xx))) {
      const dot = name.indexOf('.');
      const type = TYPES[name.slice(dot + 1)];
      if (dot !== 62 || !type) continue;
      yield [(xx + name.slice(0, dot)) as Checksum, type];
    }
  }
}

function checkObject(repo: Repo, csum: Checksum, type: ObjectType): FsckProblem | undefined {
  try {
    if (type === 'file') {
      const actual = recomputeContent(repo, csum);
      return actual === csum ? undefined : { kind: 'corrupt', type, checksum: csum, detail: `content hashes to ${actual}` };
    }
    const bytes = readFileSync(repo.objectPath(csum, type));
    const actual = sha256(bytes);
    if (actual !== csum) return { kind: 'corrupt', type, checksum: csum, detail: `bytes hash to ${actual}` };
    if (type === 'commit') decodeCommit(bytes);
    else if (type === 'dirtree') decodeDirTree(bytes);
    else decodeDirMeta(bytes);
    return undefined;
  } catch (err) {
    return { kind: 'invalid', type, checksum: csum, detail: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Objects reachable from `commits` following parents up to `depth` (-1: all history present).
 * Missing objects are reported through `onMissing` instead of failing.
 */
export function reachable(repo: Repo, commits: Iterable<Checksum>, depth = -1, onMissing?: (p: FsckProblem) => void): Set<string> {
  const seen = new Set<string>();
  const missing = (type: ObjectType, checksum: Checksum) => onMissing?.({ kind: 'missing', type, checksum, detail: `${type} ${checksum} is referenced but absent` });
  const tree = (t: Checksum, m: Checksum): void => {
    if (!seen.has(`${m}.dirmeta`)) {
      seen.add(`${m}.dirmeta`);
      if (!repo.hasObject(m, 'dirmeta')) missing('dirmeta', m);
    }
    if (seen.has(`${t}.dirtree`)) return;
    seen.add(`${t}.dirtree`);
    if (!repo.hasObject(t, 'dirtree')) return missing('dirtree', t);
    let dt;
    try {
      // Normal form is the object scan's to check (checkObject); here only the links count.
      dt = decodeDirTree(repo.readMetadata('dirtree', t), 'store');
    } catch {
      return; // reported by the object scan
    }
    for (const [, c] of dt.files) {
      if (seen.has(`${c}.file`)) continue;
      seen.add(`${c}.file`);
      if (!repo.hasObject(c, 'file')) missing('file', c);
    }
    for (const [, st, sm] of dt.dirs) tree(st, sm);
  };
  for (const start of commits) {
    let c: Checksum | undefined = start;
    for (let d = 0; c && (depth < 0 || d <= depth); d++) {
      if (seen.has(`${c}.commit`)) break;
      seen.add(`${c}.commit`);
      if (!repo.hasObject(c, 'commit')) {
        // Only the starting commit must exist: history may be cut (formats.md §2.6).
        if (c === start) missing('commit', c);
        break;
      }
      let commit;
      try {
        commit = decodeCommit(repo.readMetadata('commit', c), 'store');
      } catch {
        break;
      }
      tree(commit.rootTree, commit.rootMeta);
      // A commit rooted below `/`: the dirmetas of the directories above (tree-prefix.ts).
      let levels: ReturnType<typeof prefixOf> = [];
      try {
        levels = prefixOf(commit);
      } catch {
        onMissing?.({ kind: 'invalid', type: 'commit', checksum: c, detail: `commit ${c}: malformed ${PREFIX_KEY} metadata` });
      }
      for (const { meta } of levels) {
        if (seen.has(`${meta}.dirmeta`)) continue;
        seen.add(`${meta}.dirmeta`);
        if (!repo.hasObject(meta, 'dirmeta')) missing('dirmeta', meta);
      }
      c = commit.parent;
    }
  }
  return seen;
}

/** Re-hash every loose object and check that everything the refs reach is present. */
export function fsckRepo(repo: Repo): FsckResult {
  const problems: FsckProblem[] = [];
  let objects = 0;
  for (const [csum, type] of listObjects(repo)) {
    objects++;
    const p = checkObject(repo, csum, type);
    if (p) problems.push(p);
  }
  reachable(repo, repo.listRefs().values(), -1, (p) => problems.push(p));
  return { objects, problems };
}

export interface PruneOptions {
  /**
   * Refs whose history is kept. Default: every ref. When given, all other refs are deleted
   * first, so no ref is left pointing at pruned objects.
   */
  keepRefs?: string[];
  /** Parent commits to keep behind each ref: -1 (default) keeps all history. */
  depth?: number;
}

export interface PruneResult {
  removedObjects: number;
  removedRefs: string[];
  freedBytes: number;
}

export function pruneRepo(repo: Repo, opts: PruneOptions = {}): PruneResult {
  const refs = repo.listRefs();
  const keep = opts.keepRefs ?? [...refs.keys()];
  for (const r of keep) {
    if (!refs.has(r)) throw new LayerError('LAYER_STORE', `prune: ref '${r}' does not exist in ${repo.path}`);
  }
  const removedRefs = [...refs.keys()].filter((r) => !keep.includes(r));
  for (const r of removedRefs) repo.setRef(r, null);
  const live = reachable(repo, keep.map((r) => refs.get(r) as Checksum), opts.depth ?? -1);
  let removedObjects = 0;
  let freedBytes = 0;
  // Commits go first: a prune killed midway must not leave a commit whose dirtrees are gone
  // (ostree fsck: "No such metadata object"); orphaned trees and files are harmless.
  const dead = [...listObjects(repo)].filter(([csum, type]) => !live.has(`${csum}.${type}`));
  dead.sort((a, b) => Number(b[1] === 'commit') - Number(a[1] === 'commit'));
  for (const [csum, type] of dead) {
    const path = repo.objectPath(csum, type);
    const st = lstatSync(path);
    if (st.nlink === 1) freedBytes += st.size;
    unlinkSync(path);
    removedObjects++;
  }
  // Leftovers of interrupted writes (see Crash safety in repo.ts).
  const tmp = join(repo.path, 'tmp');
  for (const name of readdirSync(tmp)) rmSync(join(tmp, name), { recursive: true, force: true });
  return { removedObjects, removedRefs, freedBytes };
}
