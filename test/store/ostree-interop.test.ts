/**
 * Interoperability with the real `ostree` CLI (Debian 2022.7) in both repository modes:
 * repos written by layer pass `ostree fsck` and read back right through log/ls/cat/checkout,
 * and commits made by `ostree commit` read right through layer. Runs as root (bare mode needs
 * chown); both modes are written as root, the mode is a config choice.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, V, commitMetadata, unbox, type RepoMode } from '../../src/store/index.js';
import { makeSampleTree, ostree, requireTool, snapshot, tempDir } from './helpers.js';

const TS = 1700000000n;
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

beforeAll(() => {
  requireTool('ostree');
  if (process.getuid?.() !== 0) throw new Error('store interop tests need root (bare mode chowns objects); run them as root');
});

describe.each<RepoMode>(['bare', 'bare-user'])('layer writes, ostree reads (%s)', (mode) => {
  const work = tempDir(`w-${mode}`);
  temps.push(work);
  const src = join(work, 'src');
  const repoPath = join(work, 'repo');
  let store: Store;
  let commit: string;

  beforeAll(async () => {
    makeSampleTree(src, { caps: true });
    store = Store.init(repoPath, { mode, fsync: false });
    commit = await store.commitTree(src, {
      ref: 'test/x86_64', subject: 'hello subject', body: 'body', timestamp: TS,
      metadata: { version: V.string('1.0') },
    });
  });

  it('ostree fsck is clean and ostree log shows the commit', () => {
    expect(readFileSync(join(repoPath, 'config'), 'utf8')).toBe(`[core]\nrepo_version=1\nmode=${mode}\n`);
    const fsck = ostree(repoPath, 'fsck');
    expect(fsck).toMatch(/Validating refs/);
    const log = ostree(repoPath, 'log', 'test/x86_64');
    expect(log).toContain(`commit ${commit}`);
    expect(log).toContain('hello subject');
    expect(log).toContain('Version: 1.0');
  });

  it('has the same commit checksum as `ostree commit` of the same tree', () => {
    const ref = join(work, `ostree-${mode}`);
    ostree(ref, 'init', `--mode=${mode}`);
    const theirs = ostree(ref, 'commit', '-b', 'test/x86_64', '--no-bindings', '--subject=hello subject', '--body=body',
      '--add-metadata-string=version=1.0', `--timestamp=@${TS}`, `--tree=dir=${src}`).trim();
    expect(commit).toBe(theirs);
  });

  it('ostree ls -R lists every path with the right mode', () => {
    const ls = ostree(repoPath, 'ls', '-R', 'test/x86_64');
    const listed = ls.trim().split('\n').map((l) => {
      const m = /^(\S)(\S+) (\d+) (\d+)\s+\d+ (\S.*?)(?: -> .*)?$/.exec(l);
      if (!m) throw new Error(`unparsed ls line: ${l}`);
      return `${m[5]} ${m[3]}:${m[4]}`;
    }).sort();
    const expected = snapshot(src).map((e) => `${e.path} ${e.uid}:${e.gid}`).sort();
    expect(listed).toEqual(expected);
  });

  it('ostree cat gives the content', () => {
    expect(ostree(repoPath, 'cat', 'test/x86_64', '/sub/run.sh')).toBe('#!/bin/sh\necho hi\n');
    expect(ostree(repoPath, 'cat', 'test/x86_64', '/\u{10000}')).toBe('astral\n');
    expect(ostree(repoPath, 'cat', 'test/x86_64', '/sub/deeper/big.bin').length).toBe(300_000);
  });

  it('ostree checkout reproduces the tree (owners, modes, xattrs, content)', () => {
    const out = join(work, 'co-ostree');
    ostree(repoPath, 'checkout', 'test/x86_64', out);
    expect(snapshot(out)).toEqual(snapshot(src));
  });

  it('layer checkout (hardlinks) and a copy checkout reproduce the tree', async () => {
    const copy = join(work, 'co-copy');
    await store.checkout(commit, copy, { hardlink: false });
    expect(snapshot(copy)).toEqual(snapshot(src));
    const linked = join(work, 'co-link');
    await store.checkout('test/x86_64', linked);
    if (mode === 'bare') expect(snapshot(linked)).toEqual(snapshot(src));
    else expect(snapshot(linked).map((e) => [e.path, e.data])).toEqual(snapshot(src).map((e) => [e.path, e.data]));
  });
});

describe('commit metadata a{sv}', () => {
  it('round-trips strings, string arrays, bytes, u64, nested variants and dicts, and ostree reads them', async () => {
    const work = tempDir('md');
    temps.push(work);
    const store = Store.init(join(work, 'repo'), { fsync: false });
    const header = new Uint8Array(Buffer.from('8eade80100000000', 'hex'));
    const metadata = {
      'layer.nevras': V.strings(['foo-1.0-1.x86_64', 'bar-2:3.1-4.noarch']),
      'layer.header': V.bytes(header),
      'layer.headers': V.byteArrays([header, new Uint8Array([0])]),
      'layer.size': V.u64(2n ** 60n + 3n),
      'layer.timestamp': V.u64be(1700000000n),
      'layer.nested': V.variant(V.string('inner')),
      'layer.dict': V.dict({ digest: V.string('sha256:abc'), n: V.u32(7), ok: V.bool(true) }),
    };
    makeSampleTree(join(work, 'tree'));
    const c = await store.commitTree(join(work, 'tree'), { ref: 'md', metadata, timestamp: 1n });
    const back = store.readCommit(c);
    expect(Object.fromEntries(back.metadata)).toEqual(metadata);
    expect(unbox(commitMetadata(back, 'layer.dict')!)).toEqual({ digest: 'sha256:abc', n: 7, ok: true });
    const show = (k: string) => ostree(store.path, 'show', `--print-metadata-key=${k}`, 'md').trim();
    expect(show('layer.nevras')).toBe("['foo-1.0-1.x86_64', 'bar-2:3.1-4.noarch']");
    // ostree's ot_dump_variant byteswaps before printing (its own integers are big-endian), so
    // GLib-native little-endian values show swapped: 2^60+3 prints as 0x0300000000000010.
    expect(show('layer.size')).toBe(`uint64 ${0x0300000000000010n}`);
    expect(show('layer.timestamp')).toBe('uint64 1700000000');
    expect(show('layer.nested')).toBe("<'inner'>");
    expect(show('layer.dict')).toBe(`{'digest': <'sha256:abc'>, 'n': <uint32 ${0x07000000}>, 'ok': <true>}`);
    expect(show('layer.header')).toMatch(/^\[byte 0x8e, 0xad, 0xe8, 0x01/);
    ostree(store.path, 'fsck');
  });
});

describe.each<RepoMode>(['bare', 'bare-user'])('ostree writes, layer reads (%s)', (mode) => {
  const work = tempDir(`r-${mode}`);
  temps.push(work);
  const src = join(work, 'src');
  const repoPath = join(work, 'repo');
  let theirs: string;

  beforeAll(() => {
    makeSampleTree(src, { caps: true });
    ostree(repoPath, 'init', `--mode=${mode}`);
    ostree(repoPath, 'commit', '-b', 'base', '--subject=first', `--timestamp=@${TS}`, `--tree=dir=${src}`);
    execFileSync('sh', ['-c', `echo changed > ${src}/hello.txt`]);
    theirs = ostree(repoPath, 'commit', '-b', 'base', '--subject=second', '--add-metadata-string=version=2',
      `--timestamp=@${TS + 1n}`, `--tree=dir=${src}`).trim();
  });

  it('reads refs and the commit (parent, subject, metadata)', () => {
    const store = Store.open(repoPath);
    expect(store.mode).toBe(mode);
    expect(store.listRefs()).toEqual(new Map([['base', theirs]]));
    const c = store.readCommit('base');
    expect(c.subject).toBe('second');
    expect(c.timestamp).toBe(TS + 1n);
    expect(commitMetadata(c, 'version')?.value).toBe('2');
    expect(commitMetadata(c, 'ostree.ref-binding')?.value).toEqual(['base']);
    expect(c.parent && store.readCommit(c.parent).subject).toBe('first');
  });

  it('walk gives the same files, modes and owners; readFile the content', () => {
    const store = Store.open(repoPath);
    const walked = [...store.walk('base')].map((e) => ({ path: `/${e.path}`, mode: e.mode.toString(8), uid: e.uid, gid: e.gid }));
    const expected = snapshot(src).map((e) => ({ path: e.path, mode: e.mode, uid: e.uid, gid: e.gid }));
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
    expect(walked.sort(byPath)).toEqual(expected.sort(byPath));
    expect(store.readFile('base', 'hello.txt').toString()).toBe('changed\n');
    expect(store.readFile('base', 'sub/deeper/big.bin').length).toBe(300_000);
    expect(store.stat('base', 'link')?.target).toBe('hello.txt');
    expect(store.stat('base', 'ping')?.xattrs.map(([n]) => n)).toEqual(['security.capability']);
  });

  it('checks out identically and re-commits to the same checksum', async () => {
    const store = Store.open(repoPath, { fsync: false });
    const out = join(work, 'co');
    await store.checkout('base', out, { hardlink: false });
    expect(snapshot(out)).toEqual(snapshot(src));
    const again = await store.commitTree(src, {
      parent: store.readCommit('base').parent ?? null, subject: 'second', timestamp: TS + 1n,
      metadata: [['version', V.string('2')], ['ostree.ref-binding', V.strings(['base'])]],
    });
    expect(again).toBe(theirs);
    expect(store.fsck().problems).toEqual([]);
  });
});

describe('a non-root writer', () => {
  it('gets bare-user by default, and ostree (as root) checks out the right owners and modes', () => {
    requireTool('setpriv', 'util-linux');
    const work = tempDir('nonroot');
    temps.push(work);
    chmodSync(work, 0o755);
    const src = join(work, 'src');
    mkdirSync(join(src, 'bin'), { recursive: true });
    writeFileSync(join(src, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(join(src, 'bin/tool'), 0o4755);
    writeFileSync(join(src, 'data'), 'data\n');
    chownSync(join(src, 'data'), 1000, 1000);
    symlinkSync('bin/tool', join(src, 'tool'));
    mkdirSync(join(work, 'repo'));
    chownSync(join(work, 'repo'), 65534, 65534);
    // The unprivileged child needs a temp dir of its own (tsx caches transforms there); the
    // caller's TMPDIR may not be writable by uid 65534.
    const childTmp = join(work, 'tmp');
    mkdirSync(childTmp);
    chownSync(childTmp, 65534, 65534);
    const storeUrl = new URL('../../src/store/store.ts', import.meta.url).href;
    const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e',
      `import { Store } from ${JSON.stringify(storeUrl)};
       const s = Store.init(${JSON.stringify(join(work, 'repo'))});
       const c = await s.commitTree(${JSON.stringify(src)}, { ref: 'nr', timestamp: 3n });
       console.log(JSON.stringify({ mode: s.mode, commit: c, uid: process.getuid() }));`,
    ], { encoding: 'utf8', env: { ...process.env, HOME: work, TMPDIR: childTmp } });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r).toMatchObject({ mode: 'bare-user', uid: 65534 });
    ostree(join(work, 'repo'), 'fsck');
    ostree(join(work, 'repo'), 'checkout', 'nr', join(work, 'co'));
    expect(snapshot(join(work, 'co'))).toEqual(snapshot(src));
  });
});
