/**
 * Broken rich weak dependencies (issue 11), with Debian's dnf 4.14 as the oracle. libsolv
 * 0.7.23 (dnf's, and layer's wasm build) builds no package rules for the condition B of a
 * `Recommends: (A if B else C)`, so a B whose Requires nothing can satisfy is picked as a
 * weak dependency: dnf then fails in rpm's transaction check ("X is needed by B"). libsolv 0.7.25 fixed it (upstream issue #527); layer leaves such a pick out
 * (excluded from weak deps, solved again), warns, and deploys what newer libsolv picks (the
 * sets below are what libsolv 0.7.39's testsolv answers for the same problems). When the repo
 * has the else branch C, dnf 4.14 takes C and layer agrees. Each kind of unmet Requires of B
 * is here: a plain capability, a version only a newer package has, a file nobody ships, a rich
 * dependency, a capability only a package that conflicts with B provides; and the recommends
 * on a dependency rather than on the request.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnfInstall } from '../support/dnf-oracle.js';
import type { FixtureSpec } from '../support/rpmbuild.js';
import { requireTool, rpmIn } from '../support/tools.js';
import { cloneSysroot, ensureBuilt, initSysroot, oracleRepos, layer, layeredByRpm, layerJson, removeTempDirs, tempDir, testFixtures } from './helpers.js';

const file = (path: string) => [{ path, content: `${path}\n` }];
const pkg = (name: string, more: Partial<FixtureSpec> = {}): FixtureSpec => ({ name, files: file(`/usr/share/${name}/v`), ...more });

const SPECS: FixtureSpec[] = [
  // libsolv's own reproducer (pass, xclip, Xorg with a missing Requires, no wl-clipboard).
  pkg('pass', { recommends: ['(xclip if xorg-server else wl-clipboard)'] }),
  pkg('xclip'),
  pkg('xorg-server', { requires: ['missing-req'] }),
  // B needs a newer libfoo than the repo has; the else branch exists.
  pkg('editor', { recommends: ['(editor-x if xorg-versioned else editor-wl)'] }),
  pkg('editor-x'),
  pkg('editor-wl'),
  pkg('xorg-versioned', { requires: ['libfoo >= 2'] }),
  pkg('libfoo'),
  // A absent, B needs a file no package ships. (rpmbuild refuses `unless` in a Recommends:
  // rpm allows it only in negative dependencies, so `(A unless B else C)` is testsolv-only.)
  pkg('viewer', { recommends: ['(viewer-gtk if xorg-file else viewer-x11)'] }),
  pkg('viewer-x11'),
  pkg('xorg-file', { requires: ['/usr/libexec/nowhere/Xorg'] }),
  // B needs a capability only a package that conflicts with B provides.
  pkg('shell', { recommends: ['(shell-x if xorg-conflicted else shell-wl)'] }),
  pkg('shell-x'),
  pkg('shell-wl'),
  pkg('xorg-conflicted', { requires: ['display-server'] }),
  pkg('wayland-server', { provides: ['display-server'], conflicts: ['xorg-conflicted'] }),
  // B's missing Requires is itself rich.
  pkg('player', { recommends: ['(player-x if xorg-rich else player-wl)'] }),
  pkg('player-x'),
  pkg('player-wl'),
  pkg('xorg-rich', { requires: ['(missing-a or missing-b)'] }),
  // The same broken conditions with no else branch in the repo.
  pkg('editor-lite', { recommends: ['(editor-x if xorg-versioned else editor-none)'] }),
  pkg('viewer-lite', { recommends: ['(viewer-x11 if xorg-file else viewer-none)'] }),
  pkg('shell-lite', { recommends: ['(shell-x if xorg-conflicted else shell-none)'] }),
  pkg('player-lite', { recommends: ['(player-x if xorg-rich else player-none)'] }),
  // Other rich forms around the broken xorg-server.
  pkg('clip-if', { recommends: ['(xclip if xorg-server)'] }),
  pkg('clip-or', { recommends: ['(xorg-server or xclip)'] }),
  pkg('clip-and', { recommends: ['(xorg-server and xclip)'] }),
  pkg('clip-else', { recommends: ['(xorg-server if xclip else wl-clipboard)'] }),
  // The recommends sits on a dependency, not on the requested package.
  pkg('suite', { requires: ['pass'] }),
];

/**
 * dnf 4.14 picks the broken B, and rpm's check fails its transaction: request → [B, B's unmet
 * Requires as rpm prints it, what layer layers]. Whenever the repo has no else branch C, every
 * kind of unmet Requires shows it.
 */
