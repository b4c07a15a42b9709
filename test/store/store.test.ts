/** Store behaviour through the public API: union checkouts, fsck, prune, crash leftovers, re-commit. */
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { silentReport } from '../../src/report.js';
import { FileConflictError, MutableTree, S_IFREG, Store, type Checksum } from '../../src/store/index.js';
import { makeSampleTree, ostree, removeWorkDirs, requireTool, snapshot, work } from './helpers.js';

afterAll(removeWorkDirs);

function objectFiles(repo: string): string[] {
  const out: string[] = [];
  for (const xx of readdirSync(join(repo, 'objects'))) for (const n of readdirSync(join(repo, 'objects', xx))) out.push(`${xx}/${n}`);
  return out.sort();
}

async function treeOf(store: Store, files: Record<string, string>, ref: string): Promise<Checksum> {
  const t = new MutableTree();
  for (const [path, text] of Object.entries(files)) {
    t.setFile(path, await store.writeContent({ uid: 0, gid: 0, mode: S_IFREG | 0o644, xattrs: [] }, Buffer.from(text)));
  }
  return store.commitMutableTree(t, { ref, subject: ref, timestamp: 1n });
}

describe('checkoutUnion', () => {
  it('merges identical files, and names both owners and the path on a conflict', async () => {
    const w = work('union');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    await treeOf(store, { 'usr/bin/a': 'A', 'usr/share/doc/x': 'same' }, 'pkg/a');
    await treeOf(store, { 'usr/bin/b': 'B', 'usr/share/doc/x': 'same' }, 'pkg/b');
    await treeOf(store, { 'usr/bin/a': 'not A' }, 'pkg/c');
    await store.checkoutUnion([{ commit: 'pkg/a', owner: 'a-1.0-1.x86_64' }, { commit: 'pkg/b', owner: 'b-1.0-1.x86_64' }], join(w, 'ab'));
    expect(readdirSync(join(w, 'ab/usr/bin')).sort()).toEqual(['a', 'b']);

    const dest = join(w, 'ac');
    const err = await store.checkoutUnion([{ commit: 'pkg/a', owner: 'a-1.0-1.x86_64' }, { commit: 'pkg/c', owner: 'c-2.0-1.noarch' }], dest)
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FileConflictError);
    expect((err as LayerError).code).toBe('LAYER_FILE_CONFLICT');
    expect((err as FileConflictError).conflict).toEqual({ path: 'usr/bin/a', owners: ['a-1.0-1.x86_64', 'c-2.0-1.noarch'] });
    expect((err as Error).message).toMatch(/usr\/bin\/a.*a-1\.0-1\.x86_64.*c-2\.0-1\.noarch/);
    expect(existsSync(dest)).toBe(false); // detected before writing anything

    await store.checkoutUnion([{ commit: 'pkg/a', owner: 'a' }, { commit: 'pkg/c', owner: 'c' }], dest, { replaceFiles: true });
    expect(store.readFile('pkg/c', 'usr/bin/a').toString()).toBe('not A');
    expect(execFileSync('cat', [join(dest, 'usr/bin/a')], { encoding: 'utf8' })).toBe('not A');
  });

  it('refuses a non-empty destination', async () => {
    const w = work('union-dest');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    await treeOf(store, { f: 'x' }, 'p');
    mkdirSync(join(w, 'full'));
    writeFileSync(join(w, 'full/keep'), 'precious');
    await expect(store.checkout('p', join(w, 'full'))).rejects.toThrow(/not empty/);
    expect(existsSync(join(w, 'full/keep'))).toBe(true);
  });
});

describe('fsck', () => {
  it('is clean on a fresh commit and names a corrupted content object', async () => {
    requireTool('ostree');
    const w = work('fsck');
    makeSampleTree(join(w, 'src'));
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const c = await store.commitTree(join(w, 'src'), { ref: 'r' });
    expect(store.fsck().problems).toEqual([]);
    const target = store.walk(c);
    const hello = [...target].find((e) => e.path === 'hello.txt');
    const obj = store.objectPath(hello!.checksum, 'file');
    appendFileSync(obj, 'evil');
    const { problems } = store.fsck();
    expect(problems).toEqual([expect.objectContaining({ kind: 'corrupt', type: 'file', checksum: hello!.checksum })]);
    // The real tool agrees it is corrupt.
    expect(() => ostree(join(w, 'repo'), 'fsck')).toThrow();
  });

  it('names a corrupted dirtree and a missing object', async () => {
    const w = work('fsck2');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const c = await treeOf(store, { 'a/b': 'x', c: 'y' }, 'r');
    const commit = store.readCommit(c);
    const cFile = [...store.walk(c)].find((e) => e.path === 'c')!;
    rmSync(store.objectPath(cFile.checksum, 'file'));
    expect(store.fsck().problems).toEqual([expect.objectContaining({ kind: 'missing', type: 'file', checksum: cFile.checksum })]);
    const tree = store.objectPath(commit.rootTree, 'dirtree');
    writeFileSync(tree, Buffer.from('00', 'hex'));
    const kinds = store.fsck().problems.map((p) => `${p.kind}:${p.type}:${p.checksum}`);
    expect(kinds).toContain(`corrupt:dirtree:${commit.rootTree}`);
  });
});

