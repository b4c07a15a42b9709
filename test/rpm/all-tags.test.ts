/**
 * Every tag of every header, decoded by type (CHAR/INT8/16/32/64, STRING, BIN, STRING_ARRAY,
 * I18NSTRING), against `rpm -qp --xml`, which dumps all of them in tag order.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRpm, SIG, TagType, type RpmHeader } from '../../src/rpm/index.js';
import { everyFeature } from '../../fixtures/specs/rpm-reader.js';
import { buildRpm } from '../support/rpmbuild.js';
import { requireTool, sharedRpms } from './helpers.js';

/** Signature-header tags as rpm merges them into the header it shows (xlateTags). */
const FROM_SIG: Record<string, number> = {
  Sigsize: SIG.SIZE, Sigmd5: SIG.MD5, Sha1header: SIG.SHA1, Sha256header: SIG.SHA256, Rsaheader: SIG.RSA,
  Dsaheader: SIG.DSA, Sigpgp: SIG.PGP, Siggpg: SIG.GPG, Longsigsize: SIG.LONGSIZE, Longarchivesize: SIG.LONGARCHIVESIZE,
};

const unescape = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

function rpmXml(path: string): { name: string; values: string[] }[] {
  const xml = execFileSync('rpm', ['-qp', '--nosignature', '--nodigest', '--xml', path], { maxBuffer: 1 << 28 }).toString();
  return [...xml.matchAll(/<rpmTag name="([^"]+)">([\s\S]*?)<\/rpmTag>/g)].map((m) => ({
    name: m[1] as string,
    values: [...(m[2] as string).matchAll(/<(string|integer|base64)>([\s\S]*?)<\/\1>|<string\/>/g)].map((v) =>
      v[1] === undefined ? '' : v[1] === 'base64' ? (v[2] as string).replace(/\s+/g, '') : unescape(v[2] as string)),
  }));
}

function values(h: RpmHeader, tag: number): string[] {
  const e = h.entry(tag);
  if (!e) return [];
  if (e.type === TagType.Bin) return [Buffer.from(h.bin(tag) as Uint8Array).toString('base64')];
  if (e.type === TagType.I18nString) return [h.string(tag) as string];
  if (e.type === TagType.String || e.type === TagType.StringArray) return h.strings(tag);
  return h.bigints(tag).map(String);
}

async function compare(path: string): Promise<void> {
  const pkg = await openRpm(path);
  const h = pkg.header;
  const theirs = rpmXml(path);
  const fromSig = theirs.filter((t) => t.name in FROM_SIG || (t.name === 'Archivesize' && !h.has(1046)));
  for (const t of fromSig) {
    expect(values(pkg.signatureHeader, FROM_SIG[t.name] ?? SIG.PAYLOADSIZE), t.name).toEqual(t.values);
  }
  const main = theirs.filter((t) => !fromSig.includes(t));
  const ours = [...h.index].filter((e) => e.tag !== 63).sort((a, b) => a.tag - b.tag);
  expect(ours.length).toBe(main.length);
  ours.forEach((e, i) => expect({ tag: e.tag, values: values(h, e.tag) }).toEqual({ tag: e.tag, values: main[i]?.values }));
}

describe('every header tag agrees with rpm --xml', () => {
  const files = (() => {
    try {
      return readdirSync(sharedRpms()).filter((f) => f.endsWith('.rpm') && !f.includes('corrupted'));
    } catch {
      return ['(../shared/data/rpms missing)'];
    }
  })();
  for (const f of files) {
    it(f, async () => {
      requireTool('rpm', 'rpm');
      await compare(join(sharedRpms(), f));
    });
  }
  it('every-feature fixture (triggers, file triggers, caps, weak deps)', async () => {
    requireTool('rpmbuild', 'rpm');
    await compare(await buildRpm(everyFeature('gzip')));
  });
});
