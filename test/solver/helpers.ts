/**
 * Small hand-made package sets for the solver unit tests: `pkg('a', '1.0', { requires: [...] })`
 * and helpers to read a SolveResult as short strings.
 */
import { expect } from 'vitest';
import type { Job, PackageRecord, SolveResult } from '../../src/solver/index.js';

export function pkg(name: string, version: string, more: Partial<PackageRecord> = {}): PackageRecord {
  return {
    name,
    epoch: 0,
    version,
    release: '1',
    arch: 'x86_64',
    provides: [],
    requires: [],
    prerequires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
    ...more,
  };
}

export const install = (name: string): Job => ({ action: 'install', select: { by: 'name', name } });
export const erase = (name: string, cleandeps = false): Job => ({ action: 'erase', select: { by: 'name', name }, cleandeps });

/** `kind name-version` per step, in transaction order. */
export function steps(res: SolveResult): string[] {
  if (!res.ok) throw new Error(`expected a transaction, got problems: ${res.problems.map((p) => p.text).join(' | ')}`);
  return res.transaction.steps.map((s) => `${s.kind} ${s.pkg.name}-${s.pkg.version}`);
}

/** Names installed/upgraded (anything but erase/obsoleted), sorted. */
export function incoming(res: SolveResult): string[] {
  return steps(res)
    .filter((s) => !s.startsWith('erase') && !s.startsWith('obsoleted'))
    .map((s) => s.split(' ')[1]!)
    .sort();
}

export function problems(res: SolveResult): string[] {
  expect(res.ok, 'expected problems').toBe(false);
  return res.ok ? [] : res.problems.flatMap((p) => p.rules.map((r) => r.text));
}
