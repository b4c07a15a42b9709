/**
 * Scriptlets run in bubblewrap inside a REAL root tree built from Debian packages
 * (libc6, bash, coreutils, passwd = shadow-utils, ...), extracted merged-/usr and cached
 * under .cache/scriptlet-tree/. Each test works on its own copy of the tree.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, mkdir, writeFile, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { RecordingReport } from '../../src/report.js';
import { runPackageScriptlets, runScriptlet, transFileTriggerMatches, type Scriptlet } from '../../src/compose/scriptlets.js';
import { openRpm } from '../../src/rpm/index.js';
import { readAccounts, resolveOwnership } from '../../src/compose/users.js';
import { buildRootTree, fetchDebs, BASE_GROUP, BASE_PASSWD } from '../../fixtures/demo/debian.js';
import { requireTool } from '../support/tools.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache');
const NGIRCD = resolve(ROOT, '../shared/data/rpms/ngircd-22-2.fc22.x86_64.rpm');

/** A tree with a shell and shadow-utils: everything `useradd` and coreutils link against. */
const FULL_TREE = [
  'libc6', 'libc-bin', 'bash', 'libtinfo6', 'coreutils', 'passwd', 'libaudit1', 'libselinux1',
  'libsemanage2', 'libcap-ng0', 'libpcre2-8-0', 'libsepol2', 'libbz2-1.0', 'libacl1', 'libattr1', 'libgmp10',
];


