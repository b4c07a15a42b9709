/** Shared setup for repos/ tests: a createrepo_c fixture repo, configs, cache checks. */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseRepoFile, parseRepomd, RepoSet, type RepoConfig, type RepoSetOptions } from '../../src/repos/index.js';
import { makeRepo, sharedRpms, type MakeRepoOptions } from '../support/createrepo.js';

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `layer-${prefix}-`));
}

/** A served tree: `<root>/repo` built by createrepo_c, `m1`/`m2` symlinked mirrors of it. */
export function fixtureTree(opts: MakeRepoOptions = {}): { root: string; repo: string } {
  const root = tmp('served');
  const repo = makeRepo(join(root, 'repo'), sharedRpms(), opts);
  symlinkSync(repo, join(root, 'm1'));
  symlinkSync(repo, join(root, 'm2'));
  return { root, repo };
}

/** A second copy of the repo (for mirrors that differ). */
export function copyRepo(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

export function config(body: string, id = 't'): RepoConfig {
  return parseRepoFile(`[${id}]\n${body}\n`, `${id}.repo`, {})[0]!;
}

export function repoSet(configs: RepoConfig[], cacheDir: string, extra: Partial<RepoSetOptions> = {}): RepoSet {
  return new RepoSet(configs, { cacheDir, backoffMs: 5, ...extra });
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The cache invariant: nothing in tmp/, and every data file is named for, and hashes to, a
 * record of the committed repomd.xml.
 */
export function expectCacheClean(cacheDir: string, id = 't'): { dataFiles: string[] } {
  const dir = join(cacheDir, id);
  if (!existsSync(dir)) return { dataFiles: [] };
  const tmpDir = join(dir, 'tmp');
  const leftovers = existsSync(tmpDir) ? readdirSync(tmpDir).flatMap((d) => readdirSync(join(tmpDir, d)).map((f) => `${d}/${f}`)) : [];
  expect(leftovers).toEqual([]);
  const all = existsSync(join(dir, 'data')) ? readdirSync(join(dir, 'data')) : [];
  // `<file>.facts.json` and `<file>.sizes.tsv` are derived sidecars written atomically next to
  // their verified file.
  const sidecar = /\.(facts\.json|sizes\.tsv)$/;
  const data = all.filter((f) => !sidecar.test(f));
  for (const f of all.filter((f) => sidecar.test(f))) expect(data, `${f} has its data file`).toContain(f.replace(sidecar, ''));
  if (!existsSync(join(dir, 'repomd.xml'))) {
    expect(data).toEqual([]);
    return { dataFiles: [] };
  }
  const repomd = parseRepomd(readFileSync(join(dir, 'repomd.xml')), 'cached repomd.xml');
  const byHex = new Map([...repomd.records.values()].map((r) => [r.checksum.hex, r]));
  for (const f of data) {
    const hex = f.slice(0, f.indexOf('-'));
    expect(byHex.has(hex), `${f} belongs to the committed repomd.xml`).toBe(true);
    expect(fileSha256(join(dir, 'data', f)), `${f} verifies`).toBe(hex);
  }
  return { dataFiles: data };
}
