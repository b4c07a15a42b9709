/**
 * The two facts the initramfs builder needs from ELF files (System V gABI, "ELF Header",
 * "Sections", "Program Header"): a kernel module's `.modinfo` strings (`name=`, `depends=`,
 * `vermagic=`, NUL-separated, as `modinfo` prints them) and whether an executable is static
 * (no PT_INTERP, so it runs in an initramfs without a dynamic loader). 64-bit little-endian
 * only: the x86_64 kernels and busybox this targets.
 */
import { LayerError } from '../errors.js';

const PT_INTERP = 3;

function header(buf: Buffer, what: string): void {
  // e_ident: magic, EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian).
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new LayerError('LAYER_BOOT', `${what}: not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1) throw new LayerError('LAYER_BOOT', `${what}: not a 64-bit little-endian ELF file`);
}

/** The key=value strings of a module's `.modinfo` section (keys may repeat: `alias`, `parm`). */
export function modinfo(buf: Buffer, what: string): [string, string][] {
  header(buf, what);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shoff === 0 || shoff + shnum * shentsize > buf.length || shstrndx >= shnum) {
    throw new LayerError('LAYER_BOOT', `${what}: ELF section headers out of range`);
  }
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: buf.readUInt32LE(at), offset: Number(buf.readBigUInt64LE(at + 24)), size: Number(buf.readBigUInt64LE(at + 32)) };
  };
  const strtab = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameAt = strtab.offset + s.name;
    const name = buf.toString('latin1', nameAt, buf.indexOf(0, nameAt));
    if (name !== '.modinfo') continue;
    if (s.offset + s.size > buf.length) throw new LayerError('LAYER_BOOT', `${what}: .modinfo out of range`);
    const out: [string, string][] = [];
    for (const kv of buf.toString('utf8', s.offset, s.offset + s.size).split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) out.push([kv.slice(0, eq), kv.slice(eq + 1)]);
    }
    return out;
  }
  throw new LayerError('LAYER_BOOT', `${what}: no .modinfo section (not a kernel module)`);
}

/** True when the executable asks for no program interpreter (statically linked). */
export function isStaticExecutable(buf: Buffer, what: string): boolean {
  header(buf, what);
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  if (phoff + phnum * phentsize > buf.length) throw new LayerError('LAYER_BOOT', `${what}: ELF program headers out of range`);
  for (let i = 0; i < phnum; i++) if (buf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  return true;
}
