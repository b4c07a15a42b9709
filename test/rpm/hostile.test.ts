/**
 * Hostile packages made from good rpmbuild output by byte surgery: each must be rejected with a
 * clear LayerError naming the package, and nothing may be written outside a temp area.
 */
import { readFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { openRpm, parseHeaderBlob } from '../../src/rpm/index.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';
import { entry, fixDigests, layout, patch } from './craft.js';
import { requireTool } from './helpers.js';

const BASE: FixtureSpec = {
  name: 'hostile-base',
  compressor: 'none',
  files: [
    { path: '/usr/share/hb', type: 'dir' },
    { path: '/usr/share/hb/a', type: 'symlink', target: '/etc' },
    { path: '/usr/share/hb/aXpasswd', content: 'root::0:0::/:/bin/sh\n' },
    { path: '/usr/share/hb/escape-x', content: 'payload\n' },
  ],
};

let work: string;
let good: Buffer;
let goodGz: Buffer;
beforeAll(async () => {
  requireTool('rpmbuild', 'rpm');
  work = await mkdtemp(join(tmpdir(), 'layer-rpm-hostile-'));
  good = await readFile(await buildRpm(BASE));
  goodGz = await readFile(await buildRpm({ ...BASE, name: 'hostile-gz', compressor: 'gzip' }));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Writes `bytes`, opens and extracts it into a fresh sandbox; returns the error and the sandbox listing. */
async function attempt(name: string, bytes: Buffer): Promise<{ err: unknown; sandbox: string[]; target: string[] }> {
  const dir = await mkdtemp(join(work, `${name}-`));
  const file = join(dir, `${name}.rpm`);
  await writeFile(file, bytes);
  const target = join(dir, 'root');
  await (await import('node:fs/promises')).mkdir(target);
  let err: unknown;
  try {
    const pkg = await openRpm(file);
    await pkg.extractTo(target);
  } catch (e) {
    err = e;
  }
  return { err, sandbox: (await readdir(dir)).sort(), target: await readdir(target) };
}

function expectRejected(r: { err: unknown; sandbox: string[]; target: string[] }, code: string, text: RegExp): void {
  expect(r.err).toBeInstanceOf(LayerError);
  expect((r.err as LayerError).code, (r.err as Error).message).toBe(code);
  expect((r.err as LayerError).message).toMatch(text);
  expect(r.sandbox.filter((n) => n !== 'root')).toHaveLength(1); // only the .rpm itself
  expect(r.target).toEqual([]);
}

describe('hostile packages', () => {
  it('accepts the untouched base (and the digest fixer is a no-op on it)', async () => {
    const copy = Buffer.from(good);
    fixDigests(copy);
    expect(copy.equals(good)).toBe(true);
    const r = await attempt('good', good);
    expect(r.err).toBeUndefined();
    expect(r.target).toEqual(['usr']);
  });

  it('rejects a ../ traversal path in the cpio archive', async () => {
    const b = Buffer.from(good);
    patch(b, './usr/share/hb/escape-x', '../../../../../escape-x', layout(b).payloadStart);
    fixDigests(b);
    expectRejected(await attempt('traversal', b), 'LAYER_UNSAFE_PATH', /hostile-base.*\.\.\/\.\.\//);
  });

  it('rejects an absolute path in the cpio archive', async () => {
    const b = Buffer.from(good);
    patch(b, './usr/share/hb/escape-x', '/tmp/layer-escape-xxxxx', layout(b).payloadStart);
    fixDigests(b);
    expectRejected(await attempt('absolute', b), 'LAYER_UNSAFE_PATH', /absolute/);
  });

  it('rejects a file below a symlink that leaves the tree (a -> /etc, then a/passwd)', async () => {
    const b = Buffer.from(good);
    const l = layout(b);
    patch(b, 'aXpasswd\0', 'a/passwd\0', l.mainDataStart, l.payloadStart);
    patch(b, './usr/share/hb/aXpasswd', './usr/share/hb/a/passwd', l.payloadStart);
    fixDigests(b);
    expectRejected(await attempt('symlink', b), 'LAYER_UNSAFE_PATH', /symlink 'usr\/share\/hb\/a'|symlink '\/usr\/share\/hb\/a'/);
  });

  it('rejects a symlink to ../.. followed by a file through it', async () => {
    const b = Buffer.from(good);
    const l = layout(b);
    patch(b, '/etc\0', '../\0\0', l.mainDataStart, l.payloadStart); // header link target
    patch(b, Buffer.from('/etc'), Buffer.from('../\0'), l.payloadStart); // payload link target bytes
    patch(b, 'aXpasswd\0', 'a/passwd\0', l.mainDataStart, l.payloadStart);
    patch(b, './usr/share/hb/aXpasswd', './usr/share/hb/a/passwd', l.payloadStart);
    fixDigests(b);
    const r = await attempt('dotdot', b);
    expect(r.err).toBeInstanceOf(LayerError);
    expect(['LAYER_UNSAFE_PATH', 'LAYER_RPM_FORMAT']).toContain((r.err as LayerError).code);
    expect(r.target).toEqual([]);
  });

  it('rejects a truncated payload (uncompressed and gzip)', async () => {
    for (const [name, src] of [['trunc-none', good], ['trunc-gz', goodGz]] as const) {
      const cut = src.subarray(0, layout(src).payloadStart + Math.floor((src.length - layout(src).payloadStart) / 2));
      const r = await attempt(name, Buffer.from(cut));
      expect(r.err).toBeInstanceOf(LayerError);
      expect(['LAYER_RPM_FORMAT', 'LAYER_RPM_DIGEST']).toContain((r.err as LayerError).code);
      expect((r.err as Error).message).toMatch(/hostile-/);
      expect(r.target).toEqual([]);
    }
  });

  it('rejects a payload whose digest does not match PAYLOADDIGEST', async () => {
    const b = Buffer.from(good);
    fixDigests(b);
    const pd = entry(b, 'main', 5092);
    if (!pd) throw new Error('fixture lacks PAYLOADDIGEST');
    b.write(b[pd.dataPos] === 0x30 ? '1' : '0', pd.dataPos, 'latin1');
    // Re-sign the header only, so the header digest is right and the payload digest is wrong.
    const { createHash } = await import('node:crypto');
    const l = layout(b);
    const s256 = entry(b, 'sig', 273);
    if (s256) b.write(createHash('sha256').update(b.subarray(l.mainStart, l.payloadStart)).digest('hex'), s256.dataPos, 'latin1');
    const s1 = entry(b, 'sig', 269);
    if (s1) b.write(createHash('sha1').update(b.subarray(l.mainStart, l.payloadStart)).digest('hex'), s1.dataPos, 'latin1');
    expectRejected(await attempt('payload-digest', b), 'LAYER_RPM_DIGEST', /payload digest/);
  });

  it('rejects file content that does not match its header digest', async () => {
    const b = Buffer.from(good);
    patch(b, 'payload\n', 'PAYLOAD\n', layout(b).payloadStart);
    fixDigests(b);
    expectRejected(await attempt('file-digest', b), 'LAYER_RPM_DIGEST', /escape-x.*digest/);
  });

  it('rejects a header that does not match its SHA256 digest', async () => {
    const b = Buffer.from(good);
    const l = layout(b);
    patch(b, 'Test fixture hostile-base', 'Test fixture hostile-BASE', l.mainDataStart, l.payloadStart);
    expectRejected(await attempt('header-digest', b), 'LAYER_RPM_DIGEST', /header SHA256/);
  });

  it('rejects absurd index counts, data lengths, entry counts and offsets', async () => {
    const l = layout(good);
    // Positions come from the good package; structure is checked before any digest.
    const at = (tag: number) => {
      const e = entry(good, 'main', tag);
      if (!e) throw new Error(`fixture lacks tag ${tag}`);
      return e;
    };
    const cases: [string, (b: Buffer) => void][] = [
      ['main-il', (b) => b.writeUInt32BE(0x7fffffff, l.mainStart + 8)],
      ['main-dl', (b) => b.writeUInt32BE(0xfffffff0, l.mainStart + 12)],
      ['sig-il', (b) => b.writeUInt32BE(0x01000000, l.sigStart + 8)],
      ['sig-dl', (b) => b.writeUInt32BE(0x7fffffff, l.sigStart + 12)],
      ['entry-count', (b) => b.writeUInt32BE(0x3fffffff, at(1049).indexPos + 12)],
      ['entry-count-int', (b) => b.writeUInt32BE(0x3fffffff, at(1030).indexPos + 12)],
      ['entry-offset', (b) => b.writeInt32BE(0x7ffffff0, at(1030).indexPos + 8)],
      ['entry-negative', (b) => b.writeInt32BE(-64, at(1030).indexPos + 8)],
      ['entry-type', (b) => b.writeUInt32BE(77, at(1030).indexPos + 4)],
      ['region', (b) => b.writeInt32BE(-0x7ffffff0, at(63).dataPos + 8)],
    ];
    for (const [name, mutate] of cases) {
      const b = Buffer.from(good);
      mutate(b);
      const r = await attempt(name, b);
      expect(r.err, name).toBeInstanceOf(LayerError);
      expect((r.err as LayerError).code, `${name}: ${(r.err as Error).message}`).toBe('LAYER_RPM_FORMAT');
      expect((r.err as Error).message, name).toMatch(/hostile-base/);
      expect(r.target).toEqual([]);
    }
  });

  it('parseHeaderBlob rejects absurd bare blobs without allocating', () => {
    const blob = Buffer.alloc(24);
    blob.writeUInt32BE(0xffffffff, 0);
    expect(() => parseHeaderBlob(blob, 'blob')).toThrow(/index count/);
    blob.writeUInt32BE(1, 0);
    blob.writeUInt32BE(0xffffffff, 4);
    expect(() => parseHeaderBlob(blob, 'blob')).toThrow(/data length/);
    blob.writeUInt32BE(1000, 4);
    expect(() => parseHeaderBlob(blob, 'blob')).toThrow(/truncated/);
    expect(() => parseHeaderBlob(new Uint8Array(3), 'blob')).toThrow(LayerError);
  });
});

describe('bad inputs and unsafe targets', () => {
  it('names the file when it is missing, empty or not an RPM', async () => {
    const dir = await mkdtemp(join(work, 'notrpm-'));
    const cases: [string, Buffer | undefined, RegExp][] = [
      ['missing.rpm', undefined, /cannot open package .*missing\.rpm/],
      ['empty.rpm', Buffer.alloc(0), /empty\.rpm.*truncated in the lead/],
      ['text.rpm', Buffer.from('#!/bin/sh\necho not an rpm\n'.repeat(10)), /text\.rpm.*not an RPM package/],
      ['lead-only.rpm', good.subarray(0, 100), /hostile-base.*truncated in the signature header/],
    ];
    for (const [name, bytes, re] of cases) {
      if (bytes) await writeFile(join(dir, name), bytes);
      const err = await openRpm(join(dir, name)).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(LayerError);
      expect((err as LayerError).code).toBe('LAYER_RPM_FORMAT');
      expect((err as Error).message).toMatch(re);
    }
  });

  it('never writes through a symlink already in the target, and keeps unrelated files', async () => {
    const { mkdir, symlink, readlink } = await import('node:fs/promises');
    const sandbox = await mkdtemp(join(work, 'target-link-'));
    const outside = join(sandbox, 'outside');
    const target = join(sandbox, 'root');
    await mkdir(outside);
    await mkdir(target);
    await symlink(outside, join(target, 'usr'));
    const file = join(sandbox, 'good.rpm');
    await writeFile(file, good);
    const err = await (await openRpm(file)).extractTo(target).catch((e: unknown) => e);
    expect((err as LayerError).code).toBe('LAYER_UNSAFE_PATH');
    expect((err as Error).message).toMatch(/'usr' is a symlink in the target/);
    expect(await readdir(outside)).toEqual([]);
    expect(await readlink(join(target, 'usr'))).toBe(outside);
    expect(await readdir(target)).toEqual(['usr']); // temp area cleaned up

    const merged = join(sandbox, 'merged');
    await mkdir(join(merged, 'usr/share'), { recursive: true });
    await writeFile(join(merged, 'usr/share/keep-me'), 'mine\n');
    await (await openRpm(file)).extractTo(merged);
    expect((await readdir(join(merged, 'usr/share'))).sort()).toEqual(['hb', 'keep-me']);
    expect((await readdir(join(merged, 'usr/share/hb'))).sort()).toEqual(['a', 'aXpasswd', 'escape-x']);
  });
});
