/**
 * Executing one static delta part against a bare / bare-user Store (what
 * ostree-repo-static-delta-processing.c does), with every object verified as it is produced:
 *
 * - 'S' open-splice-and-close: a metadata object from (length, offset) of the raw data, or a
 *   content object from (mode index, xattr index, size, offset);
 * - 'o' open (mode, xattrs, size), 'w' write (size, offset) from the raw data or from the read
 *   source, 'r' set read source (offset of a 32-byte checksum of a content object the store
 *   has), 'R' unset it, 'c' close: the content object assembled from pieces;
 * - 'B' bspatch (offset, length of the patch in the raw data): the open object is the read
 *   source patched (bspatch.ts); ostree's generator emits it for modified files.
 * Every opcode of OSTree 2022.7 is implemented; any other byte is LAYER_REPO_CORRUPT.
 *
 * Content objects are written through Store.writeContent, which names an object by the
 * checksum of what it wrote: a mismatch with the name the part gives is LAYER_REPO_CHECKSUM
 * and the wrong bytes never appear under the expected name. Metadata objects are returned
 * (checked against their SHA-256 name), not written: the caller writes dirtrees only after
 * their subtree is complete. Memory: one object at a time besides the part itself.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LayerError } from '../../errors.js';
import { S_IFLNK, S_IFMT, S_IFREG, be32, decodeXattrs, sha256, type Checksum, type FileMeta, type ObjectType } from '../objects.js';
import type { Store } from '../store.js';
import { bspatch } from './bspatch.js';
import { readVarint, type DeltaObject, type PartPayload } from './format.js';

/** The whole content of the read source (the old version of a file), bounded. */
function readSource(src: { fd: number; csum: string }, max: number, what: string): Buffer {
  const size = fstatSync(src.fd).size;
  if (size > max) throw corrupt(`${what}: read source ${src.csum} is over the ${max}-byte limit`);
  const b = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(src.fd, b, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

export interface PartOutput {
  /** Metadata objects (type + checksum key) and their verified bytes. */
  metadata: Map<string, { type: Exclude<ObjectType, 'file'>; csum: Checksum; bytes: Buffer }>;
  written: number;
  /** Content objects the store already had. */
  present: number;
}

function corrupt(what: string): LayerError {
  return new LayerError('LAYER_REPO_CORRUPT', `static delta part: ${what}`);
}

interface OpenContent { obj: DeltaObject; meta: FileMeta; size: number; chunks: Buffer[]; got: number; have: boolean }

/** Execute `part` (whose header lists `objects`) into `store`; `maxObject` bounds one object. */
export async function executePart(store: Store, objects: readonly DeltaObject[], part: PartPayload, maxObject: number, what: string): Promise<PartOutput> {
  const out: PartOutput = { metadata: new Map(), written: 0, present: 0 };
  const raw = Buffer.from(part.raw.buffer, part.raw.byteOffset, part.raw.byteLength);
  const ops = part.ops;
  let pos = 0;
  let next = 0;
  let open: OpenContent | undefined;
  let source: { fd: number; csum: string } | undefined;
  const varint = (): number => {
    const [v, p] = readVarint(ops, pos);
    pos = p;
    return v;
  };
  const slice = (offset: number, len: number): Buffer => {
    if (offset + len > raw.length) throw corrupt(`${what}: offset ${offset}+${len} is past the ${raw.length}-byte payload`);
    return raw.subarray(offset, offset + len);
  };
  const target = (): DeltaObject => {
    const o = objects[next];
    if (!o) throw corrupt(`${what}: more operations than the ${objects.length} objects of its header`);
    return o;
  };
  const contentMeta = (): FileMeta => {
    const m = part.modes[varint()];
    const x = part.xattrs[varint()];
    if (!m || !x) throw corrupt(`${what}: mode or xattr index out of range`);
    return { uid: be32(m[0]), gid: be32(m[1]), mode: be32(m[2]), xattrs: decodeXattrs(x) };
  };
  const closeSource = (): void => {
    if (source) closeSync(source.fd);
    source = undefined;
  };
  const finishContent = async (o: OpenContent): Promise<void> => {
    if (o.have) {
      out.present++;
      return;
    }
    if (o.got !== o.size) throw corrupt(`${what}: object ${o.obj.csum} got ${o.got} of its ${o.size} bytes`);
    const body = Buffer.concat(o.chunks);
    const meta = (o.meta.mode & S_IFMT) === S_IFLNK ? { ...o.meta, target: body.toString('utf8') } : o.meta;
    const fmt = meta.mode & S_IFMT;
    if (fmt !== S_IFREG && fmt !== S_IFLNK) throw corrupt(`${what}: content object ${o.obj.csum} has mode 0${meta.mode.toString(8)}`);
    const csum = await store.writeContent(meta, fmt === S_IFLNK ? undefined : body);
    if (csum !== o.obj.csum) {
      throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: content object ${o.obj.csum} does not match its checksum`, { hint: 'the delta on the server is corrupt; regenerate it' });
    }
    out.written++;
  };
  const openContent = (meta: FileMeta, size: number): OpenContent => {
    const obj = target();
    if (obj.type !== 'file') throw corrupt(`${what}: content operation for ${obj.type} ${obj.csum}`);
    if (size > maxObject) throw corrupt(`${what}: object of ${size} bytes is over the ${maxObject}-byte limit`);
    return { obj, meta, size, chunks: [], got: 0, have: store.hasObject(obj.csum, 'file') };
  };
  try {
    while (pos < ops.length) {
      const op = ops[pos++];
      switch (op) {
        case 0x53: { // 'S'
          const obj = target();
          if (obj.type === 'file') {
            const meta = contentMeta();
            const size = varint();
            const o = openContent(meta, size);
            const b = slice(varint(), size);
            if (!o.have) o.chunks.push(b);
            o.got = size;
            await finishContent(o);
          } else {
            const len = varint();
            const bytes = Buffer.from(slice(varint(), len));
            if (len > maxObject) throw corrupt(`${what}: metadata object over the limit`);
            if (sha256(bytes) !== obj.csum) {
              throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${obj.type} object ${obj.csum} does not match its checksum`, { hint: 'the delta on the server is corrupt; regenerate it' });
            }
            out.metadata.set(obj.type + obj.csum, { type: obj.type, csum: obj.csum, bytes });
          }
          next++;
          break;
        }
        case 0x6f: { // 'o'
          if (open) throw corrupt(`${what}: open while an object is open`);
          const meta = contentMeta();
          open = openContent(meta, varint());
          break;
        }
        case 0x77: { // 'w'
          const len = varint();
          const off = varint();
          if (!open) throw corrupt(`${what}: write with no open object`);
          if (open.got + len > open.size) throw corrupt(`${what}: writes past the object's size`);
          if (source) {
            const b = Buffer.alloc(len);
            if (readSync(source.fd, b, 0, len, off) !== len) throw corrupt(`${what}: read source ${source.csum} is shorter than ${off + len} bytes`);
            if (!open.have) open.chunks.push(b);
          } else {
            const b = slice(off, len);
            if (!open.have) open.chunks.push(b);
          }
          open.got += len;
          break;
        }
        case 0x72: { // 'r'
          const csum = Buffer.from(slice(varint(), 32)).toString('hex') as Checksum;
          closeSource();
          if (!store.hasObject(csum, 'file')) throw corrupt(`${what}: read source ${csum} is not in the store`);
          source = { fd: openSync(store.objectPath(csum, 'file'), 'r'), csum };
          break;
        }
        case 0x52: // 'R'
          closeSource();
          break;
        case 0x63: // 'c'
          if (open) {
            await finishContent(open);
            open = undefined;
            next++;
          }
          closeSource();
          break;
        case 0x42: { // 'B'
          const off = varint();
          const len = varint();
          if (!open || !source) throw corrupt(`${what}: bspatch without an open object and a read source`);
          if (!open.have) open.chunks.push(bspatch(readSource(source, maxObject, what), slice(off, len), open.size, what));
          open.got = open.size;
          break;
        }
        default:
          throw corrupt(`${what}: unknown operation 0x${(op ?? 0).toString(16)} at ${pos - 1}`);
      }
    }
  } finally {
    closeSource();
  }
  if (open) throw corrupt(`${what}: ends with object ${open.obj.csum} still open`);
  return out;
}
