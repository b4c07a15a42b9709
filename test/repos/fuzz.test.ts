/**
 * Property-based fuzzing (fast-check, fixed seed) of every repos/ parser that reads bytes from
 * a mirror or a `.repo` file: repomd.xml, primary.xml, filelists.xml, metalinks, mirrorlists
 * and `.repo` files. Inputs are real createrepo_c output damaged by random edits (byte flips,
 * deletions, truncation, insertions of hostile XML fragments) plus structured random `.repo`
 * text. Property: the parser returns or throws a LayerError with a documented repos code; never
 * a TypeError/RangeError, never a hang (each run is timed).
 *
 * CI runs RUNS cases per parser with SEED; a longer hunt:
 *   LAYER_FUZZ_RUNS=20000 LAYER_FUZZ_SEED=$RANDOM npx vitest run test/repos/fuzz.test.ts
 * A failure prints the seed and path to replay it (fast-check's `seed`/`path` parameters).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { parseFilelists, parseMetalink, parseMirrorlist, parsePrimary, parseRepoFile, parseRepomd } from '../../src/repos/index.js';
import { fixtureTree } from './helpers.js';

const SEED = Number(process.env.LAYER_FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.LAYER_FUZZ_RUNS ?? 150);
/** Longest one parse may take (the documents are a few kB; a hang shows as a blown budget). */
const PER_CASE_MS = 2000;
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

let docs: { repomd: string; primary: string; filelists: string; metalink: string };

beforeAll(() => {
  const { repo } = fixtureTree();
  const names = readdirSync(join(repo, 'repodata'));
  const read = (suffix: string) => {
    const name = names.find((n) => n.endsWith(suffix));
    if (name === undefined) throw new Error(`fixture repo has no *${suffix}`);
    return gunzipSync(readFileSync(join(repo, 'repodata', name))).toString('utf8');
  };
  docs = {
    repomd: readFileSync(join(repo, 'repodata/repomd.xml'), 'utf8'),
    primary: read('-primary.xml.gz'),
    filelists: read('-filelists.xml.gz'),
    metalink: `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/"><files><file name="repomd.xml"><size>1234</size>
<verification><hash type="sha256">${'ab'.repeat(32)}</hash><hash type="md5">00</hash></verification>
<resources><url protocol="https" preference="100">https://a.example/repodata/repomd.xml</url>
<url protocol="http" preference="90">http://b.example/x/repodata/repomd.xml</url></resources></file></files></metalink>`,
  };
});

/** Fragments a hostile mirror would try: bad references, controls, huge numbers, broken structure. */
const HOSTILE = [
  '&#27;', '&#7;', '&#0;', '&#x110000;', '&#xD800;', '&#99999999999999999999;', '&#x1b;[2J', '&amp', '&bogus;', '&',
  '\u0000', '\u001b', '\uffff', '\ud800', '<', '>', '</', '/>', '"', "'", '=', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>',
  '<!DOCTYPE x [<!ENTITY a "b">]>', '</package>', '<package type="rpm">', '</metadata>', '<rpm:entry name="x" flags="XX"/>',
  'packages="99999999999999999999"', 'packages="-1"', '<size package="1e308"/>', '<version epoch="9999999999999999" ver="" rel=""/>',
  '<location href="../../../../etc/passwd"/>', '<data type="primary">', '<checksum type="md4">00</checksum>', '<open-size>-5</open-size>',
  '<file name="repomd.xml">', '<url protocol="ftp">ftp://x/</url>', 'é', '😀', ' ', '\n',
];

type Edit = { at: number; kind: 'flip' | 'delete' | 'insert' | 'truncate'; len: number; frag: string; byte: number };

const edits = fc.array(
  fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x),
    kind: fc.constantFrom<Edit['kind']>('flip', 'delete', 'insert', 'insert', 'truncate'),
    len: fc.integer({ min: 1, max: 64 }),
    frag: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 })),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  { minLength: 1, maxLength: 6 },
);

/** Apply `es` to `doc` (positions are fractions of the current length, so every edit lands). */
function damage(doc: string, es: readonly (Omit<Edit, 'at'> & { at: number })[]): Buffer {
  let b = Buffer.from(doc, 'utf8');
  for (const e of es) {
    const at = Math.min(b.length, Math.floor(e.at * b.length));
    if (e.kind === 'flip' && at < b.length) {
      b = Buffer.from(b);
      b[at] = e.byte;
    } else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.frag, 'utf8'), b.subarray(at)]);
    else if (e.kind === 'truncate') b = b.subarray(0, at);
  }
  return b;
}

const REPO_CODES = new Set(['LAYER_REPO_CORRUPT', 'LAYER_REPO_CONFIG', 'LAYER_REPO_CHECKSUM']);

