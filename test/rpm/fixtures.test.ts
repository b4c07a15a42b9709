/**
 * Fixture RPMs built with rpmbuild: every payload compressor round-trips through entries() and
 * extractTo(), and every header feature reads back as written.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAlgo, everyFeature } from '../../fixtures/specs/rpm-reader.js';
import { FILEFLAG, openRpm, SENSE, type PayloadEntry } from '../../src/rpm/index.js';
import { buildRpm, type Compressor } from '../support/rpmbuild.js';
import { requireTool, rpmq, run, snapshot } from './helpers.js';

const COMPRESSORS: Compressor[] = ['gzip', 'xz', 'lzma', 'zstd', 'bzip2', 'none'];

let work: string;
beforeAll(async () => {
  for (const [cmd, pkg] of [['rpmbuild', 'rpm'], ['rpm2cpio', 'rpm2cpio'], ['cpio', 'cpio'], ['xz', 'xz-utils'], ['zstd', 'zstd'], ['bzip2', 'bzip2']]) requireTool(cmd as string, pkg as string);
  work = await mkdtemp(join(tmpdir(), 'layer-rpm-fixtures-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(COMPRESSORS)('every-feature package, %s payload', (compressor) => {
  let path: string;
  beforeAll(async () => {
    path = await buildRpm(everyFeature(compressor));
  });

  it('declares the compressor and extracts like rpm2cpio | cpio', async () => {
    const pkg = await openRpm(path);
    expect(await rpmq(path, '%{PAYLOADCOMPRESSOR}')).toBe(compressor === 'none' ? '(none)' : compressor);
    const ours = join(work, `${compressor}-ours`);
    const theirs = join(work, `${compressor}-cpio`);
    await mkdir(ours);
    await mkdir(theirs);
    await pkg.extractTo(ours);
    await run('sh', ['-c', `rpm2cpio "$1" | (cd "$2" && cpio -idm --quiet)`, 'sh', path, theirs]);
    const a = await snapshot(ours);
    const b = await snapshot(theirs);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [p, nb] of b) {
      const na = a.get(p);
      expect({ p, type: na?.type, sha: na?.sha256, target: na?.target, nlink: na?.nlink }).toEqual({ p, type: nb.type, sha: nb.sha256, target: nb.target, nlink: nb.nlink });
      if (nb.type !== 'symlink') expect({ p, mode: na?.mode }).toEqual({ p, mode: nb.mode });
      if (nb.type === 'file') expect({ p, mtime: na?.mtime }).toEqual({ p, mtime: nb.mtime });
    }
    expect(a.has('var/log/every-feature.log')).toBe(false); // %ghost: not in the payload
    const one = await stat(join(ours, 'usr/share/every-feature/one'));
    const three = await stat(join(ours, 'usr/share/every-feature/three'));
    expect(one.ino).toBe(three.ino);
    expect(one.nlink).toBe(3);
  });

  it('streams entries with header metadata, hardlink holders and verified content', async () => {
    const pkg = await openRpm(path);
    const seen: PayloadEntry[] = [];
    const bytes = new Map<string, number>();
    for await (const e of pkg.entries()) {
      seen.push(e);
      // The hardlink set's data holder is left unread: the reader must skip it and still verify.
      if (e.content && !/every-feature\/(one|two|three)$/.test(e.path)) {
        let n = 0;
        for await (const c of e.content) n += c.length;
        bytes.set(e.path, n);
      }
    }
    const byPath = new Map(seen.map((e) => [e.path, e]));
    expect(byPath.has('var/log/every-feature.log')).toBe(false);
    const set = ['one', 'two', 'three'].map((n) => byPath.get(`usr/share/every-feature/${n}`));
    const holder = set.find((e) => e?.content);
    expect(holder).toBeDefined();
    for (const e of set) if (e !== holder) expect(e?.hardlinkTo).toBe(holder?.path);
    // Members without data precede their holder.
    const order = seen.map((e) => e.path);
    for (const e of set) if (e !== holder) expect(order.indexOf(e?.path ?? '')).toBeLessThan(order.indexOf(holder?.path ?? ''));
    const bin = byPath.get('usr/bin/every-feature');
    expect(bin?.mode).toBe(0o100755);
    expect(bytes.get('usr/bin/every-feature')).toBe('#!/bin/sh\necho every feature\n'.length);
    // cap_net_admin (12) + cap_net_raw (13) = 0x3000 permitted, effective flag set (rev 2).
    expect(bin?.caps).toEqual(Uint8Array.from([0x01, 0, 0, 0x02, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(byPath.get('usr/bin/every-suid')?.mode).toBe(0o104755);
    expect(byPath.get('usr/share/every-feature/abs-link')).toMatchObject({ type: 'symlink', linkTarget: '/usr/bin/every-feature', mode: 0o120777 });
    expect(byPath.get('usr/share/every-feature/nobody-owned')).toMatchObject({ user: 'nobody', group: 'nogroup', mtime: 1234567890, uid: 0, gid: 0 });
    expect(byPath.get('etc/every-feature.d')).toMatchObject({ type: 'dir', mode: 0o40750, group: 'adm' });
    expect(byPath.get('etc/every-feature.conf')?.fileFlags).toBe(FILEFLAG.CONFIG | FILEFLAG.NOREPLACE);
    expect(byPath.get('usr/share/every-feature/spaced name.txt')?.size).toBe(7);
  });

  it('reads NEVRA, dependencies, file flags and scriptlets as written', async () => {
    const pkg = await openRpm(path);
    expect(pkg.nevra).toBe('every-feature-' + compressor + '-3:2.5-7.fc99.x86_64');
    const rec = pkg.toRecord();
    expect(rec).toMatchObject({ epoch: 3, version: '2.5', release: '7.fc99', arch: 'x86_64' });
    expect(rec.requires).toEqual(expect.arrayContaining(['bash >= 4.0', 'coreutils', '(python3 if systemd)', 'libfoo.so.1()(64bit)']));
    expect(rec.prerequires).toEqual(expect.arrayContaining(['shadow-utils', 'systemd']));
    expect(rec.requires).toContain('grep'); // Requires(posttrans) is not an install-time prerequisite
    expect(rec.requires.some((r) => r.startsWith('rpmlib('))).toBe(false);
    expect(rec.provides).toEqual(expect.arrayContaining(['every-feature-api = 2.5', 'config(every-feature) = 3:2.5-7.fc99']));
    expect(rec.conflicts).toEqual(['old-thing < 2']);
    expect(rec.obsoletes).toEqual(['every-feature-legacy <= 1.9']);
    expect(rec.recommends).toEqual(['every-feature-docs']);
    expect(rec.suggests).toEqual(['every-feature-extras > 1']);
    expect(rec.supplements).toEqual(['(every-feature and langpacks-de)']);
    expect(rec.enhances).toEqual(['bash']);
    expect(rec.files).toContain('/var/log/every-feature.log');
    const shadow = pkg.deps('requires').find((d) => d.name === 'shadow-utils');
    expect((shadow?.flags ?? 0) & SENSE.SCRIPT_PRE).toBeTruthy();
    const f = new Map(pkg.files.map((x) => [x.path, x]));
    expect(f.get('/var/log/every-feature.log')).toMatchObject({ isGhost: true, digest: '' });
    expect(f.get('/usr/share/doc/every-feature/README')?.isDoc).toBe(true);
    expect(f.get('/etc/every-feature.conf')?.isConfig).toBe(true);
    expect(f.get('/usr/bin/every-feature')?.caps).toBe('cap_net_admin,cap_net_raw=ep');
    expect(pkg.fileDigestAlgo).toBe('sha256');
    const s = new Map(pkg.scriptlets.filter((x) => !x.conditions).map((x) => [x.kind, x]));
    expect(s.get('pretrans')).toMatchObject({ interpreter: '<lua>', body: 'print("pretrans")' });
    expect(s.get('pre')?.body).toContain('groupadd -r every');
    expect(s.get('post')).toMatchObject({ interpreter: '/sbin/ldconfig', body: undefined });
    expect(s.get('postun')).toMatchObject({ interpreter: '/bin/bash', body: 'echo postun' });
    expect(s.get('preun')?.interpreter).toBe('/bin/sh');
    const trig = pkg.scriptlets.filter((x) => x.conditions);
    expect(trig.map((t) => [t.kind, t.body, t.conditions?.map((c) => [c.name, c.version, c.when])])).toEqual([
      ['trigger', 'echo bash changed', [['bash', '5', 'in']]],
      ['trigger', 'echo coreutils leaving', [['coreutils', '', 'un']]],
      ['filetrigger', 'cat >/dev/null', [['/usr/lib/every', '', 'in']]],
      ['transfiletrigger', 'true', [['/usr/share/every-feature', '', 'in']]],
    ]);
    expect(trig[2]?.priority).toBe(400);
  });
});

describe('file digest algorithms', () => {
  for (const algo of [1, 2, 10] as const) {
    it(`verifies content with FILEDIGESTALGO ${algo}`, async () => {
      const pkg = await openRpm(await buildRpm(digestAlgo(algo)));
      expect(pkg.fileDigestAlgo).toBe({ 1: 'md5', 2: 'sha1', 10: 'sha512' }[algo]);
      const dir = await mkdtemp(join(work, `algo-${algo}-`));
      await pkg.extractTo(dir);
      const snap = await snapshot(dir);
      expect(snap.get('usr/share/digest-algo/data')?.size).toBe(10);
    });
  }
});
