/**
 * The package set the writer tests use: every RPM in ../shared/data/rpms except the corrupted
 * one (and the signed twin of hello, which has the same NEVRA), plus rpmbuild-made fixtures
 * covering what those lack: rich dependencies, transient (install-only) requires, triggers
 * with a repeated name, file triggers, weak dependencies, %ghost/%config/non-root owners.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRpm } from '../support/rpmbuild.js';
import { sharedData } from './helpers.js';

export async function fixtureRpms(): Promise<string[]> {
  const dir = sharedData('rpms');
  const shared = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.rpm') && !f.includes('corrupted') && !f.includes('-signed'))
    .sort()
    .map((f) => path.join(dir, f));
  const richDeps = await buildRpm({
    name: 'rich-deps-and-triggers',
    version: '2.1',
    release: '3',
    epoch: 2,
    provides: ['virtual-thing = 7', 'rich-provide'],
    requires: [
      '(pkgA if pkgB else pkgC)',
      '(x-lib and (y-lib or z-lib))',
      'plain-dep >= 1.0',
      '((nested-a if nested-b) and nested-c)',
      '((else-a >= 1.0 if else-b < 2 else else-c) and else-d)',
      '(with-a with with-b)',
      '(dup-x or (dup-x and dup-y))',
      '(fn-a(x86-64) or fn-b(pkg))',
    ],
    requiresFor: { post: ['coreutils'], pre: ['shadow-utils'], preun: ['bash'], posttrans: ['systemd'], pretrans: ['filesystem'] },
    conflicts: ['(old-a unless old-b)', 'broken < 2'],
    obsoletes: ['legacy-thing < 2.0'],
    recommends: ['(rec-a if rec-b)', 'rec-plain'],
    suggests: ['sugg-one'],
    supplements: ['(sup-a and sup-b)'],
    enhances: ['enh-one'],
    scripts: { post: 'true', preun: 'true', posttrans: 'true' },
    triggers: [
      { kind: 'triggerin', on: 'trig-target', body: 'true' },
      { kind: 'triggerun', on: 'trig-target', body: 'true' },
      { kind: 'triggerpostun', on: 'other-target', body: 'true' },
      { kind: 'filetriggerin', on: '/usr/lib/rich-hooks', body: 'true' },
      { kind: 'filetriggerun', on: '/usr/lib/rich-hooks', body: 'true' },
      { kind: 'transfiletriggerin', on: '/usr/share/rich-data', body: 'true' },
    ],
    files: [
      { path: '/usr/share/rich', type: 'dir' },
      { path: '/usr/share/rich/data.txt', content: 'data\n' },
      { path: '/usr/share/rich/link', type: 'symlink', target: 'data.txt' },
      { path: '/etc/rich.conf', content: 'a=1\n', config: 'noreplace' },
      { path: '/var/log/rich.log', ghost: true },
      { path: '/usr/share/doc/rich/README', content: 'read me\n', doc: true },
      { path: '/usr/bin/rich-tool', content: '#!/bin/sh\necho rich\n', mode: 0o755 },
    ],
  });
  const owned = await buildRpm({
    name: 'owned-files',
    files: [
      { path: '/var/lib/owned', type: 'dir', user: 'mail', group: 'mail', mode: 0o750 },
      { path: '/var/lib/owned/state', content: 'x\n', user: 'mail', group: 'mail', mode: 0o640 },
      { path: '/usr/bin/setgid-tool', content: '#!/bin/sh\n', group: 'mail', mode: 0o2755 },
    ],
  });
  return [...shared, richDeps, owned];
}
