/** The request as a value: verbs are pure edits; the origin file reads and writes it whole. */
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { addBaseRemovals, addLocalPackages, addLocalReplacements, addPackages, addRepoReplacements, resetOverrides, canonicalRequest, commitRequest, recipeRequest, removePackages, sameRequest, setBase, specsToInstall, localsToInstall } from '../../src/request/index.js';
import type { Checksum } from '../../src/store/index.js';
import { formatOrigin, parseOrigin } from '../../src/sysroot/index.js';

const C1 = 'a'.repeat(64) as Checksum;
const C2 = 'b'.repeat(64) as Checksum;
const SHA = 'c'.repeat(64);

describe('request verbs', () => {
  it('edits return a new request and never change their input', () => {
    const r0 = commitRequest('repo:ref', C1);
    const frozen = JSON.stringify(r0);
    const r1 = addPackages(r0, ['openssl', 'vim']);
    const r2 = addLocalPackages(r1, [{ sha256: SHA, nevra: 'tool-1-1.noarch' }]);
    const r3 = removePackages(r2, ['vim', 'tool']);
    expect(JSON.stringify(r0)).toBe(frozen);
    expect(r1.requested).toEqual(['openssl', 'vim']);
    expect(r2.requestedLocal).toEqual([{ sha256: SHA, nevra: 'tool-1-1.noarch' }]);
    expect(r3.requested).toEqual(['openssl']);
    expect(r3.requestedLocal).toEqual([]);
  });

  it('refuses what dnf/rpm-ostree refuse, unless idempotent', () => {
    const r = addPackages(commitRequest('x:y', C1), ['a']);
    expect(() => addPackages(r, ['a'])).toThrow(expect.objectContaining({ code: 'LAYER_ALREADY_REQUESTED' }) as LayerError);
    expect(addPackages(r, ['a'], { idempotent: true })).toEqual(r);
    expect(() => removePackages(r, ['b'])).toThrow(/'b' is not currently requested/);
    expect(removePackages(r, ['b'], { idempotent: true })).toEqual(r);
    const l = addLocalPackages(r, [{ sha256: SHA, nevra: 'n-1-1.noarch' }]);
    expect(() => addLocalPackages(l, [{ sha256: SHA, nevra: 'n-1-1.noarch' }])).toThrow(/already requested/);
  });

  it('a recipe base composes its packages until it has a commit; setBase keeps the layered requests', () => {
    const recipe = recipeRequest('demo', { packages: ['bash', 'coreutils'], repos: ['base'] });
    expect(recipe.baseRef).toBe('demo/base');
    expect(specsToInstall(recipe)).toEqual(['bash', 'coreutils']);
    const composed = addPackages(setBase(recipe, 'demo/base', C1, recipe.recipe ?? null), ['openssl']);
    expect(specsToInstall(composed)).toEqual(['openssl']);
    const rebased = setBase(composed, 'other:ref', C2, null);
    expect(rebased.recipe).toBeUndefined();
    expect(rebased.requested).toEqual(['openssl']);
  });

  it('a recipe\'s local files: installed while the base is composed, kept by setBase, in the digest and the origin', () => {
    const files = [{ sha256: SHA, nevra: 'site-1-1.noarch' }];
    const recipe = recipeRequest('demo', { packages: ['bash'], repos: ['base'], local: files });
    expect(localsToInstall(recipe)).toEqual(files);
    const composed = addLocalPackages(setBase(recipe, 'demo/base', C1, recipe.recipe ?? null), [{ sha256: 'd'.repeat(64), nevra: 'l-1-1.noarch' }]);
    // The base commit has them: only the layered file is installed on it.
    expect(localsToInstall(composed).map((l) => l.nevra)).toEqual(['l-1-1.noarch']);
    expect(composed.recipe?.local).toEqual(files);
    const plain = recipeRequest('demo', { packages: ['bash'], repos: ['base'] });
    expect(sameRequest(plain, recipe)).toBe(false);
    // Without recipe files the canonical form is the one earlier deployments' digests were made of.
    expect(Object.keys(canonicalRequest(plain) as object)).toEqual(['base', 'recipe', 'requested', 'local', 'removed']);
    const back = parseOrigin(formatOrigin({ ...composed }), 'test.origin');
    expect(back).toEqual(composed);
    expect(() => parseOrigin('[origin]\nbaserefspec=demo/base\nbase-commit=' + C1 + '\n[recipe]\npackages=bash;\nrepos=;\nlocal=nohash:x;\n', 'bad.origin'))
      .toThrow(/bad\.origin: local item 'nohash:x' is not <sha256>:<nevra>/);
  });

  it('sameRequest and the canonical form ignore order', () => {
    const a = addPackages(commitRequest('x:y', C1), ['a', 'b']);
    const b = addPackages(commitRequest('x:y', C1), ['b', 'a']);
    expect(sameRequest(a, b)).toBe(true);
    expect(canonicalRequest(a)).toEqual(canonicalRequest(b));
    expect(sameRequest(a, setBase(a, 'x:y', C2, null))).toBe(false);
  });

  it('the origin file round-trips the whole request, recipe included', () => {
    const r = addLocalPackages(addPackages(setBase(recipeRequest('demo', { packages: ['bash'], repos: ['base', 'updates'] }), 'demo/base', C1, { packages: ['bash'], repos: ['base', 'updates'] }), ['openssl']), [{ sha256: SHA, nevra: 't-1-1.noarch' }]);
    const withOverrides = addLocalReplacements(addBaseRemovals(r, ['vim-minimal']), [{ sha256: 'd'.repeat(64), nevra: 'glibc-2.34-1.x86_64' }]);
    const back = parseOrigin(formatOrigin({ ...withOverrides, inputDigest: 'd', layered: ['openssl-3-1.x86_64'] }), 'test.origin');
    expect(back).toEqual({ ...withOverrides, inputDigest: 'd', layered: ['openssl-3-1.x86_64'] });
    expect(resetOverrides(withOverrides, 'all')).toEqual({ ...r, removed: [] });
  });

  it('a repo replacement is one per base package, round-trips through the origin and changes the digest', () => {
    const r = commitRequest('x:y', C1);
    const local = addLocalReplacements(r, [{ sha256: SHA, nevra: 'glibc-2.34-1.x86_64' }]);
    // The repo replacement supersedes the local file for the same name, and the other way round.
    const fromRepo = addRepoReplacements(local, 'copr:owner:proj', ['glibc', 'kernel']);
    expect(fromRepo.replacedLocal).toBeUndefined();
    expect(fromRepo.replacedFromRepo).toEqual([{ repo: 'copr:owner:proj', name: 'glibc' }, { repo: 'copr:owner:proj', name: 'kernel' }]);
    expect(addLocalReplacements(fromRepo, [{ sha256: SHA, nevra: 'kernel-6-1.x86_64' }]).replacedFromRepo).toEqual([{ repo: 'copr:owner:proj', name: 'glibc' }]);
    expect(addRepoReplacements(fromRepo, 'updates', ['glibc']).replacedFromRepo).toEqual([{ repo: 'copr:owner:proj', name: 'kernel' }, { repo: 'updates', name: 'glibc' }]);
    expect(() => addRepoReplacements(fromRepo, 'copr:owner:proj', ['glibc'])).toThrow(/Override already exists for package 'glibc'/);
    expect(addRepoReplacements(fromRepo, 'copr:owner:proj', ['glibc'], { idempotent: true })).toEqual(fromRepo);
    expect(sameRequest(r, fromRepo)).toBe(false);
    const text = formatOrigin(fromRepo);
    expect(text).toContain('replace-from-repo=copr:owner:proj:glibc;copr:owner:proj:kernel;\n');
    expect(parseOrigin(text, 't.origin')).toEqual(fromRepo);
    expect(() => parseOrigin(`${text.replace('kernel;', 'kernel:;')}`, 't.origin')).toThrow(/replace-from-repo item 'copr:owner:proj:kernel:' is not <repo>:<name>/);
    expect(resetOverrides(fromRepo, ['kernel']).replacedFromRepo).toEqual([{ repo: 'copr:owner:proj', name: 'glibc' }]);
    expect(resetOverrides(resetOverrides(fromRepo, ['kernel']), ['glibc'])).toEqual(r);
    expect(resetOverrides(fromRepo, 'all')).toEqual(r);
  });
});
