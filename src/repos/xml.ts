/**
 * A small push-style XML tokenizer for the fixed rpm-md grammar (repomd, primary, filelists,
 * metalink). It is fed chunks of decoded text and calls back for each start tag, end tag and
 * the text just before an end tag, so memory stays bounded by the largest single token, never
 * by the document (fast-xml-parser needs the whole document in memory).
 *
 * What it does not do, on purpose: DTD validation, external entities, namespace resolution
 * (names are kept qualified, `rpm:entry`). Comments, processing instructions, DOCTYPE and
 * CDATA are understood. Malformed input raises XmlError with the byte-ish offset so callers
 * can name the file.
 *
 * Characters are checked as XML 1.0 §2.2 defines them (Char ::= #x9 | #xA | #xD | [#x20-#xD7FF]
 * | [#xE000-#xFFFD] | [#x10000-#x10FFFF]), both raw and as references (§4.1 WFC: Legal
 * Character): `&#27;` is rejected as expat and libxml2 reject it, so an escape sequence in a
 * package's metadata never becomes text that could reach a terminal. A single token or text
 * run is capped at MAX_TOKEN characters (libxml2's XML_MAX_TEXT_LENGTH without XML_PARSE_HUGE),
 * so a document without end tags cannot grow memory without bound.
 */

/** Longest text run or unfinished tag accepted: libxml2's XML_MAX_TEXT_LENGTH (10,000,000). */
export const MAX_TOKEN = 10_000_000;

export class XmlError extends Error {
  /** `offset` is omitted where the position is not known (text decoded after the scan). */
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} at offset ${offset}`);
    this.name = 'XmlError';
  }
}

/** Characters XML 1.0 does not allow anywhere in a document (raw U+FFFE/U+FFFF included). */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** `U+001B`-style name of a code point, for messages (never the character itself). */
function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

export type Attrs = Record<string, string>;

export interface XmlHandler {
  open(name: string, attrs: Attrs, selfClosing: boolean): void;
  /** `text` is the raw (still entity-encoded) character data since the last tag; see `decodeXml`. */
  close(name: string, text: string): void;
}

const GT = 62; // >
const SLASH = 47;
const BANG = 33;
const QMARK = 63;
const EQ = 61;
const DQ = 34;
const SQ = 39;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decode the five predefined entities and numeric character references. A reference to a
 * character XML does not allow (`&#27;`, `&#0;`, a surrogate, past U+10FFFF) is an XmlError.
 */
export function decodeXml(s: string, offset?: number): string {
  if (s.indexOf('&') === -1) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.charCodeAt(0) === 35 /* # */) {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1);
      // Past 8 hex / 10 decimal digits the value is out of range whatever it is (and parseInt
      // would lose precision deciding).
      const cp = digits.replace(/^0+/, '').length > (hex ? 8 : 10) ? Infinity : parseInt(digits, hex ? 16 : 10);
      if (!isXmlChar(cp)) {
        const what = Number.isFinite(cp) && cp <= 0x10ffff ? codePoint(cp) : 'out of range';
        throw new XmlError(`character reference ${whole} (${what}) is not an XML character`, offset);
      }
      return String.fromCodePoint(cp);
    }
    return NAMED[ref] ?? whole;
  });
}

export class XmlScanner {
  private rest = '';
  private text = '';
  private consumed = 0;
  private depth = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly stack: string[] = [];

  constructor(private readonly handler: XmlHandler) {}

  /** Feed raw bytes (UTF-8; a multi-byte sequence may be split across chunks). */
  writeBytes(chunk: Uint8Array): void {
    let s: string;
    try {
      s = this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new XmlError('invalid UTF-8', this.consumed);
    }
    this.write(s);
  }

  write(chunk: string): void {
    const bad = NOT_XML_CHAR.exec(chunk);
    if (bad !== null) {
      throw new XmlError(`character ${codePoint(chunk.charCodeAt(bad.index))} is not allowed in XML`, this.consumed + this.rest.length + bad.index);
    }
    const buf = this.rest.length > 0 ? this.rest + chunk : chunk;
    const end = this.scan(buf);
    this.rest = buf.slice(end);
    this.consumed += end;
    if (this.rest.length > MAX_TOKEN) throw new XmlError(`a tag longer than ${MAX_TOKEN} characters`, this.consumed);
    if (this.text.length > MAX_TOKEN) throw new XmlError(`a text run longer than ${MAX_TOKEN} characters`, this.consumed);
  }

  /** Signal end of input; throws when the document is truncated. */
  end(): void {
    try {
      this.write(this.decoder.decode());
    } catch (e) {
      if (e instanceof XmlError) throw e;
      throw new XmlError('truncated UTF-8 sequence', this.consumed);
    }
    if (this.rest.trim().length > 0) throw new XmlError('unexpected end of document inside a tag', this.consumed);
    if (this.stack.length > 0) {
      throw new XmlError(`unexpected end of document, <${this.stack[this.stack.length - 1]}> not closed`, this.consumed);
    }
    if (this.depth === 0 && this.consumed === 0) throw new XmlError('empty document', 0);
  }

