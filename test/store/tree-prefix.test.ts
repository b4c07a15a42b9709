/**
 * Commits rooted below `/` (src/store/tree-prefix.ts): the directories above a tree's deepest
 * single-child directory are named in the commit metadata instead of written as dirtrees. Read
 * through the Store they are the whole tree; written into another commit they are stored first;
 * real `ostree` checks the commits; prune and fsck keep and check the dirmetas they name.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MutableTree, S_IFDIR, S_IFREG, Store, V } from '../../src/store/index.js';
import { encodeDirMeta, sha256 } from '../../src/store/objects.js';
import { ostree, removeWorkDirs, requireTool, snapshot, work } from './helpers.js';

afterAll(removeWorkDirs);

const FILE = { uid: 0, gid: 0, mode: S_IFREG | 0o644, xattrs: [] as [string, Uint8Array][] };

/** A package-like tree: three files under usr/share/pkg, usr/share with an unusual mode. */
async function pkgTree(store: Store, name = 'pkg'): Promise<MutableTree> {
  const t = new MutableTree();
  for (const f of ['a', 'b', 'c']) t.setFile(`usr/share/${name}/${f}`, await store.writeContent(FILE, Buffer.from(`${name} ${f}\n`)));
  t.ensureDir('usr/share').meta = { uid: 0, gid: 0, mode: S_IFDIR | 0o711, xattrs: [] };
  return t;
}

function dirtreeFiles(repo: string): number {
  let n = 0;
  for (const xx of readdirSync(join(repo, 'objects'))) n += readdirSync(join(repo, 'objects', xx)).filter((f) => f.endsWith('.dirtree')).length;
  return n;
}

describe('commits rooted below /', () => {
  it('write one dirtree for usr/share/pkg, and read back as the same whole tree', async () => {
    requireTool('ostree');
    const w = work('prefix');
    const full = Store.init(join(w, 'full'), { fsync: false });
    const below = Store.init(join(w, 'below'), { fsync: false });
    const meta = { subject: 'pkg', timestamp: 1n, metadata: [['x.key', V.string('v')]] as [string, ReturnType<typeof V.string>][] };
    const a = await full.commitMutableTree(await pkgTree(full), meta);
    const b = await below.commitMutableTree(await pkgTree(below), { ...meta, rootBelow: true });
    // usr, usr/share and the root are not written: only usr/share/pkg.
    expect(dirtreeFiles(full.path)).toBe(4);
    expect(dirtreeFiles(below.path)).toBe(1);
    // Read through the store, the root is the full commit's, object for object.
    const [ca, cb] = [full.readCommit(a), below.readCommit(b)];
    expect([cb.rootTree, cb.rootMeta]).toEqual([ca.rootTree, ca.rootMeta]);
    expect([...below.walk(b)].map((e) => `${e.path} ${e.mode?.toString(8)}`)).toEqual([...full.walk(a)].map((e) => `${e.path} ${e.mode?.toString(8)}`));
    expect(below.readFile(b, 'usr/share/pkg/b').toString()).toBe('pkg b\n');
    await full.checkout(a, join(w, 'co-full'));
    await below.checkout(b, join(w, 'co-below'));
    expect(snapshot(join(w, 'co-below'))).toEqual(snapshot(join(w, 'co-full')));
    // Real ostree: a valid commit whose tree is the subtree.
    expect(ostree(below.path, 'fsck')).toMatch(/no errors found/);
    expect(ostree(below.path, 'ls', b, '/').split('\n').filter(Boolean).map((l) => l.split(/\s+/).pop()).sort()).toEqual(['/', '/a', '/b', '/c']);
  });

  it('a commit that reuses the directories above stores them first: ostree fsck and checkout pass', async () => {
    requireTool('ostree');
    const w = work('prefix-union');
    const store = Store.init(join(w, 'repo'), { fsync: false, mode: 'bare' });
    const pkg = await store.commitMutableTree(await pkgTree(store), { subject: 'pkg', timestamp: 1n, rootBelow: true });
    const before = dirtreeFiles(store.path);
    // The union of the package alone takes its whole tree as it is, root included.
    const root = store.unionOf([pkg]);
    expect(root).toBeDefined();
    const c = await store.commitUnion(root as NonNullable<typeof root>, { subject: 'union', timestamp: 2n });
    expect(dirtreeFiles(store.path)).toBe(before + 3);
    // A new process knows nothing held in memory: everything must be on disk.
    const fresh = Store.open(store.path);
    expect(fresh.readFile(c, 'usr/share/pkg/c').toString()).toBe('pkg c\n');
    expect(ostree(store.path, 'fsck')).toMatch(/no errors found/);
    ostree(store.path, 'checkout', c, join(w, 'co'));
    expect(readdirSync(join(w, 'co/usr/share/pkg')).sort()).toEqual(['a', 'b', 'c']);
    expect(fresh.fsck().problems).toEqual([]);
  });

  it('prune keeps the dirmetas the metadata names; fsck reports one that is gone', async () => {
    const w = work('prefix-prune');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const pkg = await store.commitMutableTree(await pkgTree(store), { subject: 'pkg', timestamp: 1n, rootBelow: true, ref: 'pkg' });
    // usr/share's 0711 dirmeta is named by the metadata only: no dirtree on disk holds it.
    const shareMeta = sha256(encodeDirMeta({ uid: 0, gid: 0, mode: S_IFDIR | 0o711, xattrs: [] }));
    const metaFile = join(store.path, 'objects', shareMeta.slice(0, 2), `${shareMeta.slice(2)}.dirmeta`);
    expect(existsSync(metaFile)).toBe(true);
    expect(store.prune().removedObjects).toBe(0);
    expect(existsSync(metaFile)).toBe(true);
    await store.checkout(pkg, join(w, 'co'));
    expect(readdirSync(join(w, 'co/usr/share/pkg')).sort()).toEqual(['a', 'b', 'c']);
    expect(store.fsck().problems).toEqual([]);
    rmSync(metaFile);
    expect(Store.open(store.path).fsck().problems.map((p) => `${p.kind} ${p.type} ${p.checksum}`)).toEqual([`missing dirmeta ${shareMeta}`]);
  });

  it('a malformed prefix in the metadata is a corrupt store, not a wrong tree', async () => {
    const w = work('prefix-bad');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const t = new MutableTree();
    t.setFile('x', await store.writeContent(FILE, Buffer.from('x')));
    const c = await store.commitMutableTree(t, { subject: 'bad', timestamp: 1n, metadata: [['layer.tree.prefix', V.strings(['usr'])]] });
    expect(() => store.readCommit(c)).toThrow(expect.objectContaining({ code: 'LAYER_STORE_CORRUPT' }));
  });
});
