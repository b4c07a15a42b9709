/**
 * rpm's `gpg-pubkey` pseudo-packages: the rpmdb entry `rpmkeys --import` writes for a key, so that
 * `rpm -qa gpg-pubkey` in a composed tree lists the keys imported for it exactly as rpm would.
 * The header follows Debian's rpm 4.18 (lib/rpmts.c makePubkeyHeader, the version layer's tests
 * compare against): name gpg-pubkey, version = the key id's last 8 hex digits, release = the key's
 * creation time in hex, summary "<user id> public key", the armored key as description, PUBKEYS,
 * the gpg(...) provides; then rpm's install-time dribbles (header SHA1/SHA256, INSTALLTIME/TID).
 * (rpm ≥ 4.19 names them by full fingerprint instead; 4.18 is what rpm-ostree hosts read today.)
 */
import { createHash } from 'node:crypto';
import { HEADER_MAGIC, parseHeaderBlob, TagType } from '../rpm/index.js';
import { certPackets, encodeArmor, framePacket, primaryUserId, PacketTag, readPackets, type Cert } from '../trust/index.js';
import { appendDribbles, DribbleType } from './dribble.js';
import type { RpmdbEntry } from './write.js';

const T = {
  HEADERIMMUTABLE: 63,
  PUBKEYS: 266,
  SHA1HEADER: 269,
  SHA256HEADER: 273,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  INSTALLTIME: 1008,
  SIZE: 1009,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  RPMVERSION: 1064,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  INSTALLTID: 1128,
} as const;

/** RPMSENSE_EQUAL | RPMSENSE_KEYRING (rpmds.h). */
const KEYRING_EQUAL = 0x4000008;

type Value = { type: TagType.String | TagType.I18nString; v: string } | { type: TagType.StringArray; v: string[] } | { type: TagType.Int32; v: number[] };

export interface PubkeyEntryOptions {
  /** INSTALLTIME and INSTALLTID (seconds), as the transaction that imports the key stamps it. */
  installTime: number;
  installTid?: number;
  /** RPMVERSION and the armor's "Version: rpm-…" line (default '4.18.0', Debian 12's rpm). */
  rpmVersion?: string;
}