/** Run `parse`; a LayerError with a repos code or success pass; anything else (or too slow) fails. */
async function survives(what: string, parse: () => unknown): Promise<void> {
  const t0 = performance.now();
  try {
    await parse();
  } catch (e) {
    if (!(e instanceof LayerError) || !REPO_CODES.has(e.code)) {
      throw new Error(`${what}: not a documented LayerError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    }
  }
  const ms = performance.now() - t0;
  if (ms > PER_CASE_MS) throw new Error(`${what}: took ${ms.toFixed(0)} ms (hang?)`);
}

describe(`fuzzing the rpm-md parsers (seed ${SEED}, ${RUNS} runs each)`, () => {
  it('repomd.xml', async () => {
    await fc.assert(fc.asyncProperty(edits, (es) => survives('repomd', () => parseRepomd(damage(docs.repomd, es), 'fuzz repomd.xml'))), params);
  });

  it('primary.xml (bytes and split into random chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.integer({ min: 1, max: 997 }), (es, step) => {
        const b = damage(docs.primary, es);
        const chunks = Array.from({ length: Math.ceil(b.length / step) }, (_, i) => b.subarray(i * step, (i + 1) * step));
        return survives('primary', () => parsePrimary(chunks, { what: 'fuzz primary.xml' }));
      }),
      params,
    );
  });

  it('filelists.xml', async () => {
    await fc.assert(fc.asyncProperty(edits, (es) => survives('filelists', () => parseFilelists(damage(docs.filelists, es), { what: 'fuzz filelists.xml' }))), params);
  });

  it('metalinks and mirrorlists', async () => {
    await fc.assert(
      fc.asyncProperty(edits, (es) =>
        survives('metalink', () => {
          const b = damage(docs.metalink, es);
          parseMetalink(b, 'fuzz metalink');
          parseMirrorlist(b.toString('utf8'));
        }),
      ),
      params,
    );
  });

  it('arbitrary text never makes the XML readers throw anything but LayerError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 8 })), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        return survives('any', async () => {
          await survives('repomd', () => parseRepomd(text, 'x'));
          await survives('primary', () => parsePrimary(text));
          await survives('filelists', () => parseFilelists(text));
          await survives('metalink', () => parseMetalink(text, 'x'));
        });
      }),
      params,
    );
  });
});

describe(`fuzzing .repo files (seed ${SEED}, ${RUNS} runs)`, () => {
  const KEYS = ['name', 'baseurl', 'mirrorlist', 'metalink', 'enabled', 'gpgcheck', 'repo_gpgcheck', 'gpgkey', 'metadata_expire', 'priority', 'cost',
    'excludepkgs', 'includepkgs', 'skip_if_unavailable', 'sslverify', 'proxy', 'timeout', 'retries', 'minrate', 'x-unknown', ''];
  const value = fc.oneof(
    fc.constantFrom('1', '0', 'yes', 'off', '-1', 'never', '7d', '1k', '2M', '0.5', '99999999999999999999', 'http://a/ , /b', '$releasever', '${basearch:-x}', '\u001b[2J', '\t', ''),
    fc.string({ maxLength: 16 }),
  );
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('[', '[ '), fc.oneof(fc.constantFrom('main', 'a.b:c-d', '$x', '${y}', ''), fc.string({ maxLength: 8 })), fc.constantFrom(']', '', ']]')).map((p) => p.join('')),
    fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom('=', ' = ', '=='), value).map(([k, s, v]) => `${k}${s}${v}`),
    value.map((v) => `  ${v}`), // continuation
    fc.constantFrom('# comment', '; comment', '', '\r', 'junk without equals'),
  );

  it('parseRepoFile returns configs or LAYER_REPO_CONFIG (file:line), echoing no control character', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), fc.boolean(), (lines, crlf) =>
        survives('.repo', () => {
          try {
            for (const c of parseRepoFile(lines.join(crlf ? '\r\n' : '\n'), 'fuzz.repo', { releasever: '41' })) {
              expect(c.id).not.toBe('');
              expect(c.baseurls.length + (c.mirrorlist ? 1 : 0) + (c.metalink ? 1 : 0)).toBeGreaterThan(0);
              expect(Number.isFinite(c.timeout) && c.timeout >= 0 && Number.isFinite(c.retries) && c.retries >= 0).toBe(true);
            }
          } catch (e) {
            if (e instanceof LayerError) {
              expect(e.code).toBe('LAYER_REPO_CONFIG');
              expect(e.message).toMatch(/^fuzz\.repo:\d+: /);
              expect(/[\u0000-\u001f\u007f-\u009f]/.test(`${e.message}${e.hint ?? ''}`)).toBe(false);
            }
            throw e;
          }
        }),
      ),
      params,
    );
  });
});
