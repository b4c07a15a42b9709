/**
 * Glue shared by the parity test files: repo inputs for both sides, and the one comparison
 * every parity case makes (same NEVRA sets when native solves it, same problem count when it
 * does not), with a failure message that shows the difference rather than two 300-line lists.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parsePrimary } from '../../../src/repos/index.js';
import type { Job, PackageRecord, SolveResult } from '../../../src/solver/types.js';
import type { Dataset } from './datasets.js';
import { solvForPrimary, solvForRepoDir, type NativeResult } from './native.js';
import { outcomeOf, type RepoInput } from './wasm.js';

export interface ParityRepo {
  input: RepoInput;
  solvPath: string;
}

/** A whole rpm-md repo: records from primary+filelists, native .solv from `repo2solv -F`. */
export function repoFromDataset(name: string, d: Dataset): ParityRepo {
  const solvPath = solvForRepoDir(d.dir);
  return {
    solvPath,
    input: {
      name,
      records: () => d.records(),
      primaryXml: () => d.primaryXml(),
      filelistsXml: () => d.filelistsXml(),
      solvBytes: () => readFileSync(solvPath),
    },
  };
}

/** A repo made from a bare primary.xml (no filelists): native .solv from `rpmmd2solv`. */
export function repoFromPrimary(name: string, primaryXml: Buffer): ParityRepo {
  const solvPath = solvForPrimary(primaryXml);
  let records: Promise<PackageRecord[]> | undefined;
  return {
    solvPath,
    input: {
      name,
      records: () => (records ??= parsePrimary(primaryXml)),
      primaryXml: () => primaryXml,
      filelistsXml: () => undefined,
      solvBytes: () => readFileSync(solvPath),
    },
  };
}

export function installJobs(names: string[]): Job[] {
  return names.map((name) => ({ action: 'install', select: { by: 'name', name } }));
}

function diff(want: string[], got: string[]): string {
  const g = new Set(got);
  const w = new Set(want);
  const missing = want.filter((x) => !g.has(x));
  const extra = got.filter((x) => !w.has(x));
  return `missing (native has, wasm lacks): ${missing.slice(0, 20).join(' ') || '-'}; ` +
    `extra (wasm has, native lacks): ${extra.slice(0, 20).join(' ') || '-'}`;
}

/** Asserts the wasm result matches the native one; returns the wasm outcome for logging. */
export function expectParity(res: SolveResult, native: NativeResult, label: string): NativeResult {
  const wasm = outcomeOf(res);
  if (native.ok) {
    expect(wasm.ok, `${label}: native solved it (${native.incoming.length} packages) but wasm reports problems: ` +
      `${wasm.ok ? '' : wasm.problems.slice(0, 3).join(' | ')}`).toBe(true);
    if (!wasm.ok) return wasm;
    expect(wasm.incoming.length === native.incoming.length && wasm.incoming.every((n, i) => n === native.incoming[i]),
      `${label}: installed sets differ (${wasm.incoming.length} wasm vs ${native.incoming.length} native): ${diff(native.incoming, wasm.incoming)}`).toBe(true);
    expect(wasm.outgoing, `${label}: removed sets differ: ${diff(native.outgoing, wasm.outgoing)}`).toEqual(native.outgoing);
  } else {
    expect(wasm.ok, `${label}: native found ${native.problemCount} problem(s) (${native.problems.slice(0, 3).join(' | ')}) ` +
      `but wasm solved it`).toBe(false);
    if (wasm.ok) return wasm;
    expect(wasm.problemCount, `${label}: problem counts differ; native: ${native.problems.join(' | ')}; ` +
      `wasm: ${wasm.problems.join(' | ')}`).toBe(native.problemCount);
  }
  return wasm;
}