/** `gpg-pubkey-<version>-<release>`, as `rpm -qa gpg-pubkey` prints it. */
export function pubkeyNevr(cert: Cert): string {
  return `gpg-pubkey-${cert.primary.keyId.slice(-8)}-${hex8(cert.primary.created)}`;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** The key bytes rpm records: the certificate as imported, re-framed only if it carried secret parts. */
function keyBytes(cert: Cert): Uint8Array {
  const secret = readPackets(cert.raw, cert.from).some((p) => p.tag === PacketTag.SecretKey || p.tag === PacketTag.SecretSubkey);
  if (!secret && cert.raw.length > 0) return cert.raw;
  return Buffer.concat(certPackets(cert).map((p) => framePacket(p.tag, p.body)));
}

/** The rpmdb entry (`kind: 'installed'`, stored verbatim) recording `cert` as rpm 4.18 would. */
export function pubkeyEntry(cert: Cert, opts: PubkeyEntryOptions): RpmdbEntry {
  const version = opts.rpmVersion ?? '4.18.0';
  const key = cert.primary;
  const uid = primaryUserId(cert);
  const short = key.keyId.slice(-8);
  const release = hex8(key.created);
  const bytes = keyBytes(cert);
  const b64 = Buffer.from(bytes).toString('base64');
  const pubkeys = `${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n`;
  const evr = `4:${key.keyId}-${release}`;
  const tags = new Map<number, Value>([
    [T.PUBKEYS, { type: TagType.StringArray, v: [pubkeys] }],
    [T.NAME, { type: TagType.String, v: 'gpg-pubkey' }],
    [T.VERSION, { type: TagType.String, v: short }],
    [T.RELEASE, { type: TagType.String, v: release }],
    [T.SUMMARY, { type: TagType.I18nString, v: `${uid} public key` }],
    [T.DESCRIPTION, { type: TagType.I18nString, v: encodeArmor('PUBLIC KEY BLOCK', bytes, { Version: `rpm-${version}` }) }],
    [T.BUILDTIME, { type: TagType.Int32, v: [key.created] }],
    [T.BUILDHOST, { type: TagType.String, v: 'localhost' }],
    [T.SIZE, { type: TagType.Int32, v: [0] }],
    [T.LICENSE, { type: TagType.String, v: 'pubkey' }],
    [T.PACKAGER, { type: TagType.String, v: uid }],
    [T.GROUP, { type: TagType.I18nString, v: 'Public Keys' }],
    [T.SOURCERPM, { type: TagType.String, v: '(none)' }],
    [T.PROVIDENAME, { type: TagType.StringArray, v: [`gpg(${uid})`, `gpg(${short})`, `gpg(${key.keyId})`] }],
    [T.RPMVERSION, { type: TagType.String, v: version }],
    [T.PROVIDEFLAGS, { type: TagType.Int32, v: [KEYRING_EQUAL, KEYRING_EQUAL, KEYRING_EQUAL] }],
    [T.PROVIDEVERSION, { type: TagType.StringArray, v: [evr, evr, evr] }],
  ]);
  const region = encodeRegion(tags);
  const withMagic = Buffer.concat([HEADER_MAGIC, region]);
  const blob = appendDribbles(region, [
    { tag: T.SHA1HEADER, type: DribbleType.String, value: createHash('sha1').update(withMagic).digest('hex') },
    { tag: T.SHA256HEADER, type: DribbleType.String, value: createHash('sha256').update(withMagic).digest('hex') },
    { tag: T.INSTALLTIME, type: DribbleType.Int32, value: [opts.installTime] },
    { tag: T.INSTALLTID, type: DribbleType.Int32, value: [opts.installTid ?? opts.installTime] },
  ], pubkeyNevr(cert));
  return { kind: 'installed', header: parseHeaderBlob(blob, pubkeyNevr(cert)) };
}

/**
 * A header whose entries all sit in an immutable region (HEADERIMMUTABLE first), laid out as
 * rpm's headerExport does: entries by tag, each item aligned to its type, the region trailer
 * (tag, BIN, −16·entries, 16) last in the data.
 */
function encodeRegion(tags: Map<number, Value>): Uint8Array {
  const enc = new TextEncoder();
  const sorted = [...tags.entries()].sort((a, b) => a[0] - b[0]);
  const data: number[] = [];
  const index: [number, number, number, number][] = [];
  for (const [tag, val] of sorted) {
    const align = val.type === TagType.Int32 ? 4 : 1;
    while (data.length % align) data.push(0);
    const offset = data.length;
    let count: number;
    if (val.type === TagType.Int32) {
      for (const n of val.v) data.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
      count = val.v.length;
    } else if (val.type === TagType.StringArray) {
      for (const s of val.v) data.push(...enc.encode(s), 0);
      count = val.v.length;
    } else {
      data.push(...enc.encode(val.v), 0);
      count = 1;
    }
    index.push([tag, val.type, offset, count]);
  }
  const il = index.length + 1;
  const trailerAt = data.length;
  const dl = trailerAt + 16;
  const out = new Uint8Array(8 + il * 16 + dl);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, il);
  dv.setUint32(4, dl);
  const entries: [number, number, number, number][] = [[T.HEADERIMMUTABLE, TagType.Bin, trailerAt, 16], ...index];
  entries.forEach(([tag, type, offset, count], i) => {
    dv.setUint32(8 + i * 16, tag);
    dv.setUint32(12 + i * 16, type);
    dv.setInt32(16 + i * 16, offset);
    dv.setUint32(20 + i * 16, count);
  });
  const ds = 8 + il * 16;
  out.set(data, ds);
  dv.setUint32(ds + trailerAt, T.HEADERIMMUTABLE);
  dv.setUint32(ds + trailerAt + 4, TagType.Bin);
  dv.setInt32(ds + trailerAt + 8, -il * 16);
  dv.setUint32(ds + trailerAt + 12, 16);
  return out;
}
