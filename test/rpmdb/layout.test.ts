/**
 * Where the database goes in differently laid-out trees (formats.md §5.1): rpm-ostree keeps the
 * real directory in usr/share/rpm with links to it; links are resolved inside the tree, never
 * on the host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRpm, type RpmPackage } from '../../src/rpm/index.js';
import { openRpmdb, packageEntry, writeRpmdb } from '../../src/rpmdb/index.js';
import { requireTool, rpmIn, sharedData, sortedLines, tempDir } from './helpers.js';

const dirs: string[] = [];
let pkgs: RpmPackage[];
function scratch(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  pkgs = await Promise.all(['foo-1.0-1.noarch.rpm', 'hlinktest-1.0-1.noarch.rpm'].map((f) => openRpm(sharedData(`rpms/${f}`))));
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

it('writes into an rpm-ostree tree\'s usr/share/rpm and keeps its links', () => {
  requireTool('rpm');
  const tree = scratch('ostree-layout');
  rpmIn(tree, ['-i', '--justdb', '--nodeps', '--nosignature', '--noscripts', '--dbpath', '/usr/share/rpm', sharedData('rpms/capstest-1.0-1.noarch.rpm')]);
  fs.mkdirSync(path.join(tree, 'usr/lib/sysimage'), { recursive: true });
  fs.symlinkSync('../../../usr/share/rpm', path.join(tree, 'usr/lib/sysimage/rpm'));
  fs.mkdirSync(path.join(tree, 'var/lib'), { recursive: true });
  fs.symlinkSync('../../usr/share/rpm', path.join(tree, 'var/lib/rpm'));
  const w = writeRpmdb(tree, pkgs.map((p) => packageEntry(p)), { installTid: 7, links: ['usr/share/rpm', 'var/lib/rpm'] });
  expect(w.file).toBe(path.join(tree, 'usr/share/rpm/rpmdb.sqlite'));
  expect(fs.lstatSync(path.join(tree, 'usr/share/rpm')).isDirectory()).toBe(true);
  expect(fs.readlinkSync(path.join(tree, 'usr/lib/sysimage/rpm'))).toBe('../../../usr/share/rpm');
  expect(fs.readlinkSync(path.join(tree, 'var/lib/rpm'))).toBe('../../usr/share/rpm');
  const want = ['foo', 'hlinktest'];
  for (const dbpath of ['/usr/share/rpm', '/var/lib/rpm']) {
    const r = rpmIn(tree, ['-qa', '--qf', '%{NAME}\\n', '--dbpath', dbpath]);
    expect(sortedLines(r.stdout), dbpath).toEqual(want);
  }
  expect(sortedLines(rpmIn(tree, ['-qa', '--qf', '%{NAME}\\n']).stdout)).toEqual(want); // via usr/lib/sysimage/rpm
});

it('resolves absolute links inside the tree, never on the host', () => {
  const host = scratch('host'); // stands in for the host's own /…/rpm directory
  fs.writeFileSync(path.join(host, 'rpmdb.sqlite'), 'host database: must stay untouched');
  const tree = scratch('abs-link');
  fs.mkdirSync(path.join(tree, 'usr/lib/sysimage'), { recursive: true });
  fs.symlinkSync(host, path.join(tree, 'usr/lib/sysimage/rpm'));
  const w = writeRpmdb(tree, pkgs.map((p) => packageEntry(p)), { installTid: 7 });
  expect(w.file).toBe(path.join(tree, host, 'rpmdb.sqlite'));
  expect(fs.readFileSync(path.join(host, 'rpmdb.sqlite'), 'utf8')).toBe('host database: must stay untouched');
  const db = openRpmdb(tree);
  expect(db.file).toBe(path.join(tree, host, 'rpmdb.sqlite'));
  expect(db.packages().map((p) => p.name)).toEqual(['foo', 'hlinktest']);
  db.close();
});

it('lays out a fresh tree as usr/lib/sysimage/rpm with opt-in compatibility links', () => {
  const tree = scratch('fresh');
  writeRpmdb(tree, pkgs.map((p) => packageEntry(p)), { installTid: 7, links: ['usr/share/rpm', 'var/lib/rpm'] });
  expect(fs.readdirSync(path.join(tree, 'usr/lib/sysimage/rpm'))).toEqual(['rpmdb.sqlite']);
  expect(fs.readlinkSync(path.join(tree, 'usr/share/rpm'))).toBe('../lib/sysimage/rpm');
  expect(fs.readlinkSync(path.join(tree, 'var/lib/rpm'))).toBe('../../usr/lib/sysimage/rpm');
  const plain = scratch('nolinks');
  writeRpmdb(plain, pkgs.map((p) => packageEntry(p)), { installTid: 7, links: [] });
  expect(fs.readdirSync(plain)).toEqual(['usr']);
  expect(fs.readdirSync(path.join(plain, 'usr'))).toEqual(['lib']);
});
