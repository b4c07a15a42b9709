/**
 * Property-based fuzzing (fast-check, fixed seed, small time budget) of the OpenPGP parsers that
 * read untrusted bytes: ASCII armor, packet framing, keys, signatures, and a package's signature
 * tags. Anything may be refused, but only with a LayerError; nothing may crash or hang.
 * A longer run: LAYER_FUZZ_RUNS=20000 LAYER_FUZZ_SEED=<n> npx vitest run test/trust/fuzz.test.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { openRpm } from '../../src/rpm/index.js';
import { decodeArmor, encodeArmor, keyProblem, Keyring, parseArmoredKeys, parseSignature, readPackets, DEFAULT_POLICY, SignatureProblem } from '../../src/trust/index.js';
import { verifyData } from '../../src/trust/keyring.js';
import { framePacket } from '../../src/trust/packets.js';

const SEED = Number(process.env.LAYER_FUZZ_SEED ?? 20260110);
const RUNS = Number(process.env.LAYER_FUZZ_RUNS ?? 400);
const BUDGET_MS = Number(process.env.LAYER_FUZZ_MS ?? 4000);
const opts = { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false };
const KEYS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/data/keys');
const SEEDS = ['rpm.org-rsa-2048-test.pub', 'alice-revoked-subkey.asc', 'rpm.org-nistp256-test.pub', 'rpm.org-v6-ed25519-test.asc', 'CVE-2021-3521-badbind.asc', 'type-confusion.asc'].map((f) => {
  const text = readFileSync(join(KEYS, f), 'latin1');
  return { text, bin: decodeArmor(text, f)[0]!.data };
});
// A real signature packet to mutate: the header signature (RSAHEADER) of rpm's signed test package.
const SIG = (await openRpm(join(KEYS, '../rpms/hello-2.0-1.x86_64-signed.rpm'))).signatureHeader.bin(268)!;

/** Runs `f`; anything but a LayerError escaping is a crash. */
function survives(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof LayerError) return true;
    throw e;
  }
}

/** Byte-level damage: flips, truncation, splices of random bytes. */
const damaged = (base: Uint8Array) =>
  fc.record({
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    insertAt: fc.nat(),
    insert: fc.uint8Array({ maxLength: 16 }),
  }).map(({ flips, cut, insertAt, insert }) => {
    const b = Buffer.from(base);
    for (const [at, x] of flips) if (b.length) b[at % b.length] = b[at % b.length]! ^ x;
    const at = b.length ? insertAt % b.length : 0;
    const spliced = Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]);
    return cut === undefined ? spliced : spliced.subarray(0, cut % (spliced.length + 1));
  });

describe('OpenPGP parsers under fuzzing', () => {
  it('armor: arbitrary text is decoded or refused with a LayerError', () => {
    const armorish = fc.array(fc.oneof(
      fc.constantFrom('-----BEGIN PGP PUBLIC KEY BLOCK-----', '-----END PGP PUBLIC KEY BLOCK-----', '-----BEGIN PGP SIGNATURE-----', '', 'Version: x', '=AAAA', '=Z6nu'),
      fc.base64String({ maxLength: 80 }),
      fc.string({ maxLength: 40 }),
    ), { maxLength: 30 }).map((l) => l.join('\n'));
    fc.assert(fc.property(armorish, (t) => survives(() => decodeArmor(t, 'fuzz'))), opts);
  });

  it('armor: encode then decode gives the bytes back', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => {
      const [block] = decodeArmor(encodeArmor('PUBLIC KEY BLOCK', b), 'rt');
      expect(Buffer.from(block!.data).equals(Buffer.from(b))).toBe(true);
    }), opts);
  });

  it('packets: random bytes are framed or refused; framing round-trips', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => survives(() => readPackets(b, 'fuzz'))), opts);
    fc.assert(fc.property(fc.integer({ min: 1, max: 63 }), fc.uint8Array({ maxLength: 9000 }), (tag, body) => {
      const [p] = readPackets(framePacket(tag, body), 'rt');
      expect(p!.tag).toBe(tag);
      expect(Buffer.from(p!.body).equals(Buffer.from(body))).toBe(true);
    }), { ...opts, numRuns: Math.min(RUNS, 100) });
  });

  it('keys: damaged real certificates (binary and armored) parse or are refused, and judging them never crashes', () => {
    const pick = fc.integer({ min: 0, max: SEEDS.length - 1 });
    fc.assert(fc.property(pick.chain((i) => damaged(SEEDS[i]!.bin)), (bytes) => survives(() => {
      for (const c of parseArmoredKeys(bytes, 'fuzz')) {
        for (const k of [c.primary, ...c.subkeys.map((s) => s.key)]) keyProblem(c, k, DEFAULT_POLICY, c.primary.created + 1);
      }
    })), opts);
    fc.assert(fc.property(pick.chain((i) => damaged(Buffer.from(SEEDS[i]!.text, 'latin1'))), (bytes) => survives(() => parseArmoredKeys(bytes, 'fuzz'))), { ...opts, numRuns: Math.min(RUNS, 200) });
  });

  it('signatures: damaged signature packets are parsed or refused, and verifying them gives a verdict', async () => {
    const ring = new Keyring();
    ring.addKeys(readFileSync(join(KEYS, 'rpm.org-rsa-2048-test.pub')), 'rsa');
    const body = readPackets(SIG, 'sig')[0]!.body;
    await fc.assert(fc.asyncProperty(damaged(body), async (b) => {
      let sig;
      try {
        sig = parseSignature(b, (w) => new LayerError('LAYER_RPM_SIGNATURE', w));
      } catch (e) {
        if (e instanceof LayerError) return;
        throw e;
      }
      const r = await verifyData(sig, ring, () => [new Uint8Array(16)], DEFAULT_POLICY);
      expect(r instanceof SignatureProblem || r.fingerprint.length === 40).toBe(true);
    }), { ...opts, numRuns: Math.min(RUNS, 300) });
  });

  it('a signature nested in embedded signatures is refused, not recursed into', () => {
    // 0x19 back-signature inside a back-signature inside …: one level is all a verifier needs.
    let inner = Uint8Array.of(4, 0x19, 1, 8, 0, 0, 0, 0, 0, 0, 0, 1);
    for (let i = 0; i < 3; i++) {
      const sub = Buffer.concat([Uint8Array.of(inner.length + 1 < 192 ? inner.length + 1 : 255), Uint8Array.of(32), inner]);
      const hashed = Buffer.concat([Uint8Array.of(sub.length >> 8, sub.length & 0xff), sub]);
      inner = Buffer.concat([Uint8Array.of(4, 0x18, 1, 8), hashed, Uint8Array.of(0, 0, 0, 0, 0, 0)]);
    }
    expect(survives(() => parseSignature(inner, (w) => new LayerError('LAYER_GPG_KEY', w)))).toBe(true);
  });
});
