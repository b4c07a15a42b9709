/**
 * The typed solver API on small hand-made repos: each case states an rpm/dnf behaviour and
 * checks libsolv (wasm) delivers it through Pool.solve.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { loadSolver, Pool, type PackageRecord, type SolveFlags, type Job } from '../../src/solver/index.js';
import { erase, incoming, install, pkg, problems, steps } from './helpers.js';

beforeAll(async () => {
  await loadSolver();
});

/** A pool with an installed repo and one available repo; freed by the caller via `using`-like try/finally. */
function solve(opts: { installed?: PackageRecord[]; available: PackageRecord[]; jobs: Job[]; flags?: SolveFlags }) {
  const pool = new Pool({ arch: 'x86_64' });
  try {
    const sys = pool.addRepo('@System', { kind: 'records', records: opts.installed ?? [] });
    pool.setInstalled(sys);
    pool.addRepo('avail', { kind: 'records', records: opts.available });
    return pool.solve(opts.jobs, opts.flags);
  } finally {
    pool.free();
  }
}

describe('dependencies', () => {
  it('pulls in requirements, ordered before the package that needs them', () => {
    const res = solve({ available: [pkg('app', '1', { requires: ['lib >= 2'] }), pkg('lib', '1'), pkg('lib', '2')], jobs: [install('app')] });
    expect(steps(res)).toEqual(['install lib-2', 'install app-1']);
    if (!res.ok) return;
    expect(res.transaction.steps.map((s) => s.reason)).toEqual(['dependency', 'requested']);
    expect(res.transaction.steps[1]!.pkg).toMatchObject({ nevra: 'app-1-1.x86_64', epoch: 0, version: '1', release: '1', repo: 'avail' });
  });

  it('orders a pre-requirement first even inside a dependency cycle', () => {
    // a and b need each other; only the Requires(pre) edge decides who goes first.
    const a = pkg('a', '1', { prerequires: ['b'] });
    const b = pkg('b', '1', { requires: ['a'] });
    expect(steps(solve({ available: [a, b], jobs: [install('a')] }))).toEqual(['install b-1', 'install a-1']);
    const a2 = pkg('a', '1', { requires: ['b'] });
    const b2 = pkg('b', '1', { prerequires: ['a'] });
    expect(steps(solve({ available: [a2, b2], jobs: [install('b')] }))).toEqual(['install a-1', 'install b-1']);
  });

  it('satisfies file requirements from file lists', () => {
    const res = solve({ available: [pkg('script', '1', { requires: ['/usr/bin/sh'] }), pkg('bash', '5', { files: ['/usr/bin/bash', '/usr/bin/sh'] })], jobs: [install('script')] });
    expect(incoming(res)).toEqual(['bash-5', 'script-1']);
  });

  it('resolves versioned provides with epochs', () => {
    const res = solve({
      available: [pkg('app', '1', { requires: ['webserver >= 1:2.0'] }), pkg('httpd', '2.4', { provides: ['webserver = 2.4'] }), pkg('nginx', '1.0', { epoch: 1, provides: ['webserver = 1:2.0'] })],
      jobs: [install('app')],
    });
    expect(incoming(res)).toEqual(['app-1', 'nginx-1.0']);
  });
});

describe('conflicts and obsoletes', () => {
  it('reports a conflict with an installed package in libsolv words, with solutions', () => {
    const res = solve({ installed: [pkg('postfix', '3')], available: [pkg('sendmail', '8', { conflicts: ['postfix'] })], jobs: [install('sendmail')] });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const rule = res.problems[0]!.rules.find((r) => r.type === 'conflicts');
    expect(rule?.text).toBe('package sendmail-8-1.x86_64 conflicts with postfix provided by postfix-3-1.x86_64');
    expect(rule?.source?.name).toBe('sendmail');
    expect(rule?.target?.name).toBe('postfix');
    expect(rule?.dep).toBe('postfix');
    const solutions = res.problems[0]!.solutions.map((s) => s.map((e) => e.text).join(' + '));
    expect(solutions).toContain('do not ask to install sendmail');
    expect(solutions).toContain('allow deinstallation of postfix-3-1.x86_64');
  });

  it('allowUninstall resolves the conflict by erasing the installed package', () => {
    const res = solve({ installed: [pkg('postfix', '3')], available: [pkg('sendmail', '8', { conflicts: ['postfix'] })], jobs: [install('sendmail')], flags: { allowUninstall: true } });
    expect(steps(res).sort()).toEqual(['erase postfix-3', 'install sendmail-8']);
  });

  it('obsoletes replace the old name: install step with replaces, plus an obsoleted step', () => {
    const res = solve({ installed: [pkg('oldname', '1')], available: [pkg('newname', '2', { obsoletes: ['oldname < 2'], provides: ['oldname = 2'] })], jobs: [install('newname')] });
    expect(steps(res)).toEqual(['install newname-2', 'obsoleted oldname-1']);
    if (!res.ok) return;
    expect(res.transaction.steps[0]!.replaces?.map((p) => p.nevra)).toEqual(['oldname-1-1.x86_64']);
    expect(res.transaction.steps[1]!.obsoletedBy?.nevra).toBe('newname-2-1.x86_64');
    expect(res.transaction.steps[1]!.replaces).toBeUndefined();
  });
});

