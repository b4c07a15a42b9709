/**
 * Cuts a primary.xml down to chosen packages, keeping each `<package>` block byte for byte, so
 * an "installed system" fixture can be fed to both rpmmd2solv (native) and the wasm solver from
 * the very same XML.
 */
import { nevraOf } from './datasets.js';

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** NEVRA of one `<package>` block (only what the subset needs; no entity decoding in names). */
function blockNevra(block: string): string {
  const name = /<name>([^<]*)<\/name>/.exec(block)?.[1];
  const arch = /<arch>([^<]*)<\/arch>/.exec(block)?.[1];
  const ver = /<version\s[^>]*>/.exec(block)?.[0];
  if (!name || !arch || !ver) throw new Error('primary subset: <package> without name, arch or version');
  const epoch = Number(attr(ver, 'epoch') ?? '0') || 0;
  return nevraOf({ name, arch, epoch, version: attr(ver, 'ver') ?? '', release: attr(ver, 'rel') ?? '' });
}

/**
 * A new primary.xml holding only the packages whose NEVRA is in `keep`. Throws when one of
 * `keep` is not in the input, so a fixture can never shrink silently.
 */
export function primarySubset(primaryXml: Uint8Array, keep: Iterable<string>): Buffer {
  const want = new Set(keep);
  const xml = Buffer.from(primaryXml.buffer, primaryXml.byteOffset, primaryXml.byteLength).toString('utf8');
  const blocks: string[] = [];
  let at = 0;
  for (;;) {
    const start = xml.indexOf('<package ', at);
    if (start < 0) break;
    const end = xml.indexOf('</package>', start);
    if (end < 0) throw new Error('primary subset: unterminated <package>');
    const block = xml.slice(start, end + 10);
    const nevra = blockNevra(block);
    if (want.delete(nevra)) blocks.push(block);
    at = end + 10;
  }
  if (want.size) throw new Error(`primary subset: not in the source primary: ${[...want].slice(0, 5).join(', ')}`);
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" ' +
    `packages="${blocks.length}">\n${blocks.join('\n')}\n</metadata>\n`,
  );
}
