/**
 * The error contract: README's "Error codes" table lists exactly the ErrorCode type's codes,
 * and every code is raised somewhere in src/ (a documented code nothing raises is a promise
 * the engine does not keep). Also how system errors become LAYER_IO.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asLayerError, ioError, LayerError, withContext } from '../src/errors.js';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const typeCodes = (() => {
  const text = readFileSync(join(ROOT, 'src/errors.ts'), 'utf8');
  const union = text.slice(text.indexOf('export type ErrorCode'), text.indexOf(';', text.indexOf('export type ErrorCode')));
  return [...union.matchAll(/'(LAYER_[A-Z_]+)'/g)].map((m) => m[1]!).sort();
})();

describe('error codes', () => {
  it('README documents exactly the ErrorCode type', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'));
    const table = section.slice(0, section.indexOf('\n## ', 5) > 0 ? section.indexOf('\n## ', 5) : undefined);
    const documented = [...table.matchAll(/^\| `(LAYER_[A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(typeCodes.length).toBeGreaterThan(20);
    expect(documented).toEqual(typeCodes);
  });

  it('every code is raised somewhere in src/', () => {
    const text = sources(join(ROOT, 'src')).map((f) => {
      const t = readFileSync(f, 'utf8');
      // The type union itself does not count as raising.
      return f.endsWith('src/errors.ts') ? t.replace(/export type ErrorCode[^;]*;/, '') : t;
    }).join('\n');
    const unraised = typeCodes.filter((c) => !new RegExp(`'${c}'`).test(text));
    expect(unraised).toEqual([]);
  });
});

describe('system errors keep their kind', () => {
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, write '/s/x'"), { code: 'ENOSPC', syscall: 'write', path: '/s/x' });

  it('an errno error becomes LAYER_IO naming the operation, the path and the errno', () => {
    const e = ioError(enospc);
    expect(e?.code).toBe('LAYER_IO');
    expect(e?.message).toBe('write /s/x: ENOSPC (no space left on device)');
    expect(e?.hint).toMatch(/free some space/);
    expect(asLayerError(enospc).code).toBe('LAYER_IO');
    expect(withContext('writing the rpmdb', enospc).code).toBe('LAYER_IO');
  });

  it('a bug stays LAYER_INTERNAL; a LayerError stays what it is', () => {
    expect(asLayerError(new TypeError('x is undefined')).code).toBe('LAYER_INTERNAL');
    expect(ioError(new TypeError('x'))).toBeUndefined();
    const le = new LayerError('LAYER_NO_MATCH', 'nope');
    expect(asLayerError(le)).toBe(le);
  });
});
