/**
 * The committed wasm is what PROVENANCE.json says it is, and was built from the committed shim
 * sources: catches a shim edit committed without rebuilding (the full byte-for-byte rebuild is
 * `bash wasm/build.sh --check`, run by CI).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const wasmDir = fileURLToPath(new URL('../../wasm/', import.meta.url));
const sha = (f: string): string => createHash('sha256').update(readFileSync(wasmDir + f)).digest('hex');

interface Provenance {
  packages: { libsolv: string; expat: string };
  sourceSha256: Record<string, string>;
  emcc: string;
  shimSha256: Record<string, string>;
  outputs: Record<string, string>;
}

describe('wasm/PROVENANCE.json', () => {
  const prov = JSON.parse(readFileSync(wasmDir + 'PROVENANCE.json', 'utf8')) as Provenance;

  it('pins Debian bookworm libsolv 0.7.23 and expat 2.5.0 by tarball hash', () => {
    expect(prov.packages.libsolv).toMatch(/^0\.7\.23-/);
    expect(prov.packages.expat).toMatch(/^2\.5\.0-/);
    expect(Object.keys(prov.sourceSha256).sort()).toEqual(
      [
        `expat_${prov.packages.expat}.debian.tar.xz`,
        `expat_${prov.packages.expat}.dsc`,
        'expat_2.5.0.orig.tar.gz',
        `libsolv_${prov.packages.libsolv}.debian.tar.xz`,
        `libsolv_${prov.packages.libsolv}.dsc`,
        'libsolv_0.7.23.orig.tar.gz',
      ].sort(),
    );
    for (const h of Object.values(prov.sourceSha256)) expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(prov.emcc).toContain('3.1.6');
  });

  it('matches the committed outputs', () => {
    for (const [file, hash] of Object.entries(prov.outputs)) expect(sha(file), `${file} (rebuild with bash wasm/build.sh)`).toBe(hash);
  });

  it('was built from the committed shim sources', () => {
    expect(Object.keys(prov.shimSha256)).toContain('shim.c');
    for (const [file, hash] of Object.entries(prov.shimSha256)) expect(sha(file), `wasm/${file} changed since the last build: run bash wasm/build.sh`).toBe(hash);
  });
});
