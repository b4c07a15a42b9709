/**
 * ASCII armor (RFC 4880 §6.2–6.6, RFC 9580 §6.2): `-----BEGIN PGP …-----` blocks holding base64
 * with an optional `=XXXX` CRC-24. A file may hold several blocks (dnf's gpgkey files often do)
 * and text around them. Hostile input gets a LAYER_GPG_KEY error naming `from`, never a crash.
 */
import { LayerError } from '../errors.js';

export interface ArmorBlock {
  /** What follows `BEGIN PGP `: 'PUBLIC KEY BLOCK', 'SIGNATURE', … */
  kind: string;
  data: Uint8Array;
}

/** Armored input is text; anything bigger than this is not a key file (a hostile mirror's stream). */
export const MAX_ARMOR_BYTES = 16 * 1024 * 1024;

const BEGIN = /^-----BEGIN PGP ([A-Z0-9 ,/]+)-----\s*$/;

/** True when `bytes` looks like armor rather than binary packets (binary starts with a tag byte ≥ 0x80). */
export function isArmored(bytes: Uint8Array): boolean {
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  return first !== undefined && first < 0x80;
}

/** Every armor block in `text`, in order. Throws LAYER_GPG_KEY when there is none or one is damaged. */
export function decodeArmor(text: string, from: string): ArmorBlock[] {
  if (text.length > MAX_ARMOR_BYTES) throw bad(from, `larger than ${MAX_ARMOR_BYTES} bytes`);
  const lines = text.split(/\r?\n/);
  const out: ArmorBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]!.trimEnd());
    if (!m) continue;
    const kind = m[1]!;
    const end = `-----END PGP ${kind}-----`;
    i++;
    // Armor headers ("Version: …", "Comment: …") end at the first empty line. Some producers
    // omit that blank line: a line that is valid base64 (no ':') starts the body then.
    while (i < lines.length && lines[i]!.trim() !== '' && lines[i]!.includes(':')) i++;
    if (i < lines.length && lines[i]!.trim() === '') i++;
    let b64 = '';
    let crc: string | undefined;
    let closed = false;
    for (; i < lines.length; i++) {
      const l = lines[i]!.trim();
      if (l === end) {
        closed = true;
        break;
      }
      if (l.startsWith('=') && l.length === 5) crc = l.slice(1);
      else if (l !== '') b64 += l;
    }
    if (!closed) throw bad(from, `armor block '${kind}' has no END line`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) throw bad(from, `armor block '${kind}' is not valid base64`);
    const data = new Uint8Array(Buffer.from(b64, 'base64'));
    if (crc !== undefined) {
      if (!/^[A-Za-z0-9+/]{4}$/.test(crc)) throw bad(from, `armor block '${kind}' has a malformed checksum line`);
      const want = Buffer.from(crc, 'base64');
      const got = crc24(data);
      if (want.length !== 3 || ((want[0]! << 16) | (want[1]! << 8) | want[2]!) !== got) {
        throw bad(from, `armor block '${kind}' fails its CRC-24 checksum (damaged in transit?)`);
      }
    }
    out.push({ kind, data });
  }
  if (out.length === 0) throw bad(from, 'no "-----BEGIN PGP" armor block');
  return out;
}

/** Armor `data` as `kind` with a CRC-24 line and 64-column base64, as gpg and rpm write it. */
export function encodeArmor(kind: string, data: Uint8Array, headers: Record<string, string> = {}): string {
  const b64 = Buffer.from(data).toString('base64');
  const lines = [`-----BEGIN PGP ${kind}-----`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push('');
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  const c = crc24(data);
  lines.push(`=${Buffer.from([c >> 16, (c >> 8) & 0xff, c & 0xff]).toString('base64')}`);
  lines.push(`-----END PGP ${kind}-----`);
  return `${lines.join('\n')}\n`;
}

/** RFC 4880 §6.1 CRC-24 (init 0xB704CE, polynomial 0x1864CFB). */
export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const b of data) {
    crc ^= b << 16;
    for (let k = 0; k < 8; k++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

function bad(from: string, what: string): LayerError {
  return new LayerError('LAYER_GPG_KEY', `${from}: ${what}`);
}