/** Build (once, cached by Debian versions) and return the pristine tree for `names`. */
async function cachedTree(label: string, names: string[], extra?: (root: string) => Promise<void>): Promise<string> {
  const debs = await fetchDebs(names, join(CACHE, 'debs'));
  const key = createHash('sha256').update(`v1 ${label} ${debs.map((d) => `${d.name}=${d.version}`).join(' ')}`).digest('hex').slice(0, 16);
  const dir = join(CACHE, 'scriptlet-tree', `${label}-${key}`);
  if (existsSync(dir)) return dir;
  await mkdir(join(CACHE, 'scriptlet-tree'), { recursive: true });
  const tmp = await mkdtemp(join(CACHE, 'scriptlet-tree', '.build-'));
  await buildRootTree(debs, tmp);
  if (extra) await extra(tmp);
  await rename(tmp, dir).catch(async (err) => {
    // A concurrent run won the race: use its tree.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  });
  return dir;
}

let fullTree: string;
let busyboxTree: string;
let work: string;
const hostFiles = ['/etc/passwd', '/etc/group', '/etc/shadow'].filter((f) => existsSync(f));
const hostBefore = new Map<string, string>();
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  requireTool('bwrap', 'bubblewrap');
  requireTool('dpkg-deb', 'dpkg');
  requireTool('apt-get', 'apt');
  requireTool('rpm');
  for (const f of hostFiles) hostBefore.set(f, sha(f));
  fullTree = await cachedTree('full', FULL_TREE);
  // A tree without shadow-utils or getent: busybox's sh only, to exercise the fallback shims.
  busyboxTree = await cachedTree('busybox', ['busybox-static'], async (root) => {
    await symlink('busybox', join(root, 'usr/bin/sh'));
  });
  work = await mkdtemp(join(tmpdir(), 'layer-scriptlets-test-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let n = 0;
async function freshTree(from: string = fullTree): Promise<string> {
  const dest = join(work, `tree-${n++}`);
  // cp -a: several times faster than fs.cp on a 28 MB tree, and keeps modes and symlinks.
  await run('cp', ['-a', from, dest]);
  return dest;
}

const pkg = (name: string) => ({ name, nevra: `${name}-1.0-1.x86_64` });
const sh = (kind: Scriptlet['kind'], body: string): Scriptlet => ({ kind, interpreter: '/bin/sh', body });

async function expectScriptletError(p: Promise<unknown>): Promise<LayerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LayerError);
  expect((err as LayerError).code).toBe('LAYER_SCRIPTLET');
  return err as LayerError;
}

describe('scriptlets in a bubblewrap sandbox', () => {
  it('runs %post with $1 = 1 inside the tree, with the tree as / and output captured', async () => {
    const tree = await freshTree();
    const report = new RecordingReport();
    const out = await runScriptlet(
      tree,
      pkg('demo'),
      sh('post', 'echo "arg=$1 path=$PATH"; cat /etc/passwd | wc -l; echo to-stderr >&2; echo marker > /etc/demo.conf'),
      { report },
    );
    expect(out.status).toBe('ran');
    expect(out.output).toContain('arg=1 path=/usr/sbin:/usr/bin:/sbin:/bin');
    // The tree's passwd has 2 lines (root, nobody); the host's has more.
    expect(out.output).toContain(`${BASE_PASSWD.split('\n').length - 1}\n`);
    expect(out.output).toContain('to-stderr');
    expect(await readFile(join(tree, 'etc/demo.conf'), 'utf8')).toBe('marker\n');
    expect(report.messages.some((m) => m.message.includes('to-stderr'))).toBe(true);
  });

  it('%pre adds a user and group with the tree\'s own useradd; ownership resolves to its ids', async () => {
    const tree = await freshTree();
    await runScriptlet(tree, pkg('svc'), sh('pre', 'groupadd -r svcgrp && useradd -r -g svcgrp -d /var/lib/svc -s /sbin/nologin svcuser'));
    const passwd = await readFile(join(tree, 'etc/passwd'), 'utf8');
    const line = passwd.split('\n').find((l) => l.startsWith('svcuser:'));
    expect(line).toBeDefined();
    const uid = Number(line!.split(':')[2]);
    const gid = Number(line!.split(':')[3]);
    expect(uid).toBeGreaterThan(0);
    expect(uid).toBeLessThan(1000); // a system user, as -r asks
    const report = new RecordingReport();
    const own = await resolveOwnership(tree, { users: ['svcuser', 'root'], groups: ['svcgrp'] }, { report });
    expect(own.uid.get('svcuser')).toBe(uid);
    expect(own.uid.get('root')).toBe(0);
    expect(own.gid.get('svcgrp')).toBe(gid);
    expect(own.unknownUsers).toEqual([]);
    expect(report.messages).toEqual([]);
  });

  it('unknown owner names fall back to root with a warning, or fail when strict', async () => {
    const tree = await freshTree();
    const report = new RecordingReport();
    const own = await resolveOwnership(tree, { users: ['nosuchuser'], groups: ['nobody'] }, { report, context: 'x-1-1.noarch' });
    expect(own.uid.get('nosuchuser')).toBe(0);
    expect(own.gid.get('nobody')).toBe(65534);
    expect(own.unknownUsers).toEqual(['nosuchuser']);
    expect(report.messages.map((m) => m.message)).toEqual(['x-1-1.noarch: user nosuchuser does not exist in the new tree - using root']);
    const err = await expectScriptletError(resolveOwnership(tree, { users: ['nosuchuser'], groups: ['nogroup'] }, { strict: true }));
    expect(err.message).toContain('user nosuchuser');
    expect(err.message).toContain('group nogroup');
  });

  it('a failing %post aborts with LAYER_SCRIPTLET naming package, kind and output', async () => {
    const tree = await freshTree();
    const err = await expectScriptletError(runScriptlet(tree, pkg('broken'), sh('post', 'echo configuring broken; echo "no such file" >&2; exit 3')));
    expect(err.message).toContain('broken-1.0-1.x86_64');
    expect(err.message).toContain('%post');
    expect(err.message).toContain('exit status 3');
    expect(err.message).toContain('configuring broken');
    expect(err.message).toContain('no such file');
  });

  it('has no network: a %post connecting to a host TCP server fails and the server sees nothing', async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      // Control: the same bash line outside the sandbox does reach the server.
      await run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(1);
      const tree = await freshTree();
      const err = await expectScriptletError(
        runScriptlet(tree, pkg('phonehome'), { kind: 'post', interpreter: '/bin/bash', body: `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected` }),
      );
      expect(err.message).not.toContain('connected\n');
      expect(connections).toBe(1);
    } finally {
      server.close();
    }
  });

  it('kills a scriptlet that outlives its time limit, children included', async () => {
    const tree = await freshTree();
    const t0 = Date.now();
    const err = await expectScriptletError(
      runScriptlet(tree, pkg('hang'), sh('post', 'echo started; sleep 313 & sleep 313; echo never'), { timeoutMs: 1500 }),
    );
    const elapsed = Date.now() - t0;
    expect(err.message).toContain('timed out');
    expect(err.message).toContain('started');
    expect(elapsed).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 200));
    const leftovers = readdirSync('/proc').filter((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u0000313\u0000';
      } catch {
        return false;
      }
    });
    expect(leftovers).toEqual([]);
  });

  it('keeps file capabilities but not CAP_SYS_ADMIN (no mounting) when run as root', async () => {
    const tree = await freshTree();
    const out = await runScriptlet(tree, pkg('caps'), sh('post', 'while read -r k v; do [ "$k" = CapEff: ] && echo "$v"; done < /proc/self/status; true'));
    const eff = BigInt(`0x${out.output.trim()}`);
    const has = (bit: number) => ((eff >> BigInt(bit)) & 1n) === 1n;
    expect(has(21)).toBe(false); // CAP_SYS_ADMIN
    expect(has(16)).toBe(false); // CAP_SYS_MODULE
    expect(has(19)).toBe(false); // CAP_SYS_PTRACE
    if (process.getuid?.() === 0) {
      expect(has(0)).toBe(true); // CAP_CHOWN: scripts chown files to the users they create
      expect(has(1)).toBe(true); // CAP_DAC_OVERRIDE
    }
  });

  it('/var is read-only and /tmp is a fresh tmpfs', async () => {
    const tree = await freshTree();
    await writeFile(join(tree, 'tmp/from-tree'), 'x');
    const out = await runScriptlet(
      tree,
      pkg('fs'),
      sh('post', 'if touch /var/log/x 2>/dev/null; then echo var-writable; else echo var-ro; fi; echo "tmp=[$(ls -A /tmp)]"'),
    );
    expect(out.output).toContain('var-ro');
    // Only our own script file is in /tmp, nothing of the tree's /tmp.
    expect(out.output).toContain('tmp=[layer-script.post]');
    expect(existsSync(join(tree, 'var/log/x'))).toBe(false);
  });

  it('rejects Lua scriptlets unless allow-listed, and does not run %pretrans or uninstall scriptlets', async () => {
    const tree = await freshTree();
    const lua: Scriptlet = { kind: 'post', interpreter: '<lua>', body: 'print("hi")' };
    const err = await expectScriptletError(runScriptlet(tree, pkg('luapkg'), lua));
    expect(err.message).toContain('Lua');
    expect(err.message).toContain('luapkg-1.0-1.x86_64');
    const skipped = await runScriptlet(tree, pkg('luapkg'), lua, { luaSkips: [{ name: 'luapkg', kind: 'post', why: 'test' }] });
    expect(skipped.status).toBe('skipped');
    for (const kind of ['pretrans', 'preun', 'postun', 'verify', 'trigger'] as const) {
      const r = await runScriptlet(tree, pkg('p'), sh(kind, 'touch /etc/should-not-exist; exit 1'));
      expect(r.status).toBe('skipped');
    }
    expect(existsSync(join(tree, 'etc/should-not-exist'))).toBe(false);
  });

  it('runs other interpreters present in the tree and names a missing one', async () => {
    const tree = await freshTree();
    const ok = await runScriptlet(tree, pkg('b'), { kind: 'post', interpreter: '/usr/bin/bash', args: ['-e'], body: 'echo "bash $BASH_VERSION arg $1"' });
    expect(ok.output).toMatch(/^bash 5\.\S+ arg 1/);
    const err = await expectScriptletError(
      runScriptlet(tree, pkg('py'), { kind: 'post', interpreter: '/usr/bin/python3', body: 'print(1)' }),
    );
    expect(err.message).toContain('/usr/bin/python3');
    expect(err.message).toContain('py-1.0-1.x86_64');
  });

  it('%transfiletriggerin gets the matching files on stdin; %transfiletriggerun is not run', async () => {
    const tree = await freshTree();
    const cond = (when: 'in' | 'un') => [{ name: '/usr/lib/', flags: 0, version: '', when }];
    const trig: Scriptlet = { kind: 'transfiletrigger', interpreter: '/bin/sh', body: 'while read -r f; do echo "got $f"; done', conditions: cond('in') };
    const files = transFileTriggerMatches(trig, ['/usr/bin/x', '/usr/lib/a.so', '/etc/y', '/usr/lib/b.so']);
    expect(files).toEqual(['/usr/lib/a.so', '/usr/lib/b.so']);
    const out = await runScriptlet(tree, pkg('trig'), trig, { triggerFiles: files });
    expect(out.output).toBe('got /usr/lib/a.so\ngot /usr/lib/b.so\n');
    const un = await runScriptlet(tree, pkg('trig'), { ...trig, body: 'exit 1', conditions: cond('un') });
    expect(un.status).toBe('skipped');
  });

  it("runs the real ngircd %pre (getent/groupadd/useradd) against the tree's passwd and group", async () => {
    if (!existsSync(NGIRCD)) throw new Error(`missing ${NGIRCD} (the ../shared data directory)`);
    // Scriptlets and owners through the rpm reader's public API...
    const rpm = await openRpm(NGIRCD);
    const scriptlets = rpm.scriptlets;
    expect(scriptlets.map((s) => s.kind)).toEqual(['pre', 'post', 'preun', 'postun']);
    // ...cross-checked against native rpm.
    const { stdout: nativePre } = await run('rpm', ['-qp', '--qf', '%{PREIN}', NGIRCD]);
    expect(scriptlets[0]!.body).toBe(nativePre);
    expect(scriptlets[0]!.body).toContain('useradd -r -g ngircd');
    const groups = [...new Set(rpm.files.map((f) => f.group))];
    const users = [...new Set(rpm.files.map((f) => f.user))];
    expect(groups).toContain('ngircd');
    const tree = await freshTree();
    const p = { name: rpm.name, nevra: rpm.nevra, scriptlets };
    await runPackageScriptlets(tree, p, 'pre');
    expect((await runPackageScriptlets(tree, p, 'post'))[0]?.status).toBe('ran'); // no systemctl: the script tolerates that
    const db = await readAccounts(tree);
    const uid = db.users.get('ngircd');
    expect(uid).toBeDefined();
    expect(uid!).toBeLessThan(1000);
    const own = await resolveOwnership(tree, { users, groups });
    expect(own.gid.get('ngircd')).toBe(db.groups.get('ngircd'));
    expect(own.unknownGroups).toEqual([]);
    expect(await readFile(join(tree, 'etc/passwd'), 'utf8')).toMatch(/^ngircd:[^:]*:\d+:\d+:Next Generation IRC Daemon:\/tmp\/:\/sbin\/nologin$/m);
    // Running %pre again is a no-op (getent finds the user): idempotent as rpm expects.
    await runPackageScriptlets(tree, p, 'pre');
    expect((await readFile(join(tree, 'etc/passwd'), 'utf8')).match(/^ngircd:/gm)?.length).toBe(1);
  });

  it('falls back to shims when the tree lacks useradd/groupadd/getent (busybox-only tree)', async () => {
    const tree = await freshTree(busyboxTree);
    const report = new RecordingReport();
    const scriptlets: Scriptlet[] = [
      sh(
        'pre',
        [
          'getent group ngircd >/dev/null || groupadd -r ngircd',
          'getent passwd ngircd >/dev/null || useradd -r -g ngircd -d /tmp/ -s /sbin/nologin -c "Next Generation IRC Daemon" ngircd',
          'useradd -u 1234 -G ngircd alice',
          'groupadd -f ngircd',
          'groupadd ngircd; echo "dup=$?"',
        ].join('\n'),
      ),
    ];
    const [out] = await runPackageScriptlets(tree, { ...pkg('ngircd'), scriptlets }, 'pre', { report });
    expect(out!.output).toContain('dup=9');
    expect(report.messages.some((m) => m.message.includes('fallback shims'))).toBe(true);
    const passwd = await readFile(join(tree, 'etc/passwd'), 'utf8');
    const group = await readFile(join(tree, 'etc/group'), 'utf8');
    expect(passwd).toBe(`${BASE_PASSWD}ngircd:x:999:999:Next Generation IRC Daemon:/tmp/:/sbin/nologin\nalice:x:1234:1234::/home/alice:/bin/sh\n`);
    expect(group).toBe(`${BASE_GROUP}ngircd:x:999:alice\nalice:x:1234:\n`);
    const own = await resolveOwnership(tree, { users: ['ngircd', 'alice'], groups: ['ngircd'] });
    expect([own.uid.get('ngircd'), own.uid.get('alice'), own.gid.get('ngircd')]).toEqual([999, 1234, 999]);
  });

  it('sets RPM_INSTALL_PREFIX for relocatable packages; a missing bwrap is a clear error', async () => {
    const tree = await freshTree();
    const out = await runScriptlet(tree, { ...pkg('reloc'), prefixes: ['/opt/reloc', '/srv/reloc'] }, sh('post', 'echo "$RPM_INSTALL_PREFIX $RPM_INSTALL_PREFIX0 $RPM_INSTALL_PREFIX1"'));
    expect(out.output).toBe('/opt/reloc /opt/reloc /srv/reloc\n');
    const savedPath = process.env.PATH;
    process.env.PATH = join(work, 'empty-path');
    try {
      const err = await expectScriptletError(runScriptlet(tree, pkg('x'), sh('post', 'true')));
      expect(err.message).toContain('bwrap');
      expect(err.hint).toContain('apt-get install bubblewrap');
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("a malformed /etc/passwd in the tree is an error naming the file and line", async () => {
    const tree = await freshTree();
    await writeFile(join(tree, 'etc/passwd'), `${BASE_PASSWD}broken-line-without-fields\n`);
    const err = await expectScriptletError(resolveOwnership(tree, { users: ['root'], groups: [] }));
    expect(err.message).toContain(`${tree}/etc/passwd line 3`);
  });

  it('never touches the host account files', () => {
    for (const f of hostFiles) expect(sha(f), f).toBe(hostBefore.get(f));
  });
});
