/**
 * Every RPM in ../shared/data/rpms against rpm's own tools: extraction equals
 * `rpm2cpio | cpio -idm`, header fields equal `rpm -qp --queryformat`.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capsToVfsCapData, formatDep, openRpm, type RpmPackage } from '../../src/rpm/index.js';
import { LayerError } from '../../src/errors.js';
import { requireTool, rpmq, run, sharedRpms, snapshot } from './helpers.js';

const GOOD = [
  'capstest-1.0-1.noarch.rpm',
  'foo-1.0-1.noarch.rpm',
  'hello-2.0-1.x86_64-signed.rpm',
  'hello-2.0-1.x86_64.rpm',
  'hlinktest-1.0-1.noarch.rpm',
  'mc-4.8.15-10.3.1.x86_64.rpm',
  'ngircd-22-2.fc22.x86_64.rpm',
  'sendmail-8.16.1-7.1.x86_64.rpm',
  'xrootd-devel-5.5.4-1.fc37.x86_64.rpm',
];

let work: string;
beforeAll(async () => {
  requireTool('rpm', 'rpm');
  requireTool('rpm2cpio', 'rpm2cpio');
  requireTool('cpio', 'cpio');
  work = await mkdtemp(join(tmpdir(), 'layer-rpm-shared-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('shared RPMs', () => {
  it('lists every package it expects to test', async () => {
    const all = (await readdir(sharedRpms())).filter((f) => f.endsWith('.rpm')).sort();
    expect(all).toEqual([...GOOD, 'hello-2.0-1.x86_64-corrupted.rpm'].sort());
  });

  for (const file of GOOD) {
    describe(file, () => {
      let pkg: RpmPackage;
      let path: string;
      beforeAll(async () => {
        path = join(sharedRpms(), file);
        pkg = await openRpm(path);
      });

      it('extracts to the same tree as rpm2cpio | cpio -idm', async () => {
        const ours = join(work, `${file}-ours`);
        const theirs = join(work, `${file}-cpio`);
        await run('mkdir', ['-p', ours, theirs]);
        await pkg.extractTo(ours);
        await run('sh', ['-c', `rpm2cpio "$1" | (cd "$2" && cpio -idm --quiet)`, 'sh', path, theirs]);
        const a = await snapshot(ours);
        const b = await snapshot(theirs);
        expect([...a.keys()]).toEqual([...b.keys()]);
        const headerPaths = new Set(pkg.files.map((f) => f.path.slice(1)));
        for (const [p, nb] of b) {
          const na = a.get(p);
          expect(na, p).toBeDefined();
          if (!na) continue;
          expect({ p, type: na.type, sha: na.sha256, target: na.target, nlink: na.nlink }).toEqual({ p, type: nb.type, sha: nb.sha256, target: nb.target, nlink: nb.nlink });
          // Unowned parent dirs get 0755 from both; only header entries carry mode and mtime.
          if (na.type !== 'symlink') expect({ p, mode: na.mode }).toEqual({ p, mode: nb.mode });
          if (headerPaths.has(p) && na.type === 'file') expect({ p, mtime: na.mtime }).toEqual({ p, mtime: nb.mtime });
        }
        // Hardlink sets stay sets.
        const inodes = (m: Map<string, { ino: number; type: string }>) => {
          const g = new Map<number, string[]>();
          for (const [p, n] of m) if (n.type === 'file') g.set(n.ino, [...(g.get(n.ino) ?? []), p]);
          return [...g.values()].filter((s) => s.length > 1).map((s) => s.sort().join(',')).sort();
        };
        expect(inodes(a)).toEqual(inodes(b));
      });

      it('has the NEVRA, deps, files and scriptlets rpm reports', async () => {
        const nevra = await rpmq(path, '%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH}');
        expect(pkg.nevra).toBe(nevra);
        for (const [kind, tag] of [['requires', 'REQUIRENEVRS'], ['provides', 'PROVIDENEVRS'], ['conflicts', 'CONFLICTNEVRS'], ['obsoletes', 'OBSOLETENEVRS'],
          ['recommends', 'RECOMMENDNEVRS'], ['suggests', 'SUGGESTNEVRS'], ['supplements', 'SUPPLEMENTNEVRS'], ['enhances', 'ENHANCENEVRS']] as const) {
          const want = (await rpmq(path, `[%{${tag}}\n]`)).split('\n').filter(Boolean);
          expect(pkg.deps(kind).map(formatDep), kind).toEqual(want);
        }
        const reqFlags = (await rpmq(path, '[%{REQUIREFLAGS}\n]')).split('\n').filter(Boolean).map(Number);
        expect(pkg.deps('requires').map((d) => d.flags)).toEqual(reqFlags);
        const fl = (await rpmq(path, '[%{FILENAMES}\t%{FILEMODES}\t%{FILESIZES}\t%{FILEDIGESTS}\t%{FILEFLAGS}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILELINKTOS}\t%{FILEMTIMES}\t%{FILEINODES}\n]'))
          .split('\n').filter(Boolean);
        expect(pkg.files.map((f) => [f.path, f.mode, f.size, f.digest, f.flags, f.user, f.group, f.linkTarget, f.mtime, f.inode].join('\t'))).toEqual(fl);
        const caps = (await run('rpm', ['-qp', '--nosignature', '--filecaps', path])).stdout.split('\n').filter(Boolean);
        expect(pkg.files.map((f) => `${f.path}\t${f.caps ?? ''}`)).toEqual(caps);
        for (const [kind, body, prog] of [['pre', 'PREIN', 'PREINPROG'], ['post', 'POSTIN', 'POSTINPROG'], ['preun', 'PREUN', 'PREUNPROG'],
          ['postun', 'POSTUN', 'POSTUNPROG'], ['pretrans', 'PRETRANS', 'PRETRANSPROG'], ['posttrans', 'POSTTRANS', 'POSTTRANSPROG'], ['verify', 'VERIFYSCRIPT', 'VERIFYSCRIPTPROG']] as const) {
          const b = await rpmq(path, `%{${body}}`);
          const pr = await rpmq(path, `[%{${prog}} ]`);
          const s = pkg.scriptlets.find((x) => x.kind === kind);
          if (b === '(none)' && pr.trim() === '') expect(s, kind).toBeUndefined();
          else {
            expect(s?.body ?? '(none)', kind).toBe(b);
            if (pr.trim()) expect([s?.interpreter, ...(s?.args ?? [])].join(' '), kind).toBe(pr.trim());
          }
        }
      });

      it('exposes ownership from the header on payload entries', async () => {
        const want = new Map((await rpmq(path, '[%{FILENAMES}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\n]')).split('\n').filter(Boolean)
          .map((l) => { const [p, u, g] = l.split('\t'); return [p, `${u}:${g}`] as const; }));
        let n = 0;
        for await (const e of pkg.entries()) {
          expect(`${e.user}:${e.group}`, e.path).toBe(want.get('/' + e.path));
          if (e.caps) expect(e.caps).toEqual(capsToVfsCapData(e.file.caps ?? ''));
          n++;
        }
        expect(n).toBe(pkg.files.filter((f) => !f.isGhost).length);
      });

      it('converts to a solver record', async () => {
        const rec = pkg.toRecord();
        expect(rec.name).toBe(pkg.name);
        const reqs = (await rpmq(path, '[%{REQUIRENEVRS}\n]')).split('\n').filter((l) => l && !l.startsWith('rpmlib('));
        expect([...rec.requires, ...rec.prerequires].sort()).toEqual(reqs.sort());
        expect(rec.files.length).toBe(pkg.files.length);
      });
    });
  }

  it('applies header owners and file capabilities with owners: true', async () => {
    const pkg = await openRpm(join(sharedRpms(), 'capstest-1.0-1.noarch.rpm'));
    const capped = pkg.files.filter((f) => f.caps);
    expect(capped.length).toBeGreaterThan(0);
    const dir = await mkdtemp(join(work, 'caps-'));
    await pkg.extractTo(dir, { owners: true });
    const { getAttribute } = await import('fs-xattr');
    for (const f of capped) {
      const v = await getAttribute(join(dir, f.path), 'security.capability');
      expect(new Uint8Array(v)).toEqual(capsToVfsCapData(f.caps as string));
    }
  });

  it('rejects the corrupted package', async () => {
    const path = join(sharedRpms(), 'hello-2.0-1.x86_64-corrupted.rpm');
    const dir = await mkdtemp(join(work, 'corrupt-'));
    const err = await (async () => {
      const pkg = await openRpm(path);
      await pkg.extractTo(dir);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect(['LAYER_RPM_DIGEST', 'LAYER_RPM_FORMAT']).toContain((err as LayerError).code);
    expect((err as LayerError).message).toContain('hello-2.0-1.x86_64');
    expect(await readdir(dir)).toEqual([]);
  });

  it('exposes the signature and the key id rpm shows', async () => {
    const path = join(sharedRpms(), 'hello-2.0-1.x86_64-signed.rpm');
    const pkg = await openRpm(path);
    const qi = await rpmq(path, '%{RSAHEADER:pgpsig}');
    const m = /Key ID ([0-9a-f]{16})/.exec(qi);
    expect(m, qi).not.toBeNull();
    expect(pkg.signature.keyIds).toEqual([m?.[1]]);
    expect(pkg.signature.signatures[0]).toMatchObject({ tag: 'rsa', pubkeyAlgo: 'RSA', hashAlgo: 'SHA256' });
    // Note: shared/data/README says alice.asc signed it, but alice.asc's keys are B3A771BFEB04E625
    // (primary) and 1F71177215217EE0 (subkey); rpm itself reports 4344591e1964c5fc (rpm's older
    // test key), so rpm's own output is the oracle here.
    expect(pkg.signature.signatures[0]?.created).toBeGreaterThan(1.4e9);
    const mc = await openRpm(join(sharedRpms(), 'mc-4.8.15-10.3.1.x86_64.rpm'));
    const mcId = /Key ID ([0-9a-f]{16})/.exec(await rpmq(mc.path, '%{RSAHEADER:pgpsig}'))?.[1];
    expect(mc.signature.keyIds).toEqual([mcId]);
    const unsigned = await openRpm(join(sharedRpms(), 'hello-2.0-1.x86_64.rpm'));
    expect(unsigned.signature.keyIds).toEqual([]);
    expect(unsigned.signature.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