describe('weak dependencies', () => {
  const app = pkg('app', '1', { recommends: ['docs'] });
  const docs = pkg('docs', '1');
  const lang = pkg('app-lang', '1', { supplements: ['app'] });

  it('installs recommends and supplements as weak dependencies', () => {
    const res = solve({ available: [app, docs, lang], jobs: [install('app')] });
    expect(incoming(res)).toEqual(['app-1', 'app-lang-1', 'docs-1']);
    if (!res.ok) return;
    const reasons = Object.fromEntries(res.transaction.steps.map((s) => [s.pkg.name, s.reason]));
    expect(reasons).toEqual({ app: 'requested', docs: 'weak-dependency', 'app-lang': 'weak-dependency' });
  });

  it('ignoreWeakDeps leaves them out', () => {
    expect(incoming(solve({ available: [app, docs, lang], jobs: [install('app')], flags: { ignoreWeakDeps: true } }))).toEqual(['app-1']);
  });

  it('a missing recommended package is not an error', () => {
    expect(incoming(solve({ available: [app], jobs: [install('app')] }))).toEqual(['app-1']);
  });

  it('never picks an uninstallable condition of (A if B else C); the transaction names it (libsolv issue #527)', () => {
    // libsolv's own reproducer: 0.7.23 alone installs xorg-server, whose Requires nothing provides.
    const pass = pkg('pass', '1', { recommends: ['(xclip if xorg-server else wl-clipboard)'] });
    const xorg = pkg('xorg-server', '1', { requires: ['missing-req'] });
    const res = solve({ available: [pass, xorg, pkg('xclip', '1')], jobs: [install('pass')] });
    expect(incoming(res)).toEqual(['pass-1']);
    if (!res.ok) return;
    expect(res.transaction.leftOut).toEqual([{ pkg: expect.objectContaining({ nevra: 'xorg-server-1-1.x86_64' }), dep: 'missing-req' }]);
    // With the else branch available, C comes instead, as libsolv 0.7.25 picks it.
    const withC = solve({ available: [pass, xorg, pkg('xclip', '1'), pkg('wl-clipboard', '1')], jobs: [install('pass')] });
    expect(incoming(withC)).toEqual(['pass-1', 'wl-clipboard-1']);
  });

  it('a sound weak pick leaves nothing out', () => {
    const res = solve({ available: [app, docs, lang], jobs: [install('app')] });
    expect(res.ok && res.transaction.leftOut).toBeUndefined();
  });
});

describe('rich dependencies', () => {
  it('(a if b) pulls a only when b is installed', () => {
    const avail = [pkg('tool', '1', { requires: ['(tool-selinux if selinux-policy)'] }), pkg('tool-selinux', '1')];
    expect(incoming(solve({ available: avail, jobs: [install('tool')] }))).toEqual(['tool-1']);
    expect(incoming(solve({ installed: [pkg('selinux-policy', '38')], available: avail, jobs: [install('tool')] }))).toEqual(['tool-1', 'tool-selinux-1']);
  });

  it('(a or b) is satisfied by either, and fails when neither exists', () => {
    const res = solve({ available: [pkg('mta-user', '1', { requires: ['(postfix or exim)'] }), pkg('exim', '4')], jobs: [install('mta-user')] });
    expect(incoming(res)).toEqual(['exim-4', 'mta-user-1']);
    const bad = solve({ available: [pkg('mta-user', '1', { requires: ['(postfix or exim)'] })], jobs: [install('mta-user')] });
    expect(problems(bad).join('\n')).toContain('nothing provides (postfix or exim) needed by mta-user-1-1.x86_64');
  });
});