describe('prune', () => {
  it('removes only unreachable objects', async () => {
    const w = work('prune');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    await treeOf(store, { shared: 's', only1: '1' }, 'one');
    const before = objectFiles(join(w, 'repo'));
    await treeOf(store, { shared: 's', only2: '2' }, 'two');
    const r = store.prune({ keepRefs: ['one'] });
    expect(r.removedRefs).toEqual(['two']);
    // only2's content, two's root dirtree, and two's commit.
    expect(r.removedObjects).toBe(3);
    expect(objectFiles(join(w, 'repo'))).toEqual(before);
    expect(store.fsck().problems).toEqual([]);
    expect(store.prune().removedObjects).toBe(0);
  });
});

describe('listRefs', () => {
  it('lists the refs under a prefix, whole segments or not, and every ref without one', async () => {
    const w = work('refs');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const c = await treeOf(store, { f: 'x' }, 'top');
    for (const ref of ['layer/deploy/demo/a.0', 'layer/deploy/demo/b.0', 'layer/pkg/a/1-1.noarch', 'layer/pkgx', 'other/deploy']) store.setRef(ref, c);
    expect([...store.listRefs('layer/deploy/').keys()]).toEqual(['layer/deploy/demo/a.0', 'layer/deploy/demo/b.0']);
    expect([...store.listRefs('layer/pkg').keys()]).toEqual(['layer/pkg/a/1-1.noarch', 'layer/pkgx']);
    expect([...store.listRefs('layer/deploy/demo/b').keys()]).toEqual(['layer/deploy/demo/b.0']);
    expect([...store.listRefs('nothing/here/').keys()]).toEqual([]);
    expect([...store.listRefs().keys()]).toEqual(['layer/deploy/demo/a.0', 'layer/deploy/demo/b.0', 'layer/pkg/a/1-1.noarch', 'layer/pkgx', 'other/deploy', 'top']);
  });
});

describe('crash safety', () => {
  it('leftover temp files and a partial object in tmp/ do not corrupt the repo', async () => {
    requireTool('ostree');
    const w = work('crash');
    const repo = join(w, 'repo');
    const store = Store.init(repo, { fsync: false });
    const c = await treeOf(store, { f: 'content' }, 'r');
    // A writer killed mid-object: a truncated object and a half-written ref in tmp/.
    writeFileSync(join(repo, 'tmp/file-999-1'), 'cont');
    writeFileSync(join(repo, 'tmp/ref-999-2'), c.slice(0, 10));
    const reopened = Store.open(repo, { fsync: false });
    expect(reopened.resolveRef('r')).toBe(c);
    expect(reopened.fsck().problems).toEqual([]);
    ostree(repo, 'fsck');
    // Writing the same object again works and the stray files are cleaned by prune.
    await treeOf(reopened, { f: 'content', g: 'more' }, 'r');
    reopened.prune();
    expect(readdirSync(join(repo, 'tmp'))).toEqual([]);
    ostree(repo, 'fsck');
  });

  it('an object file with wrong content is caught by fsck', async () => {
    const w = work('wrong');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const c = await treeOf(store, { f: 'right' }, 'r');
    const f = [...store.walk(c)].find((e) => e.path === 'f')!;
    writeFileSync(store.objectPath(f.checksum, 'file'), 'wrong'); // same inode, same mode
    expect(store.fsck().problems.map((p) => p.checksum)).toEqual([f.checksum]);
  });
});

describe.each(['bare', 'bare-user'] as const)('re-commit of a hardlinked checkout (%s)', (mode) => {
  it('reuses object checksums without re-reading and gives the same tree', async () => {
    const w = work('recommit');
    makeSampleTree(join(w, 'src'));
    const store = Store.init(join(w, 'repo'), { fsync: false, mode });
    const first = await store.commitTree(join(w, 'src'), { ref: 'r', timestamp: 5n });
    const co = join(w, 'co');
    await store.checkout(first, co);
    expect(statSync(join(co, 'hello.txt')).nlink).toBeGreaterThan(1);
    if (mode === 'bare') expect(snapshot(co)).toEqual(snapshot(join(w, 'src')));
    // bare-user: hardlinked files show the object's mode; the commit must still be identical.
    let ticks = 0;
    const report = { ...silentReport, progress: () => ({ tick: (n: number) => void (ticks += n), done() {} }) };
    const second = await store.commitTree(co, { parent: null, timestamp: 5n, report });
    expect(second).toBe(first);
    expect(ticks).toBe(snapshot(co).filter((e) => !e.mode.startsWith('40')).length);
    // A file added next to the hardlinks is hashed normally.
    writeFileSync(join(co, 'new'), 'new');
    linkSync(join(co, 'new'), join(co, 'new2'));
    const third = await store.commitTree(co, { ref: 'r' });
    expect(store.diff(first, third)).toEqual({ added: ['/new', '/new2'], removed: [], modified: [] });
    expect(store.readCommit(third).parent).toBe(first);
  });
});