const BROKEN_PICKS: [string, string, string, string[]][] = [
  ['pass', 'xorg-server', 'missing-req', ['pass']],
  ['suite', 'xorg-server', 'missing-req', ['pass', 'suite']],
  ['editor-lite', 'xorg-versioned', 'libfoo >= 2', ['editor-lite']],
  ['viewer-lite', 'xorg-file', '/usr/libexec/nowhere/Xorg', ['viewer-lite']],
  ['shell-lite', 'xorg-conflicted', 'display-server', ['shell-lite']],
  ['player-lite', 'xorg-rich', '(missing-a or missing-b)', ['player-lite']],
];

/** dnf 4.14 installs a sound set (the else branch, or no weak pick at all): layer picks the same. */
const SOUND: [string, string[]][] = [
  ['editor', ['editor', 'editor-wl']],
  ['viewer', ['viewer', 'viewer-x11']],
  ['shell', ['shell', 'shell-wl']],
  ['player', ['player', 'player-wl']],
  ['clip-if', ['clip-if']],
  ['clip-or', ['clip-or', 'xclip']],
  ['clip-and', ['clip-and', 'xclip']],
  ['clip-else', ['clip-else', 'xclip']],
];

const nevra = (name: string) => `${name}-1.0-1.noarch`;
let base: string;
let reposdir: string;
let dnfReposdir: string;

beforeAll(async () => {
  requireTool('dnf');
  ensureBuilt();
  const f = await testFixtures();
  base = initSysroot(f, 'weakdeps');
  ({ reposdir, dnfReposdir } = await oracleRepos(f, 'weakdeps', SPECS, (s) => `${nevra(s.name)}.rpm`));
}, 300_000);

afterAll(() => removeTempDirs());

const dnf = (specs: string[]) => dnfInstall(dnfReposdir, specs, [], join(tempDir('weakdeps-root'), 'root'));

describe('a weak dependency whose Requires nothing satisfies', () => {
  it.each(BROKEN_PICKS)('%s: dnf picks %s and rpm refuses it (%s); layer leaves it out, warns, and deploys a sound tree', (request, broken, missing, want) => {
    const d = dnf([request]);
    expect(d.out, request).toMatch(/Installing weak dependencies:/);
    expect(d.out, request).toContain(broken);
    expect(d.out, request).toContain(`${missing} is needed by ${nevra(broken)}`);
    expect(d.status, request).not.toBe(0);
    expect(d.nevras, request).toEqual([]);

    const s = cloneSysroot(base, `weak-${request}`);
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, request]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`weak dependency ${nevra(broken)} left out: it requires ${missing}, which nothing provides`);
    expect(layeredByRpm(s, base)).toEqual(want.map(nevra));
    const verify = rpmIn(layerJson(['status', '--sysroot', s]).deployments[0].path, ['-Va', '--nofiles']);
    expect(verify.stdout + verify.stderr, request).toBe('');
  });

  it.each(SOUND)('%s: dnf installs a sound set and layer picks the same, with nothing left out', (request, want) => {
    const d = dnf([request]);
    expect(d.status, d.out).toBe(0);
    expect(d.nevras).toEqual(want.map(nevra));
    const r = layer(['install', '--sysroot', base, '--reposdir', reposdir, '--dry-run', '--json', request]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { transaction: { nevra: string }[]; warnings: { code: string }[] };
    expect(j.transaction.map((t) => t.nevra).sort()).toEqual(d.nevras);
    expect(j.warnings.map((w) => w.code)).not.toContain('solve.weak-left-out');
  });

  it('the --json plan has the warning as a record; --ignore-weak-deps leaves nothing to warn about', () => {
    const s = cloneSysroot(base, 'weak-json');
    const j = layerJson(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', '--json', 'pass']);
    expect((j.transaction as { nevra: string }[]).map((t) => t.nevra)).toEqual([nevra('pass')]);
    expect(j.warnings).toEqual([expect.objectContaining({ code: 'solve.weak-left-out', data: { package: nevra('xorg-server'), requires: 'missing-req' } })]);
    const plain = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--dry-run', '--ignore-weak-deps', 'pass']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('left out');
  });

  it('asked for by name, the broken condition is unsolvable for both, in the same words, and the old deployment stays', () => {
    const s = cloneSysroot(base, 'weak-direct');
    const before = layerJson(['status', '--sysroot', s]).deployments.map((d: { checksum: string }) => d.checksum);
    const direct: [string, string][] = [['xorg-server', 'missing-req'], ['xorg-rich', '(missing-a or missing-b)']];
    for (const [name, missing] of direct) {
      const d = dnf([name]);
      const words = `nothing provides ${missing} needed by ${nevra(name)}`;
      expect(d.status, name).not.toBe(0);
      expect(d.out, name).toContain(words);
      expect(d.nevras, name).toEqual([]);
      const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, name]);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr, name).toContain(words);
      expect(r.stderr, name).toContain('[LAYER_UNSOLVABLE]');
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
    }
    expect(layerJson(['status', '--sysroot', s]).deployments.map((d: { checksum: string }) => d.checksum)).toEqual(before);
  });
});
