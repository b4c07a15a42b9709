/**
 * File capabilities: rpm stores them as `cap_to_text` strings (FILECAPS, formats.md §4.4); the
 * kernel wants a `security.capability` xattr holding `struct vfs_cap_data` (linux/capability.h,
 * revision 2: magic_etc, then permitted/inheritable for the low and high 32 capability bits,
 * all little-endian).
 */
import { LayerError } from '../errors.js';

/** Capability names in kernel bit order (linux/capability.h, CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
const CAP_NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid',
  'setpcap', 'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw',
  'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct',
  'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod',
  'lease', 'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog',
  'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore',
];

const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

export interface CapSets {
  permitted: bigint;
  inheritable: bigint;
  effective: bigint;
}

function capBit(name: string, text: string): bigint {
  const n = name.toLowerCase().replace(/^cap_/, '');
  const i = CAP_NAMES.indexOf(n);
  if (i >= 0) return 1n << BigInt(i);
  if (/^\d+$/.test(n) && Number(n) < 64) return 1n << BigInt(n);
  throw new LayerError('LAYER_RPM_FORMAT', `unknown capability '${name}' in '${text}'`);
}

/** Parses cap_to_text / cap_from_text syntax: clauses `names op flags [op flags...]`. */
export function parseCapText(text: string): CapSets {
  const all = (1n << BigInt(CAP_NAMES.length)) - 1n;
  const sets: CapSets = { permitted: 0n, inheritable: 0n, effective: 0n };
  for (const clause of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([^=+-]*)([=+-].*)$/.exec(clause);
    if (!m) throw new LayerError('LAYER_RPM_FORMAT', `bad capability clause '${clause}' in '${text}'`);
    const namesPart = m[1] ?? '';
    const ops = m[2] ?? '';
    let mask = 0n;
    if (namesPart === '' || namesPart === 'all') mask = all;
    else for (const nm of namesPart.split(',')) mask |= capBit(nm, text);
    const re = /([=+-])([eip]*)/g;
    let op: RegExpExecArray | null;
    let consumed = 0;
    while ((op = re.exec(ops)) !== null) {
      if (op[0].length === 0) break;
      consumed += op[0].length;
      const flags = op[2] ?? '';
      const keys: (keyof CapSets)[] = [];
      if (flags.includes('e')) keys.push('effective');
      if (flags.includes('i')) keys.push('inheritable');
      if (flags.includes('p')) keys.push('permitted');
      if (op[1] === '=') for (const k of ['effective', 'inheritable', 'permitted'] as const) sets[k] &= ~mask;
      for (const k of keys) {
        if (op[1] === '-') sets[k] &= ~mask;
        else sets[k] |= mask;
      }
    }
    if (consumed !== ops.length) throw new LayerError('LAYER_RPM_FORMAT', `bad capability operators '${ops}' in '${text}'`);
  }
  return sets;
}

/**
 * The `security.capability` xattr value for a cap_to_text string: 20 bytes, revision 2.
 * The effective set is a single flag in this format, set when any effective bit is.
 */
export function capsToVfsCapData(text: string): Uint8Array {
  const s = parseCapText(text);
  const out = new Uint8Array(20);
  const dv = new DataView(out.buffer);
  const lo = (b: bigint): number => Number(b & 0xffffffffn);
  const hi = (b: bigint): number => Number((b >> 32n) & 0xffffffffn);
  dv.setUint32(0, VFS_CAP_REVISION_2 | (s.effective !== 0n ? VFS_CAP_FLAGS_EFFECTIVE : 0), true);
  dv.setUint32(4, lo(s.permitted), true);
  dv.setUint32(8, lo(s.inheritable), true);
  dv.setUint32(12, hi(s.permitted), true);
  dv.setUint32(16, hi(s.inheritable), true);
  return out;
}