describe('the inode lookup of a re-commit', () => {
  it('knows the objects this process checked out, and hashes files linked to any other', async () => {
    const w = work('devino');
    const a = Store.init(join(w, 'repo'), { fsync: false });
    const commitA = await treeOf(a, { x: 'a-content' }, 'a');
    await a.checkout(commitA, join(w, 'co-a'));
    // Another process (another Store on the same repo) commits and checks out its own tree.
    const b = Store.open(join(w, 'repo'), { fsync: false });
    const commitB = await treeOf(b, { y: 'b-content' }, 'b');
    const coB = join(w, 'co-b');
    await b.checkout(commitB, coB);
    // The object behind y is edited in place (same inode), as `ostree fsck` would catch.
    const y = [...b.walk(commitB)].find((e) => e.path === 'y');
    writeFileSync(b.objectPath(y?.checksum as Checksum, 'file'), 'edited!!!');
    const root = (c: Checksum) => b.readCommit(c).rootTree;
    // b checked y out: its checksum comes from the object's name, the content is not read.
    expect(root(await b.commitTree(coB, { parent: null }))).toBe(root(commitB));
    // a never did: y is read and hashed, so the edit shows.
    expect(root(await a.commitTree(coB, { parent: null }))).not.toBe(root(commitB));
    // And a's own checkout is still looked up by inode.
    expect(root(await a.commitTree(join(w, 'co-a'), { parent: null }))).toBe(a.readCommit(commitA).rootTree);
  });
});

describe('bad input', () => {
  it('gives clear LayerErrors naming the thing', async () => {
    const w = work('bad');
    expect(() => Store.open(join(w, 'nope'))).toThrow(/nope is not an OSTree repository/);
    writeFileSync(join(w, 'config'), '[core]\nmode=archive-z2\n');
    expect(() => Store.open(w)).toThrow(/mode 'archive-z2'/);
    const store = Store.init(join(w, 'repo'), { fsync: false });
    expect(() => store.resolveRef('missing/ref')).toThrow(/no ref 'missing\/ref'/);
    expect(() => store.setRef('bad ref', 'a'.repeat(64) as Checksum)).toThrow(/invalid ref name 'bad ref'/);
    mkdirSync(join(w, 'tree'));
    execFileSync('mkfifo', [join(w, 'tree/fifo')]);
    await expect(store.commitTree(join(w, 'tree'))).rejects.toThrow(/tree\/fifo.*cannot be stored/);
    await expect(store.writeContent({ uid: 0, gid: 0, mode: 0o040755, xattrs: [] })).rejects.toMatchObject({ code: 'LAYER_STORE' });
    const x = await treeOf(store, { d: 'x' }, 'x');
    expect(() => store.readFile(x, 'nope')).toThrow(/no such file 'nope'/);
    expect(() => store.readFile(x, '')).toThrow(/is a directory/);
  });
});

describe('concurrent writers', () => {
  it('two processes committing the same tree into one repo leave it consistent', async () => {
    requireTool('ostree');
    const w = work('concurrent');
    makeSampleTree(join(w, 'src'));
    Store.init(join(w, 'repo'), { mode: 'bare' });
    const storeUrl = new URL('../../src/store/store.ts', import.meta.url).href;
    const script = (ref: string) => `import { Store } from ${JSON.stringify(storeUrl)};
      const s = Store.open(${JSON.stringify(join(w, 'repo'))});
      for (let i = 0; i < 5; i++) await s.commitTree(${JSON.stringify(join(w, 'src'))}, { ref: '${ref}', timestamp: 9n });`;
    const run = (ref: string) => new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(ref)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${ref} failed: ${err}`))));
    });
    await Promise.all([run('one'), run('two')]);
    const store = Store.open(join(w, 'repo'));
    expect(store.resolveRef('one')).toBe(store.resolveRef('two'));
    expect(store.fsck().problems).toEqual([]);
    // Every temp file was renamed into place (ostree fsck itself creates tmp/cache).
    expect(readdirSync(join(w, 'repo/tmp'))).toEqual([]);
    ostree(join(w, 'repo'), 'fsck');
  });
});

describe('diff', () => {
  it('reports added, removed and modified paths between commits', async () => {
    const w = work('diff');
    const store = Store.init(join(w, 'repo'), { fsync: false });
    const a = await treeOf(store, { 'usr/bin/a': 'A', 'usr/bin/b': 'B', 'usr/share/x/y': 'Y' }, 'a');
    const b = await treeOf(store, { 'usr/bin/a': 'A2', 'usr/lib/z': 'Z', 'usr/share/x/y': 'Y' }, 'b');
    expect(store.diff(a, b)).toEqual({ added: ['/usr/lib', '/usr/lib/z'], removed: ['/usr/bin/b'], modified: ['/usr/bin/a'] });
    expect(store.diff(a, a)).toEqual({ added: [], removed: [], modified: [] });
  });
});
