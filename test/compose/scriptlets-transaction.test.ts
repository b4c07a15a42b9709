/**
 * A whole layering transaction's scriptlets on a real tree (Debian libc6/bash/coreutils/passwd,
 * built and cached by scriptlets.test.ts's helper logic — rebuilt here if missing): order of
 * slots, ownership applied between %pre and %post, and %transfiletriggerin of an installed
 * (base) package firing for a layered package's files, highest priority first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { RecordingReport } from '../../src/report.js';
import { readByLdconfig, runTransactionScriptlets, transactionHasWork, type TransactionPackage } from '../../src/compose/scriptlets-transaction.js';
import type { Scriptlet } from '../../src/compose/scriptlets.js';
import { buildRootTree, fetchDebs } from '../../fixtures/demo/debian.js';

const run = promisify(execFile);
const CACHE = join(resolve(import.meta.dirname, '../..'), '.cache');
const TREE_DEBS = [
  'libc6', 'libc-bin', 'bash', 'libtinfo6', 'coreutils', 'passwd', 'libaudit1', 'libselinux1',
  'libsemanage2', 'libcap-ng0', 'libpcre2-8-0', 'libsepol2', 'libbz2-1.0', 'libacl1', 'libattr1', 'libgmp10',
];

let pristine: string;
let work: string;

beforeAll(async () => {
  for (const cmd of ['bwrap', 'dpkg-deb', 'apt-get']) {
    await run('sh', ['-c', `command -v ${cmd}`]).catch(() => {
      throw new Error(`${cmd} is required: bash scripts/setup.sh (bubblewrap), on a Debian host with apt/dpkg`);
    });
  }
  const debs = await fetchDebs(TREE_DEBS, join(CACHE, 'debs'));
  const key = createHash('sha256').update(`v1 txn ${debs.map((d) => `${d.name}=${d.version}`).join(' ')}`).digest('hex').slice(0, 16);
  pristine = join(CACHE, 'scriptlet-tree', `txn-${key}`);
  if (!existsSync(pristine)) {
    await mkdir(join(CACHE, 'scriptlet-tree'), { recursive: true });
    const tmp = await mkdtemp(join(CACHE, 'scriptlet-tree', '.build-'));
    await buildRootTree(debs, tmp);
    await rename(tmp, pristine).catch(async () => rm(tmp, { recursive: true, force: true }));
  }
  work = await mkdtemp(join(tmpdir(), 'layer-txn-test-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const sh = (kind: Scriptlet['kind'], body: string): Scriptlet => ({ kind, interpreter: '/bin/sh', body });
const trigger = (prefix: string, priority: number, body: string): Scriptlet => ({
  kind: 'transfiletrigger', interpreter: '/bin/sh', body, priority,
  conditions: [{ name: prefix, flags: 0, version: '', when: 'in' }],
});
const log = (line: string) => `echo "${line}" >> /etc/order.log`;

describe('runTransactionScriptlets', () => {
  it('runs %pre, applies ownership, then %post, %posttrans and file triggers in rpm order', async () => {
    const tree = join(work, 't1');
    await run('cp', ['-a', pristine, tree]);
    await mkdir(join(tree, 'usr/lib/svca'), { recursive: true });
    await writeFile(join(tree, 'usr/lib/svca/data'), 'x');
    await writeFile(join(tree, 'usr/bin/b-tool'), 'y');
    const a: TransactionPackage = {
      name: 'svca', nevra: 'svca-1-1.x86_64',
      scriptlets: [
        sh('pre', `${log('pre A $1')}; groupadd -r svca && useradd -r -g svca -d /usr/lib/svca svca`),
        sh('post', `${log('post A $1 owner=$(stat -c %U:%G /usr/lib/svca/data)')}`),
        sh('posttrans', log('posttrans A')),
        sh('preun', log('preun A must not run')),
      ],
      files: [
        { path: '/usr/lib/svca', user: 'root', group: 'root' },
        { path: '/usr/lib/svca/data', user: 'svca', group: 'svca' },
        { path: '/usr/lib/svca/ghost', user: 'svca', group: 'svca' },
      ],
    };
    const b: TransactionPackage = {
      name: 'btool', nevra: 'btool-2-1.x86_64',
      scriptlets: [sh('pre', log('pre B')), sh('post', log('post B')), sh('posttrans', log('posttrans B'))],
      files: [{ path: '/usr/bin/b-tool', user: 'nosuchuser', group: 'root' }],
    };
    const base = [
      { name: 'glibc-ish', nevra: 'glibc-ish-1-1.x86_64', scriptlets: [sh('post', 'exit 1'), trigger('/usr/lib/', 100, 'while read -r f; do echo "low $f" >> /etc/order.log; done')] },
      { name: 'hi', nevra: 'hi-1-1.x86_64', scriptlets: [trigger('/usr/', 200, 'while read -r f; do echo "high $f" >> /etc/order.log; done'), trigger('/opt/', 300, 'exit 1')] },
    ];
    const report = new RecordingReport();
    const res = await runTransactionScriptlets(tree, [a, b], { installed: base, report });
    expect((await readFile(join(tree, 'etc/order.log'), 'utf8')).split('\n')).toEqual([
      'pre A 1', 'pre B',
      'post A 1 owner=svca:svca', 'post B',
      'posttrans A', 'posttrans B',
      'high /usr/lib/svca', 'high /usr/lib/svca/data', 'high /usr/lib/svca/ghost', 'high /usr/bin/b-tool',
      'low /usr/lib/svca', 'low /usr/lib/svca/data', 'low /usr/lib/svca/ghost',
      '',
    ]);
    expect(existsSync(join(tree, 'etc/ld.so.cache'))).toBe(true); // the tree's ldconfig ran last
    expect(res.outcomes.at(-1)?.nevra).toBe('layer (ld.so cache refresh)');
    const st = await stat(join(tree, 'usr/lib/svca/data'));
    expect(st.uid).toBe(res.ownership.uid.get('svca'));
    expect(st.uid).toBeGreaterThan(0);
    expect(res.ownership.unknownUsers).toEqual(['nosuchuser']);
    expect(report.messages.filter((m) => m.level === 'warn').map((m) => m.message)).toEqual([
      'user nosuchuser does not exist in the new tree - using root',
    ]);
    expect(res.outcomes.filter((o) => o.status === 'skipped').map((o) => `${o.nevra} ${o.kind}`)).toEqual(['svca-1-1.x86_64 preun']);
  });

  it('stops at the first failing scriptlet: no %post after a failed %pre', async () => {
    const tree = join(work, 't2');
    await run('cp', ['-a', pristine, tree]);
    const bad: TransactionPackage = {
      name: 'bad', nevra: 'bad-1-1.noarch',
      scriptlets: [sh('pre', 'echo cannot-continue; exit 7'), sh('post', log('post bad'))],
      files: [],
    };
    const err = await runTransactionScriptlets(tree, [bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).message).toMatch(/bad-1-1\.noarch: %pre scriptlet failed with exit status 7[\s\S]*cannot-continue/);
    expect(existsSync(join(tree, 'etc/order.log'))).toBe(false);
  });
});

describe('a transaction with nothing to run', () => {
  const plain = (files: TransactionPackage['files']): TransactionPackage => ({ name: 'data', nevra: 'data-1-1.noarch', scriptlets: [], files });
  const root = (path: string) => ({ path, user: 'root', group: 'root' });

  it('has no work unless a scriptlet, a matching base trigger, an owner or a library is involved', () => {
    const data = plain([root('/usr/share/data'), root('/usr/share/data/a')]);
    expect(transactionHasWork([data])).toBe(false);
    expect(transactionHasWork([{ ...data, scriptlets: [sh('preun', 'true')] }])).toBe(true);
    expect(transactionHasWork([plain([{ path: '/usr/share/data/a', user: 'daemon', group: 'root' }])])).toBe(true);
    const base = [{ name: 'b', nevra: 'b-1-1.noarch', scriptlets: [trigger('/usr/share/data/', 1, 'true')] }];
    expect(transactionHasWork([data], { installed: base })).toBe(true);
    expect(transactionHasWork([plain([root('/usr/share/other')])], { installed: base })).toBe(false);
    expect(transactionHasWork([plain([root('/usr/lib/x86_64-linux-gnu/libz.so.1')])])).toBe(true);
    expect(transactionHasWork([plain([root('/usr/lib/x86_64-linux-gnu/libz.so.1')])], { ldconfig: false })).toBe(false);
    expect(transactionHasWork([plain([root('/etc/ld.so.conf.d/x.conf')])])).toBe(true);
    expect(['/usr/lib/libfoo.so', '/lib64/ld-linux-x86-64.so.2', '/usr/lib/foo.so', '/usr/lib/libfoo.a'].map(readByLdconfig)).toEqual([true, true, false, false]);
  });

  it('runs the tree ldconfig only for a file it reads: the cache is rebuilt then, untouched otherwise', async () => {
    const tree = join(work, 't3');
    await run('cp', ['-a', pristine, tree]);
    await rm(join(tree, 'etc/ld.so.cache'), { force: true });
    await writeFile(join(tree, 'usr/share/data-a'), 'x');
    const none = await runTransactionScriptlets(tree, [plain([root('/usr/share/data-a')])]);
    expect(none.outcomes).toEqual([]);
    expect(existsSync(join(tree, 'etc/ld.so.cache'))).toBe(false);
    // A real shared library (the tree's libattr) under a new name: ldconfig runs.
    const lib = (await run('sh', ['-c', `ls ${tree}/usr/lib/x86_64-linux-gnu/libattr.so.1.* | head -1`])).stdout.trim();
    await run('cp', [lib, join(tree, 'usr/lib/x86_64-linux-gnu/libdemo.so.1')]);
    const withLib = await runTransactionScriptlets(tree, [plain([root('/usr/lib/x86_64-linux-gnu/libdemo.so.1')])]);
    expect(withLib.outcomes.map((o) => `${o.nevra} ${o.status}`)).toEqual(['layer (ld.so cache refresh) ran']);
    // The cache the real ldconfig wrote, read back by `ldconfig -p -C`, lists libattr.
    const listed = (await run('ldconfig', ['-p', '-C', join(tree, 'etc/ld.so.cache')])).stdout;
    expect(listed).toMatch(/libattr\.so\.1 /);
  });
});