  /** Scan complete tokens in `buf`; returns the index of the first unconsumed character. */
  private scan(buf: string): number {
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      const lt = buf.indexOf('<', pos);
      if (lt === -1) {
        this.text += buf.slice(pos);
        return len;
      }
      if (lt + 1 >= len) {
        if (lt > pos) this.text += buf.slice(pos, lt);
        return lt;
      }
      const c = buf.charCodeAt(lt + 1);
      // Text before a start tag is dropped by openTag anyway: only keep it before anything else.
      if (lt > pos && (c === SLASH || c === BANG || c === QMARK)) this.text += buf.slice(pos, lt);
      if (c === BANG) {
        let close: number;
        let skip: number;
        if (buf.startsWith('<!--', lt)) {
          close = buf.indexOf('-->', lt + 4);
          skip = 3;
        } else if (buf.startsWith('<![CDATA[', lt)) {
          close = buf.indexOf(']]>', lt + 9);
          skip = 3;
          // CDATA content is literal text: re-encode '&' and '<' so decodeXml round-trips it.
          if (close !== -1) this.text += buf.slice(lt + 9, close).replace(/&/g, '&amp;').replace(/</g, '&lt;');
        } else if (lt + 9 > len) {
          return lt;
        } else {
          close = buf.indexOf('>', lt + 2); // DOCTYPE without an internal subset
          skip = 1;
        }
        if (close === -1) return lt;
        pos = close + skip;
        continue;
      }
      if (c === QMARK) {
        const close = buf.indexOf('?>', lt + 2);
        if (close === -1) return lt;
        pos = close + 2;
        continue;
      }
      if (c === SLASH) {
        const next = this.endTag(buf, lt);
        if (next === -1) return lt;
        pos = next;
        continue;
      }
      const next = this.startTag(buf, lt);
      if (next === -1) return lt;
      pos = next;
    }
    return len;
  }

  /** Parse `</name>` at `lt`; -1 when the tag is not complete in `buf`. */
  private endTag(buf: string, lt: number): number {
    const gt = buf.indexOf('>', lt + 2);
    if (gt === -1) return -1;
    const top = this.stack[this.stack.length - 1];
    // Fast path: `</name>` exactly as opened, no slicing.
    const exact = top !== undefined && gt === lt + 2 + top.length && buf.startsWith(top, lt + 2);
    const name = exact ? (top as string) : buf.slice(lt + 2, gt).trim();
    const open = this.stack.pop();
    if (open !== name) {
      throw new XmlError(open === undefined ? `unexpected </${name}>` : `</${name}> closes <${open}>`, this.consumed + lt);
    }
    const text = this.text;
    this.text = '';
    // Handlers decode only the text they use; a bad reference anywhere still makes the
    // document malformed (as for expat), so references are checked here for all of it.
    if (text.indexOf('&#') !== -1) decodeXml(text, this.consumed + lt - text.length);
    this.handler.close(name, text);
    return gt + 1;
  }

  /** Parse `<name attr="v" ...>` at `lt`; -1 when the tag is not complete in `buf`. */
  private startTag(buf: string, lt: number): number {
    const len = buf.length;
    let i = lt + 1;
    while (i < len) {
      const c = buf.charCodeAt(i);
      if (isSpace(c) || c === GT || c === SLASH) break;
      i++;
    }
    if (i >= len) return -1;
    const name = buf.slice(lt + 1, i);
    if (name.length === 0) throw new XmlError('empty tag name', this.consumed + lt);
    const attrs: Attrs = {};
    for (;;) {
      while (i < len && isSpace(buf.charCodeAt(i))) i++;
      if (i >= len) return -1;
      const c = buf.charCodeAt(i);
      if (c === GT) {
        this.openTag(name, attrs, false);
        return i + 1;
      }
      if (c === SLASH) {
        if (i + 1 >= len) return -1;
        if (buf.charCodeAt(i + 1) !== GT) throw new XmlError(`bad '/' in <${name}>`, this.consumed + i);
        this.openTag(name, attrs, true);
        return i + 2;
      }
      const eq = buf.indexOf('=', i);
      if (eq === -1) return -1;
      const key = buf.slice(i, eq).trim();
      let q = eq + 1;
      while (q < len && isSpace(buf.charCodeAt(q))) q++;
      if (q >= len) return -1;
      const quote = buf.charCodeAt(q);
      if (quote !== DQ && quote !== SQ) throw new XmlError(`unquoted attribute '${key}' in <${name}>`, this.consumed + q);
      const endq = buf.indexOf(quote === DQ ? '"' : "'", q + 1);
      if (endq === -1) return -1;
      if (key.length === 0 || buf.charCodeAt(eq) !== EQ) throw new XmlError(`bad attribute in <${name}>`, this.consumed + i);
      attrs[key] = decodeXml(buf.slice(q + 1, endq), this.consumed + q + 1);
      i = endq + 1;
    }
  }

  private openTag(name: string, attrs: Attrs, selfClosing: boolean): void {
    this.depth++;
    this.text = '';
    this.handler.open(name, attrs, selfClosing);
    if (selfClosing) this.handler.close(name, '');
    else this.stack.push(name);
  }
}

/** Parse a whole (small) document held in memory. */
export function scanXml(input: string | Uint8Array, handler: XmlHandler): void {
  const sc = new XmlScanner(handler);
  if (typeof input === 'string') sc.write(input);
  else sc.writeBytes(input);
  sc.end();
}