describe('repo priorities', () => {
  it('a higher-priority repo wins over a newer version elsewhere', () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: [] }));
      pool.addRepo('upstream', { kind: 'records', records: [pkg('kernel', '6.9')] }, { priority: 0 });
      pool.addRepo('pinned', { kind: 'records', records: [pkg('kernel', '6.1')] }, { priority: 10 });
      const res = pool.solve([install('kernel')]);
      expect(steps(res)).toEqual(['install kernel-6.1']);
      if (res.ok) expect(res.transaction.steps[0]!.pkg.repo).toBe('pinned');
    } finally {
      pool.free();
    }
  });
});

describe('repo subpriority (dnf cost)', () => {
  it('among equal priority the lower subpriority (cheaper repo) wins', () => {
    const pick = (costA: number, costB: number): string | undefined => {
      const pool = new Pool({ arch: 'x86_64' });
      try {
        pool.setInstalled(pool.addRepo('@System', { kind: 'records', records: [] }));
        pool.addRepo('a', { kind: 'records', records: [pkg('foo', '1')] }, { subpriority: costA });
        pool.addRepo('b', { kind: 'records', records: [pkg('foo', '1')] }, { subpriority: costB });
        const res = pool.solve([install('foo')]);
        return res.ok ? res.transaction.steps[0]?.pkg.repo : undefined;
      } finally {
        pool.free();
      }
    };
    expect(pick(2000, 100)).toBe('b');
    expect(pick(100, 2000)).toBe('a');
  });
});

describe('locks, excludes, favor', () => {
  it('a locked installed package blocks an upgrade that needs it changed', () => {
    const res = solve({
      installed: [pkg('lib', '1')],
      available: [pkg('lib', '2'), pkg('app', '1', { requires: ['lib >= 2'] })],
      jobs: [{ action: 'lock', select: { by: 'name', name: 'lib' } }, install('app')],
    });
    expect(problems(res).join('\n')).toMatch(/lib/);
  });

  it('excluded packages are uninstallable; the solver picks another provider', () => {
    const avail = [pkg('app', '1', { requires: ['mta'] }), pkg('postfix', '3', { provides: ['mta'] }), pkg('sendmail', '8', { provides: ['mta'] })];
    const res = solve({ available: avail, jobs: [{ action: 'exclude', select: { by: 'name', name: 'postfix' } }, install('app')] });
    expect(incoming(res)).toEqual(['app-1', 'sendmail-8']);
    const direct = solve({ available: avail, jobs: [{ action: 'exclude', select: { by: 'name', name: 'postfix' } }, install('postfix')] });
    expect(direct.ok).toBe(false);
  });

  it('favor and disfavor steer the choice between equal providers', () => {
    const avail = [pkg('app', '1', { requires: ['mta'] }), pkg('postfix', '3', { provides: ['mta'] }), pkg('sendmail', '8', { provides: ['mta'] })];
    const fav = (action: 'favor' | 'disfavor', name: string): Job => ({ action, select: { by: 'name', name } });
    expect(incoming(solve({ available: avail, jobs: [fav('favor', 'sendmail'), install('app')] }))).toEqual(['app-1', 'sendmail-8']);
    expect(incoming(solve({ available: avail, jobs: [fav('favor', 'postfix'), install('app')] }))).toEqual(['app-1', 'postfix-3']);
    expect(incoming(solve({ available: avail, jobs: [fav('disfavor', 'postfix'), install('app')] }))).toEqual(['app-1', 'sendmail-8']);
  });
});

