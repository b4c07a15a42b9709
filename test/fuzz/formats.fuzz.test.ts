/**
 * Property-based fuzzing (fast-check, fixed seed) of the parsers of layer's own formats that read
 * bytes from disk or a mirror and are not fuzzed elsewhere: GVariant (every OSTree object goes
 * through it), `.origin` files, and updateinfo.xml. Inputs are valid values/documents damaged by
 * random edits plus fully random bytes. Property: the parser returns or throws a LayerError with a
 * documented code; never a TypeError/RangeError, never a hang (each case is timed).
 *
 * A longer hunt: LAYER_FUZZ_RUNS=20000 LAYER_FUZZ_SEED=$RANDOM npx vitest run test/fuzz
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { parseUpdateinfo } from '../../src/repos/updateinfo.js';
import { deserialize, serialize } from '../../src/store/gvariant/codec.js';
import { formatOrigin, parseOrigin } from '../../src/sysroot/index.js';

const SEED = Number(process.env.LAYER_FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.LAYER_FUZZ_RUNS ?? 300);
const PER_CASE_MS = 2000;
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

/** Runs `parse`, failing on anything but success or a LayerError, or a case slower than the budget. */
function survives(parse: () => unknown): boolean {
  const t0 = performance.now();
  try {
    parse();
  } catch (err) {
    if (!(err instanceof LayerError)) throw err;
  }
  const ms = performance.now() - t0;
  if (ms > PER_CASE_MS) throw new Error(`one parse took ${Math.round(ms)} ms`);
  return true;
}

/** A byte string damaged by flips, cuts and insertions. */
const damaged = (valid: Uint8Array) =>
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { maxLength: 8 }).map((edits) => {
    let b = Array.from(valid);
    for (const [at, byte, kind] of edits) {
      const i = b.length ? at % b.length : 0;
      if (kind === 'flip') b[i] = byte;
      else if (kind === 'cut') b = b.slice(0, i);
      else b.splice(i, 0, byte);
    }
    return Uint8Array.from(b);
  });

// Signatures of OSTree objects: commit, dirtree, dirmeta, content header, summary.
const SIGS = ['(a{sv}aya(say)sstayay)', '(a(say)a(sayay))', '(uuua(ayay))', '(tuuuusa(ayay))', '(a(s(taya{sv}))a{sv})'];
const SAMPLE: Record<string, Parameters<typeof serialize>[1]> = {
  '(a(say)a(sayay))': [[['a', new Uint8Array(32).fill(1)]], [['d', new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)]]],
  '(uuua(ayay))': [0, 0, 0o40755, [[new Uint8Array([1, 2]), new Uint8Array([3])]]],
};

describe('GVariant', () => {
  it('deserialize survives random and damaged bytes for every OSTree object signature', () => {
    for (const sig of SIGS) {
      const valid = SAMPLE[sig] ? serialize(sig, SAMPLE[sig]) : new Uint8Array(0);
      fc.assert(fc.property(fc.oneof(damaged(valid), fc.uint8Array({ maxLength: 512 })), (bytes) => survives(() => deserialize(sig, bytes))), params);
    }
  });
});

describe('.origin files', () => {
  const valid = formatOrigin({
    baseRef: 'demo/base', baseCommit: 'a'.repeat(64) as never, requested: ['openssl', 'vim'],
    requestedLocal: [{ sha256: 'b'.repeat(64), nevra: 'x-1-1.noarch' }], removed: ['nano'],
    recipe: { packages: ['bash'], repos: ['base'] }, inputDigest: 'c'.repeat(64), layered: ['openssl-3-1.x86_64'],
  });
  it('parseOrigin survives damaged and random text', () => {
    const text = fc.oneof(damaged(Buffer.from(valid)).map((b) => Buffer.from(b).toString('latin1')), fc.string({ maxLength: 400 }));
    fc.assert(fc.property(text, (t) => survives(() => parseOrigin(t, 'fuzz.origin'))), params);
  });
  it('an undamaged origin round-trips (the fuzz starts from a valid file)', () => {
    expect(formatOrigin(parseOrigin(valid, 'x'))).toBe(valid);
  });
});

describe('updateinfo.xml', () => {
  const valid = `<?xml version="1.0"?><updates><update type="security" status="final" from="sec@example">
<id>EX-2026:0001</id><title>t</title><severity>Important</severity><issued date="2026-11-01"/>
<references><reference href="https://example/CVE-2026-1" id="CVE-2026-1" type="cve"/></references>
<pkglist><collection><package name="openssl" version="3.0.23" release="1" epoch="1" arch="x86_64"><filename>o.rpm</filename></package></collection></pkglist>
</update></updates>`;
  it('parseUpdateinfo survives damaged and random documents', () => {
    const doc = fc.oneof(damaged(Buffer.from(valid)), fc.uint8Array({ maxLength: 400 }));
    fc.assert(fc.property(doc, (b) => survives(() => parseUpdateinfo(b, 'fuzz updateinfo.xml'))), params);
  });
  it('the undamaged document parses to one advisory', () => {
    expect(parseUpdateinfo(valid).length).toBe(1);
  });
});
