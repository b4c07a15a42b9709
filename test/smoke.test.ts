import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

describe('project', () => {
  it('declares the Node engine the environment supports', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.engines.node).toBe('>=20.18.1');
    expect(pkg.type).toBe('module');
  });
});