describe('erase, update, downgrade', () => {
  it('erase takes dependent packages with it; cleandeps also removes now-unneeded deps', () => {
    const installed = [pkg('app', '1', { requires: ['lib'] }), pkg('lib', '1'), pkg('plugin', '1', { requires: ['app'] })];
    expect(steps(solve({ installed, available: [], jobs: [erase('app')], flags: { allowUninstall: true } })).sort()).toEqual(['erase app-1', 'erase plugin-1']);
    const clean = solve({ installed, available: [], jobs: [erase('app', true)], flags: { allowUninstall: true } });
    expect(steps(clean).sort()).toEqual(['erase app-1', 'erase lib-1', 'erase plugin-1']);
    if (clean.ok) expect(clean.transaction.steps.find((s) => s.pkg.name === 'lib')?.reason).toBe('cleanup');
  });

  it('erase of something not installed is a no-op, not an error', () => {
    expect(steps(solve({ installed: [pkg('a', '1')], available: [], jobs: [erase('ghost')] }))).toEqual([]);
  });

  it('update upgrades one package or all', () => {
    const installed = [pkg('a', '1'), pkg('b', '1')];
    const available = [pkg('a', '2'), pkg('b', '2')];
    const one = solve({ installed, available, jobs: [{ action: 'update', select: { by: 'name', name: 'a' } }] });
    expect(steps(one)).toEqual(['upgrade a-2']);
    if (one.ok) expect(one.transaction.steps[0]!.replaces?.map((p) => p.nevra)).toEqual(['a-1-1.x86_64']);
    expect(steps(solve({ installed, available, jobs: [{ action: 'update' }] })).sort()).toEqual(['upgrade a-2', 'upgrade b-2']);
  });

  it('downgrades a dependency only with allowDowngrade', () => {
    const installed = [pkg('a', '2')];
    const available = [pkg('a', '1'), pkg('app', '1', { requires: ['a < 2'] })];
    const stuck = solve({ installed, available, jobs: [install('app')] });
    expect(problems(stuck)).toContain('cannot install both a-1-1.x86_64 and a-2-1.x86_64');
    if (!stuck.ok) expect(stuck.problems[0]!.solutions.flat().map((e) => e.text)).toContain('allow replacement of a-2-1.x86_64 with a-1-1.x86_64');
    expect(steps(solve({ installed, available, jobs: [install('app')], flags: { allowDowngrade: true } }))).toEqual(['downgrade a-1', 'install app-1']);
  });

  it('update never picks an older version on its own; distupgrade syncs down to the repo', () => {
    const installed = [pkg('a', '2')];
    const available = [pkg('a', '1')];
    expect(steps(solve({ installed, available, jobs: [{ action: 'update' }], flags: { allowDowngrade: true } }))).toEqual([]);
    expect(steps(solve({ installed, available, jobs: [{ action: 'distupgrade' }] }))).toEqual(['downgrade a-1']);
  });
});

describe('best and weak jobs', () => {
  const available = [pkg('app', '2', { requires: ['libgone'] }), pkg('app', '1')];

  it('without best an uninstallable newest version falls back to an older one', () => {
    expect(steps(solve({ available, jobs: [install('app')] }))).toEqual(['install app-1']);
  });

  it('best insists on the newest version and reports why it cannot be installed', () => {
    const res = solve({ available, jobs: [install('app')], flags: { best: true } });
    expect(problems(res).join('\n')).toContain('nothing provides libgone needed by app-2-1.x86_64');
  });

  it('a weak job that cannot be satisfied is dropped instead of failing the solve', () => {
    const res = solve({ available: [pkg('broken', '1', { requires: ['libgone'] }), pkg('ok', '1')], jobs: [{ ...install('broken'), weak: true }, install('ok')] });
    expect(steps(res)).toEqual(['install ok-1']);
  });
});

