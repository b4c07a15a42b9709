/** formats.md §8 and §2.10 test vectors, reproduced byte for byte through src/store/objects. */
import { describe, expect, it } from 'vitest';
import {
  contentChecksum, encodeCommit, encodeDirMeta, encodeDirTree, fileHeader, sha256, decodeCommit,
  decodeDirTree, S_IFDIR, S_IFLNK, S_IFREG, type Checksum,
} from '../../src/store/objects.js';
import { V, Variant, deserialize, serialize, isNormalForm } from '../../src/store/gvariant/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const root = { uid: 0, gid: 0, xattrs: [] as const };

describe('formats.md §8 test vectors', () => {
  it('empty dirtree is 00 with the empty_tree_csum', () => {
    const b = encodeDirTree({ files: [], dirs: [] });
    expect(hex(b)).toBe('00');
    expect(sha256(b)).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('dirmeta 0:0 040755', () => {
    const b = encodeDirMeta({ ...root, mode: S_IFDIR | 0o755 });
    expect(hex(b)).toBe('0000000000000000000041ed');
    expect(sha256(b)).toBe('446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488');
  });

  it('regular file header and checksum', () => {
    const meta = { ...root, mode: S_IFREG | 0o644 };
    expect(hex(fileHeader(meta))).toBe('00000012000000000000000000000000000081a4000000000011');
    expect(contentChecksum(meta, Buffer.from('hello\n'))).toBe('44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b');
  });

  it('symlink header and checksum', () => {
    const meta = { ...root, mode: S_IFLNK | 0o777, target: 'hello.txt' };
    expect(hex(fileHeader(meta))).toBe('0000001b000000000000000000000000' + '0000a1ff00000000' + '68656c6c6f2e74787400' + '1a');
    expect(contentChecksum(meta)).toBe('f66efa496a72379413c44593de510dc344beb045294f1a543da87b2b6118db35');
  });

  it('executable file', () => {
    const meta = { ...root, mode: S_IFREG | 0o755 };
    expect(contentChecksum(meta, Buffer.from('#!/bin/sh\necho hi\n'))).toBe('89b350d278ff59ba4780bc377b8ebfee8ade6b55c99fab1ec84e133bc6ea52c5');
  });

  it('xattrs are sorted by name and carry the NUL in the name', () => {
    const meta = {
      uid: 0, gid: 0, mode: S_IFREG | 0o644,
      xattrs: [['user.zeta', Buffer.from('Z')], ['user.alpha', Buffer.from('hello')]] as const,
    };
    expect(contentChecksum(meta, Buffer.from('x'))).toBe('da31bc232efd5f3592b36e03cec7df0b111e867baf8c8b585d9af8c161c21c81');
  });
});

describe('formats.md §2.10 worked example', () => {
  const hello = contentChecksum({ ...root, mode: S_IFREG | 0o644 }, Buffer.from('hello\n'));
  const run = contentChecksum({ ...root, mode: S_IFREG | 0o755 }, Buffer.from('#!/bin/sh\necho hi\n'));
  const link = contentChecksum({ ...root, mode: S_IFLNK | 0o777, target: 'hello.txt' });
  const meta = sha256(encodeDirMeta({ ...root, mode: S_IFDIR | 0o755 }));
  const subBytes = encodeDirTree({ files: [['run.sh', run]], dirs: [] });
  const sub = sha256(subBytes);
  // Given out of order on purpose: encoding must sort by name bytes.
  const rootTree = sha256(encodeDirTree({ files: [['link', link], ['hello.txt', hello]], dirs: [['sub', sub, meta]] }));
  const commitBytes = encodeCommit({
    metadata: [['version', V.string('1.0')], ['ostree.ref-binding', V.strings(['test/x86_64'])]],
    parent: undefined, subject: 'hello subject', body: 'body', timestamp: 1700000000n, rootTree, rootMeta: meta,
  });

  it('dirtree sub is 42 bytes laid out as documented', () => {
    expect(subBytes.length).toBe(42);
    expect(hex(subBytes)).toBe('72756e2e736800' + run + '07' + '28' + '29');
    expect(sub).toBe('230db4e51acc220a7118c2f5904c9e45b637e0ef4a6093ba58aab0c6e303ae51');
  });

  it('root dirtree and commit checksums match ostree', () => {
    expect(rootTree).toBe('6fb3c0a89e139301af358431ff45f3fe368af3c258012f27a745e63730d901b6');
    expect(commitBytes.length).toBe(158);
    expect(hex(commitBytes.subarray(0x98))).toBe('784e493b3b3b');
    expect(hex(commitBytes.subarray(0x50, 0x58))).toBe('000000006553f100');
    expect(sha256(commitBytes)).toBe('b7f976d10cc57757f1a88e003a9058a4c43907a25ae27490af8379d0d3aaa2cc');
  });

  it('decodes back to the same commit and dirtree', () => {
    const c = decodeCommit(commitBytes);
    expect(c.timestamp).toBe(1700000000n);
    expect(c.subject).toBe('hello subject');
    expect(c.rootTree).toBe(rootTree);
    expect(c.metadata.map(([k]) => k)).toEqual(['version', 'ostree.ref-binding']);
    expect(c.metadata[1]?.[1].value).toEqual(['test/x86_64']);
    expect(decodeDirTree(subBytes).files).toEqual([['run.sh', run as Checksum]]);
  });
});

describe('GVariant codec (formats.md §1.2 examples)', () => {
  it('maybe, variant and unit struct', () => {
    expect(hex(serialize('ms', 'hi'))).toBe('68690000');
    expect(hex(serialize('mu', 7))).toBe('07000000');
    expect(hex(serialize('v', new Variant('(su)', ['hello', 3])))).toBe('68656c6c6f000000030000000600' + '28737529');
    expect(hex(serialize('()', []))).toBe('00');
    expect(hex(serialize('(yt)', [1, 2n]))).toBe('01' + '00'.repeat(7) + '0200000000000000');
  });

  it('round-trips nested metadata and uses 2-byte offsets past 255 bytes', () => {
    const md = V.dict({ big: V.bytes(new Uint8Array(300).fill(7)), list: V.strings(['a', 'bb']), n: V.u64(2n ** 63n + 5n), nest: V.variant(V.string('x')) });
    const bytes = serialize('v', md);
    expect(isNormalForm('v', bytes)).toBe(true);
    expect(deserialize('v', bytes)).toEqual(md);
    const b = serialize('as', ['x'.repeat(300)]);
    expect(b.length).toBe(301 + 2);
    expect(isNormalForm('as', b)).toBe(true);
  });

  it('writes fixed-size values correctly after the output buffer grows', () => {
    const long = 'y'.repeat(300);
    const v = [long, true, 7, 2n ** 64n - 1n, -2, 1.5];
    const b = serialize('(sbutid)', v);
    expect(deserialize('(sbutid)', b)).toEqual(v);
    expect(b[301]).toBe(1);
  });

  it('rejects non-normal framing (2-byte offsets where 1 suffices)', () => {
    expect(isNormalForm('as', Buffer.from('61000200', 'hex'))).toBe(false);
    expect(isNormalForm('as', Buffer.from('610002', 'hex'))).toBe(true);
  });
});
