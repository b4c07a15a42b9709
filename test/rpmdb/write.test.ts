/**
 * writeRpmdb against the real thing: the same packages installed by `rpm -i --justdb` give the
 * reference database; ours must match it (schema, index rows, header blobs) and real rpm must
 * answer every query on ours as it does on the package files.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRpm, type RpmPackage } from '../../src/rpm/index.js';
import { INDEX_TABLES, openRpmdb, writeRpmdb, type RpmdbEntry } from '../../src/rpmdb/index.js';
import { fixtureRpms } from './fixtures.js';
import { indexDump, requireTool, rpmIn, rpmQueryPackage, schemaOf, sortedLines, tempDir } from './helpers.js';

const TABLES = INDEX_TABLES.map((t) => t.name);
const DB = 'usr/lib/sysimage/rpm/rpmdb.sqlite';

let files: string[];
let pkgs: RpmPackage[];
let refTree: string;
let tree: string;
let tid: number;
const dirs: string[] = [];

const asEntries = (list: RpmPackage[]): RpmdbEntry[] => list.map((p) => ({ kind: 'package', header: p.header, signatureHeader: p.signatureHeader }));

beforeAll(async () => {
  requireTool('rpm');
  files = await fixtureRpms();
  pkgs = await Promise.all(files.map((f) => openRpm(f)));
  refTree = tempDir('ref');
  tree = tempDir('ours');
  dirs.push(refTree, tree);
  rpmIn(refTree, ['-i', '--justdb', '--nodeps', '--nosignature', '--noscripts', '--notriggers', ...files]);
  const ref = openRpmdb(refTree);
  tid = ref.packages()[0]!.header.number(1128)!;
  ref.close();
  writeRpmdb(tree, asEntries(pkgs), { installTid: tid });
}, 120_000);

afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('writeRpmdb compared with rpm --justdb', () => {
  it('creates the same tables and indexes, in DELETE journal mode with no side files', () => {
    expect(schemaOf(path.join(tree, DB))).toEqual(schemaOf(path.join(refTree, DB)));
    expect(schemaOf(path.join(tree, DB))).toHaveLength(1 + 1 + 18 + 16 + 13); // Packages, sqlite_sequence, 18 index tables, 16 key + 13 hnum indexes
    const db = new Database(path.join(tree, DB), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
    expect(fs.readdirSync(path.join(tree, 'usr/lib/sysimage/rpm'))).toEqual(['rpmdb.sqlite']);
    expect(fs.readlinkSync(path.join(tree, 'usr/share/rpm'))).toBe('../lib/sysimage/rpm');
  });

  it('writes exactly the index rows rpm writes', () => {
    const ours = indexDump(path.join(tree, DB), TABLES);
    expect(ours.length).toBeGreaterThan(900);
    expect(ours).toEqual(indexDump(path.join(refTree, DB), TABLES));
  });

  it('stores byte-identical headers apart from the install time', () => {
    const ref = openRpmdb(refTree);
    const ours = openRpmdb(tree);
    try {
      const byName = new Map(ref.packages().map((p) => [p.name, p]));
      expect(ours.packages()).toHaveLength(files.length);
      for (const p of ours.packages()) {
        const r = byName.get(p.name)!;
        const expected = Buffer.from(r.header.blob);
        const at = 8 + r.header.index.length * 16 + r.header.entry(1008)!.offset;
        expected.writeUInt32BE(tid, at); // rpm stamps INSTALLTIME per package; we use installTid
        expect(Buffer.from(p.header.blob).equals(expected), p.name).toBe(true);
      }
    } finally {
      ref.close();
      ours.close();
    }
  });
});

describe('real rpm on a database written by layer', () => {
  it('-qa lists exactly the packages', () => {
    const want = sortedLines(pkgs.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}`).join('\n'));
    const got = rpmIn(tree, ['-qa']);
    expect(got.stderr).toBe('');
    expect(sortedLines(got.stdout)).toEqual(want);
  });

  it('-ql, -qi and -q --requires/--provides match rpm -qp on the package files', () => {
    for (const [i, p] of pkgs.entries()) {
      const file = files[i]!;
      const name = p.name;
      expect(rpmIn(tree, ['-ql', name]).stdout, name).toBe(rpmQueryPackage(file, ['-l']));
      expect(rpmIn(tree, ['-q', '--requires', name]).stdout, name).toBe(rpmQueryPackage(file, ['--requires']));
      expect(rpmIn(tree, ['-q', '--provides', name]).stdout, name).toBe(rpmQueryPackage(file, ['--provides']));
      const info = (s: string): string => s.split('\n').filter((l) => !l.startsWith('Install Date')).join('\n');
      expect(info(rpmIn(tree, ['-qi', name]).stdout), name).toBe(info(rpmQueryPackage(file, ['-i'])));
    }
  });

  it('-qf finds the owners of every packaged path', () => {
    const owners = new Map<string, string[]>();
    for (const [i, p] of pkgs.entries()) {
      for (const f of sortedLines(rpmQueryPackage(files[i]!, ['-l'])).filter((l) => l.startsWith('/'))) owners.set(f, [...(owners.get(f) ?? []), p.name]);
    }
    const paths = [...owners.keys()].sort();
    const got = rpmIn(tree, ['-qf', '--qf', '%{NAME}\\n', ...paths]).stdout;
    expect(sortedLines(got)).toEqual(sortedLines(paths.flatMap((f) => owners.get(f)!).join('\n')));
  });

  it('--whatprovides finds every provided capability, --whatrequires a plain and a rich-dependency name', () => {
    for (const [i, p] of pkgs.entries()) {
      for (const line of sortedLines(rpmQueryPackage(files[i]!, ['--provides']))) {
        const cap = line.split(' ')[0]!;
        expect(rpmIn(tree, ['-q', '--whatprovides', cap, '--qf', '%{NAME}\\n']).stdout.split('\n'), cap).toContain(p.name);
      }
    }
    expect(rpmIn(tree, ['-q', '--whatrequires', 'plain-dep', '--qf', '%{NAME}\\n']).stdout).toBe('rich-deps-and-triggers\n');
    expect(rpmIn(tree, ['-q', '--whatrequires', 'y-lib', '--qf', '%{NAME}\\n']).stdout).toBe('rich-deps-and-triggers\n');
  });

  it('--rebuilddb succeeds and rebuilds the very same index rows from our headers', () => {
    const copy = tempDir('rebuild');
    dirs.push(copy);
    fs.cpSync(tree, copy, { recursive: true, verbatimSymlinks: true });
    const r = rpmIn(copy, ['--rebuilddb']);
    expect(r.stderr).toBe('');
    expect(sortedLines(rpmIn(copy, ['-qa']).stdout)).toEqual(sortedLines(rpmIn(tree, ['-qa']).stdout));
    expect(indexDump(path.join(copy, DB), TABLES)).toEqual(indexDump(path.join(tree, DB), TABLES));
  });

  it('is readable by an unprivileged user in a read-only directory', () => {
    requireTool('setpriv');
    const copy = tempDir('readonly');
    dirs.push(copy);
    fs.cpSync(tree, copy, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(copy, 0o755);
    fs.chmodSync(path.join(copy, DB), 0o444);
    for (const d of ['usr/lib/sysimage/rpm', 'usr/lib/sysimage', 'usr/lib', 'usr']) fs.chmodSync(path.join(copy, d), 0o555);
    const r = rpmInAs(copy, ['-qa']);
    expect(r.stderr).toBe('');
    expect(sortedLines(r.stdout)).toHaveLength(files.length);
    expect(fs.readdirSync(path.join(copy, 'usr/lib/sysimage/rpm'))).toEqual(['rpmdb.sqlite']);
    for (const d of ['usr/lib/sysimage/rpm', 'usr/lib/sysimage', 'usr/lib', 'usr']) fs.chmodSync(path.join(copy, d), 0o755);
  });
});

function rpmInAs(root: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'rpm', '--root', root, '--dbpath', '/usr/lib/sysimage/rpm', ...args], { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr.trim() };
}
