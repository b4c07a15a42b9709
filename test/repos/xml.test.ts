/**
 * XML 1.0 characters in the rpm-md scanner (§2.2 Char, §4.1 WFC: Legal Character) and the
 * escaping of control characters in text shown to the user (issue 10: "control characters from
 * metadata reach the terminal").
 */
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { parsePrimary, parseRepomd } from '../../src/repos/index.js';
import { MAX_TOKEN, XmlError, decodeXml, scanXml } from '../../src/repos/xml.js';
import { escapeControl } from '../../src/util/escape.js';

const noop = { open() {}, close() {} };

function xmlError(f: () => unknown): XmlError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    return e as XmlError;
  }
  throw new Error('expected an XmlError');
}

describe('character references', () => {
  it('decodes the legal ones, the astral plane and the five entities included', () => {
    expect(decodeXml('a&#9;b&#xA;c&#13;&#x20AC;&#128512;&lt;&gt;&amp;&quot;&apos;')).toBe('a\tb\nc\r€😀<>&"\'');
    expect(decodeXml('&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;')).toBe('\ud7ff\ue000\ufffd\u{10000}\u{10ffff}');
  });

  it('refuses what expat and libxml2 refuse: C0 controls, NUL, surrogates, U+FFFE/F, past U+10FFFF', () => {
    for (const [ref, what] of [
      ['&#27;', 'U+001B'], ['&#7;', 'U+0007'], ['&#x1b;', 'U+001B'], ['&#0;', 'U+0000'], ['&#xD800;', 'U+D800'],
      ['&#xFFFE;', 'U+FFFE'], ['&#xFFFF;', 'U+FFFF'], ['&#x110000;', 'out of range'], ['&#99999999999999999999;', 'out of range'],
    ] as const) {
      expect(xmlError(() => decodeXml(`x${ref}y`)).message, ref).toBe(`character reference ${ref} (${what}) is not an XML character`);
    }
  });

  it('in attributes the error carries the offset', () => {
    const e = xmlError(() => scanXml('<a b="ok&#27;"/>', noop));
    expect(e.message).toBe('character reference &#27; (U+001B) is not an XML character at offset 6');
  });

  it('raw control characters are refused too (expat: "not well-formed (invalid token)")', () => {
    expect(xmlError(() => scanXml('<a>x\u001by</a>', noop)).message).toBe('character U+001B is not allowed in XML at offset 4');
    expect(xmlError(() => scanXml(Buffer.from('<a>\u0007</a>'), noop)).message).toMatch(/^character U\+0007/);
    // Tab, newline and carriage return are characters; DEL and C1 are (XML 1.0 allows them).
    expect(() => scanXml('<a>\t\r\n\u007f\u0085</a>', noop)).not.toThrow();
  });

  it('repomd.xml and primary.xml errors are LAYER_REPO_CORRUPT naming the file', async () => {
    const e = (() => {
      try {
        parseRepomd('<repomd><revision>1&#27;</revision></repomd>', 'repo t: http://m/repodata/repomd.xml');
      } catch (x) {
        return x as LayerError;
      }
      throw new Error('expected an error');
    })();
    expect(e).toBeInstanceOf(LayerError);
    expect(e.code).toBe('LAYER_REPO_CORRUPT');
    expect(e.message).toMatch(/^repo t: http:\/\/m\/repodata\/repomd\.xml: malformed XML: character reference &#27; \(U\+001B\)/);
    const primary = `<metadata packages="1"><package type="rpm"><name>x&#27;[2J</name><arch>noarch</arch>
      <version epoch="0" ver="1" rel="1"/><checksum type="sha256">00</checksum><location href="x.rpm"/><format/></package></metadata>`;
    await expect(parsePrimary(primary)).rejects.toThrow(/character reference &#27; \(U\+001B\) is not an XML character/);
  });
});

describe('size of one token', () => {
  it(`a text run or an unfinished tag longer than ${MAX_TOKEN} characters is an error, not unbounded memory`, () => {
    const e = xmlError(() => scanXml(`<a>${'x'.repeat(MAX_TOKEN + 1)}`, noop));
    expect(e.message).toMatch(/^a text run longer than 10000000 characters/);
    const t = xmlError(() => scanXml(`<a b="${'x'.repeat(MAX_TOKEN + 1)}`, noop));
    expect(t.message).toMatch(/^a tag longer than 10000000 characters/);
  });
});

describe('escapeControl', () => {
  it('shows C0, DEL and C1 controls as \\xHH and leaves everything else', () => {
    expect(escapeControl('1.0\u001b]0;pwned\u0007\u001b[2J')).toBe('1.0\\x1b]0;pwned\\x07\\x1b[2J');
    expect(escapeControl('a\u0000b\u007fc\u0085d\u009be\r\n\t')).toBe('a\\x00b\\x7fc\\x85d\\x9be\\x0d\\x0a\\x09');
    expect(escapeControl('plain é € 😀 \\ ok')).toBe('plain é € 😀 \\ ok');
  });

  it('keepNewlines keeps \\n only (messages layer composed over several lines)', () => {
    expect(escapeControl('one\ntwo\r\u001b', { keepNewlines: true })).toBe('one\ntwo\\x0d\\x1b');
  });
});
