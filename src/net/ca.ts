/**
 * The certificate authorities an https connection trusts: Node's own roots, plus those in the
 * file NODE_EXTRA_CA_CERTS names.
 *
 * Node reads that variable only while it starts, and the `layer` command starts it without
 * (src/cli/bin.sh says what that saves); src/cli/launch.ts sets it again. So the file is read here, once, when the first https dispatcher is made. When Node
 * did read it at startup (layer.cjs run directly), the same certificates are simply added twice.
 */
import { readFileSync } from 'node:fs';

let loaded: Promise<string[] | undefined> | undefined;

/** `tls.connect`'s `ca` option when NODE_EXTRA_CA_CERTS is set, else undefined (Node's defaults). */
export function extraCa(): Promise<string[] | undefined> {
  loaded ??= (async () => {
    const file = process.env.NODE_EXTRA_CA_CERTS;
    if (file === undefined || file === '') return undefined;
    let pem: string;
    try {
      pem = readFileSync(file, 'latin1');
    } catch (err) {
      // What Node itself does with an unreadable file: a warning, and its default roots.
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
      return undefined;
    }
    const { rootCertificates } = await import('node:tls');
    return [...rootCertificates, pem];
  })();
  return loaded;
}
