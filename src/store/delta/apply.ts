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

const CHECKSUM_HINT = { hint: 'the delta on the server is corrupt; regenerate it' };

/** The state of one part's execution: position in the ops, next object, open object, read source. */
class PartRun {
  readonly out: PartOutput = { metadata: new Map(), written: 0, present: 0 };
  private readonly raw: Buffer;
  private pos = 0;
  private next = 0;
  private open: OpenContent | undefined;
  private source: { fd: number; csum: string } | undefined;

  constructor(
    private readonly store: Store, private readonly objects: readonly DeltaObject[], private readonly part: PartPayload,
    private readonly maxObject: number, private readonly what: string,
  ) {
    this.raw = Buffer.from(part.raw.buffer, part.raw.byteOffset, part.raw.byteLength);
  }

  async run(): Promise<PartOutput> {
    const ops = this.part.ops;
    try {
      while (this.pos < ops.length) {
        const op = ops[this.pos++] ?? 0;
        await this.dispatch(op);
      }
    } finally {
      this.closeSource();
    }
    if (this.open) throw corrupt(`${this.what}: ends with object ${this.open.obj.csum} still open`);
    return this.out;
  }

  private async dispatch(op: number): Promise<void> {
    switch (op) {
      case 0x53: return this.spliceAndClose(); // 'S'
      case 0x6f: return this.openObject(); // 'o'
      case 0x77: return this.write(); // 'w'
      case 0x72: return this.setReadSource(); // 'r'
      case 0x52: return this.closeSource(); // 'R'
      case 0x63: return this.close(); // 'c'
      case 0x42: return this.bspatch(); // 'B'
      default: throw corrupt(`${this.what}: unknown operation 0x${op.toString(16)} at ${this.pos - 1}`);
    }
  }

  private varint(): number {
    const [v, p] = readVarint(this.part.ops, this.pos);
    this.pos = p;
    return v;
  }

  private slice(offset: number, len: number): Buffer {
    if (offset + len > this.raw.length) throw corrupt(`${this.what}: offset ${offset}+${len} is past the ${this.raw.length}-byte payload`);
    return this.raw.subarray(offset, offset + len);
  }

  private target(): DeltaObject {
    const o = this.objects[this.next];
    if (!o) throw corrupt(`${this.what}: more operations than the ${this.objects.length} objects of its header`);
    return o;
  }

  private contentMeta(): FileMeta {
    const m = this.part.modes[this.varint()];
    const x = this.part.xattrs[this.varint()];
    if (!m || !x) throw corrupt(`${this.what}: mode or xattr index out of range`);
    return { uid: be32(m[0]), gid: be32(m[1]), mode: be32(m[2]), xattrs: decodeXattrs(x) };
  }

  private openContent(): OpenContent {
    const meta = this.contentMeta();
    const size = this.varint();
    const obj = this.target();
    if (obj.type !== 'file') throw corrupt(`${this.what}: content operation for ${obj.type} ${obj.csum}`);
    if (size > this.maxObject) throw corrupt(`${this.what}: object of ${size} bytes is over the ${this.maxObject}-byte limit`);
    return { obj, meta, size, chunks: [], got: 0, have: this.store.hasObject(obj.csum, 'file') };
  }

  private async finishContent(o: OpenContent): Promise<void> {
    this.next++;
    if (o.have) {
      this.out.present++;
      return;
    }
    if (o.got !== o.size) throw corrupt(`${this.what}: object ${o.obj.csum} got ${o.got} of its ${o.size} bytes`);
    const body = Buffer.concat(o.chunks);
    const link = (o.meta.mode & S_IFMT) === S_IFLNK;
    if (!link && (o.meta.mode & S_IFMT) !== S_IFREG) throw corrupt(`${this.what}: content object ${o.obj.csum} has mode 0${o.meta.mode.toString(8)}`);
    const csum = link ? await this.store.writeContent({ ...o.meta, target: body.toString('utf8') }) : await this.store.writeContent(o.meta, body);
    if (csum !== o.obj.csum) throw new LayerError('LAYER_REPO_CHECKSUM', `${this.what}: content object ${o.obj.csum} does not match its checksum`, CHECKSUM_HINT);
    this.out.written++;
  }

  private async spliceAndClose(): Promise<void> {
    const obj = this.target();
    if (obj.type === 'file') {
      const o = this.openContent();
      const b = this.slice(this.varint(), o.size);
      if (!o.have) o.chunks.push(b);
      o.got = o.size;
      return this.finishContent(o);
    }
    const len = this.varint();
    if (len > this.maxObject) throw corrupt(`${this.what}: metadata object over the limit`);
    const bytes = Buffer.from(this.slice(this.varint(), len));
    if (sha256(bytes) !== obj.csum) throw new LayerError('LAYER_REPO_CHECKSUM', `${this.what}: ${obj.type} object ${obj.csum} does not match its checksum`, CHECKSUM_HINT);
    this.out.metadata.set(obj.type + obj.csum, { type: obj.type, csum: obj.csum, bytes });
    this.next++;
  }

  private openObject(): void {
    if (this.open) throw corrupt(`${this.what}: open while an object is open`);
    this.open = this.openContent();
  }

  private write(): void {
    const len = this.varint();
    const off = this.varint();
    const o = this.open;
    if (!o) throw corrupt(`${this.what}: write with no open object`);
    if (o.got + len > o.size) throw corrupt(`${this.what}: writes past the object's size`);
    o.got += len;
    if (o.have) return;
    if (!this.source) {
      o.chunks.push(this.slice(off, len));
      return;
    }
    const b = Buffer.alloc(len);
    if (readSync(this.source.fd, b, 0, len, off) !== len) throw corrupt(`${this.what}: read source ${this.source.csum} is shorter than ${off + len} bytes`);
    o.chunks.push(b);
  }

  private setReadSource(): void {
    const csum = Buffer.from(this.slice(this.varint(), 32)).toString('hex') as Checksum;
    this.closeSource();
    if (!this.store.hasObject(csum, 'file')) throw corrupt(`${this.what}: read source ${csum} is not in the store`);
    this.source = { fd: openSync(this.store.objectPath(csum, 'file'), 'r'), csum };
  }

  private closeSource(): void {
    if (this.source) closeSync(this.source.fd);
    this.source = undefined;
  }

  private async close(): Promise<void> {
    const o = this.open;
    this.open = undefined;
    this.closeSource();
    if (o) await this.finishContent(o);
  }

  private bspatch(): void {
    const off = this.varint();
    const len = this.varint();
    const o = this.open;
    if (!o || !this.source) throw corrupt(`${this.what}: bspatch without an open object and a read source`);
    if (!o.have) o.chunks.push(bspatch(readSource(this.source, this.maxObject, this.what), this.slice(off, len), o.size, this.what));
    o.got = o.size;
  }
}

/** Execute `part` (whose header lists `objects`) into `store`; `maxObject` bounds one object. */
export async function executePart(store: Store, objects: readonly DeltaObject[], part: PartPayload, maxObject: number, what: string)
  : Promise<PartOutput> {
  return new PartRun(store, objects, part, maxObject, what).run();
}
