/**
 * A pull reader over an async stream of chunks: exact reads for cpio headers, bounded chunked
 * reads for file data. It never buffers more than one upstream chunk beyond what was asked for.
 */
import { LayerError } from '../errors.js';

export class ByteReader {
  private chunks: Buffer[] = [];
  private avail = 0;
  private ended = false;
  /** Bytes handed out so far (the archive offset, for cpio's 4-byte padding). */
  position = 0;

  constructor(private readonly source: AsyncIterator<Buffer>, private readonly what: string) {}

  private async fill(n: number): Promise<boolean> {
    while (this.avail < n && !this.ended) {
      const r = await this.source.next();
      if (r.done) this.ended = true;
      else if (r.value.length) {
        this.chunks.push(r.value);
        this.avail += r.value.length;
      }
    }
    return this.avail >= n;
  }

  private truncated(wanted: number): LayerError {
    return new LayerError('LAYER_RPM_FORMAT', `${this.what}: payload truncated at byte ${this.position} (wanted ${wanted} more)`);
  }

  /** Exactly `n` bytes (n small: headers, names, link targets). */
  async read(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw this.truncated(n);
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.avail -= n;
    this.position += n;
    return out;
  }

  /** `n` bytes as a sequence of chunks without copying; throws if the stream ends early. */
  async *chunksOf(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill(1))) throw this.truncated(left);
      const c = this.chunks[0] as Buffer;
      const take = Math.min(c.length, left);
      const piece = take === c.length ? c : c.subarray(0, take);
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
      this.avail -= take;
      this.position += take;
      left -= take;
      yield piece;
    }
  }

  /** Between 1 and `max` bytes (max > 0), without copying; throws if the stream has ended. */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.fill(1))) throw this.truncated(max);
    const c = this.chunks[0] as Buffer;
    const take = Math.min(c.length, max);
    const piece = take === c.length ? c : c.subarray(0, take);
    if (take === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(take);
    this.avail -= take;
    this.position += take;
    return piece;
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunksOf(n)) { /* discard */ }
  }

  /** Skips to the next multiple of 4 from the archive start. */
  async align4(): Promise<void> {
    const pad = (4 - (this.position % 4)) % 4;
    if (pad) await this.read(pad);
  }

  /** Reads and discards whatever is left (cpio trailer padding). */
  async drain(): Promise<void> {
    while (await this.fill(1)) {
      this.position += this.avail;
      this.chunks = [];
      this.avail = 0;
    }
  }
}