describe('selectors and problems', () => {
  const available = [pkg('vim-enhanced', '9.0', { epoch: 2, provides: ['vim = 9.0', 'editor'], files: ['/usr/bin/vim'] }), pkg('nano', '7')];

  it('selects by provides, NEVRA, spec, file and package', () => {
    const by = (j: Job) => incoming(solve({ available, jobs: [j] }));
    expect(by({ action: 'install', select: { by: 'provides', dep: 'vim >= 9' } })).toEqual(['vim-enhanced-9.0']);
    expect(by({ action: 'install', select: { by: 'nevra', nevra: 'vim-enhanced-2:9.0-1.x86_64' } })).toEqual(['vim-enhanced-9.0']);
    expect(by({ action: 'install', select: { by: 'spec', spec: 'vim-enhanced.x86_64' } })).toEqual(['vim-enhanced-9.0']);
    expect(by({ action: 'install', select: { by: 'spec', spec: '/usr/bin/vim' } })).toEqual(['vim-enhanced-9.0']);
    expect(by({ action: 'install', select: { by: 'spec', spec: 'nan*' } })).toEqual(['nano-7']);
    expect(by({ action: 'install', select: { by: 'spec', spec: 'nano-7' } })).toEqual(['nano-7']);
    expect(by({ action: 'install', select: { by: 'spec', spec: 'editor' } })).toEqual(['vim-enhanced-9.0']);
    expect(by({ action: 'install', select: { by: 'package', repo: 'avail', nevra: 'nano-7-1.x86_64' } })).toEqual(['nano-7']);
  });

  it('an unknown name is a LAYER_NO_MATCH problem naming it', () => {
    const res = solve({ available, jobs: [install('emacs'), install('nano')] });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems).toHaveLength(1);
    expect(res.problems[0]).toMatchObject({ code: 'LAYER_NO_MATCH', rules: [{ type: 'job-unknown-package', text: 'package emacs does not exist' }] });
  });

  it('nothing provides: problem text and solutions', () => {
    const res = solve({ available: [pkg('app', '1', { requires: ['libmissing.so.1()(64bit)'] })], jobs: [install('app')] });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems[0]!.text).toBe('nothing provides libmissing.so.1()(64bit) needed by app-1-1.x86_64');
    expect(res.problems[0]!.rules.find((r) => r.type === 'nothing-provides')).toMatchObject({ type: 'nothing-provides', dep: 'libmissing.so.1()(64bit)', source: { nevra: 'app-1-1.x86_64' } });
    expect(res.problems[0]!.solutions.flat().map((e) => e.text)).toContain('do not ask to install app');
  });
});

describe('bad input', () => {
  it('a malformed dependency names the repo and package', () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      expect(() => pool.addRepo('broken', { kind: 'records', records: [pkg('ok', '1'), pkg('bad', '1', { requires: ['foo >>> 1'] })] })).toThrow(
        /repo broken: .*bad: cannot parse dependency 'foo >>> 1'/,
      );
      // nothing half-added: the name is free again and the pool still works
      expect(pool.addRepo('broken', { kind: 'records', records: [pkg('ok', '1')] }).size).toBe(1);
    } finally {
      pool.free();
    }
  });

  it('corrupt .solv bytes are LAYER_REPO_CORRUPT naming the repo', () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      let err: unknown;
      try {
        pool.addRepo('cache', { kind: 'solv', bytes: new TextEncoder().encode('SOLVgarbage') });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LayerError);
      expect((err as LayerError).code).toBe('LAYER_REPO_CORRUPT');
      expect((err as LayerError).message).toMatch(/^repo cache: /);
    } finally {
      pool.free();
    }
  });

  it('a missing or corrupt .solv file is LAYER_REPO_CORRUPT naming the repo and the file', () => {
    const pool = new Pool({ arch: 'x86_64' });
    const dir = mkdtempSync(join(tmpdir(), 'layer-solvfile-'));
    try {
      const missing = join(dir, 'gone.solv');
      expect(() => pool.addRepo('cache', { kind: 'solv-file', path: missing })).toThrow(
        expect.objectContaining({ code: 'LAYER_REPO_CORRUPT', message: expect.stringMatching(/^repo cache: .*gone\.solv: No such file or directory/) }),
      );
      const bad = join(dir, 'bad.solv');
      writeFileSync(bad, 'SOLVgarbage');
      expect(() => pool.addRepo('cache', { kind: 'solv-file', path: bad })).toThrow(
        expect.objectContaining({ code: 'LAYER_REPO_CORRUPT', message: expect.stringMatching(/^repo cache: /) }),
      );
      // nothing half-added: the name is free again
      expect(pool.addRepo('cache', { kind: 'records', records: [pkg('ok', '1')] }).size).toBe(1);
    } finally {
      pool.free();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('duplicate repo names and whitespace in names are rejected', () => {
    const pool = new Pool({ arch: 'x86_64' });
    try {
      pool.addRepo('a', { kind: 'records', records: [] });
      expect(() => pool.addRepo('a', { kind: 'records', records: [] })).toThrow(/already in the pool/);
      expect(() => pool.addRepo('b', { kind: 'records', records: [pkg('has space', '1')] })).toThrow(/invalid package name/);
    } finally {
      pool.free();
    }
  });
});
