/**
 * `rpm -Va` on a tree where the packages were extracted (src/rpm extractTo, owners applied)
 * and the database written by layer: rpm must find every file as its header describes it.
 * Only mtime (`T`) may differ (formats.md §5.5); here nothing does, since extraction keeps
 * FILEMTIMES.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openRpm } from '../../src/rpm/index.js';
import { writeRpmdb } from '../../src/rpmdb/index.js';
import { fixtureRpms } from './fixtures.js';
import { requireTool, rpmIn, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

it('rpm -Va reports no mismatch other than mtime on an extracted tree', async () => {
  requireTool('rpm');
  const tree = tempDir('verify');
  dirs.push(tree);
  // Owners are names in the header; rpm -V maps them through the tree's own passwd/group.
  fs.mkdirSync(path.join(tree, 'etc'));
  fs.writeFileSync(path.join(tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nmail:x:8:12:mail:/var/spool/mail:/sbin/nologin\nngircd:x:470:470::/:/sbin/nologin\n');
  fs.writeFileSync(path.join(tree, 'etc/group'), 'root:x:0:\nmail:x:12:\nngircd:x:470:\n');
  const pkgs = await Promise.all((await fixtureRpms()).map((f) => openRpm(f)));
  for (const p of pkgs) await p.extractTo(tree, { owners: true });
  writeRpmdb(tree, pkgs.map((p) => ({ kind: 'package', header: p.header, signatureHeader: p.signatureHeader })), { installTid: 1_700_000_000 });

  const r = rpmIn(tree, ['-Va', '--nodeps', '--noscripts'], { allowFail: true });
  expect(r.stderr).toBe('');
  const problems = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    // "S.5....T.  c /etc/x": keep lines whose flags show anything but mtime.
    .filter((l) => !/^[.T]{9} /.test(l));
  expect(problems).toEqual([]);
  expect(r.status).toBe(0);

  // And the check has teeth: a changed file and a missing one are reported.
  fs.writeFileSync(path.join(tree, 'usr/share/rich/data.txt'), 'changed\n');
  fs.rmSync(path.join(tree, 'usr/bin/rich-tool'));
  const bad = rpmIn(tree, ['-V', '--nodeps', '--noscripts', 'rich-deps-and-triggers'], { allowFail: true });
  expect(bad.stdout).toMatch(/^S\.5\.{4}T?\.* +\/usr\/share\/rich\/data\.txt$/m);
  expect(bad.stdout).toMatch(/^missing +\/usr\/bin\/rich-tool$/m);
}, 120_000);
