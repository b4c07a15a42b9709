/** Shared helpers for store tests: tool checks, sample trees, tree snapshots. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync,
  readlinkSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import * as xattr from 'fs-xattr';
import { ostree, requireShared, requireTool, tempDir as sharedTempDir } from '../support/tools.js';
export { ostree, requireShared, requireTool };

/** Fail (never skip) when a native tool is missing, naming the install command. */


export function tempDir(tag: string): string {
  return sharedTempDir('store', tag);
}

const made: string[] = [];

/** A temp dir that `removeWorkDirs` (a test file's afterAll) removes. */
export function work(tag: string): string {
  const d = tempDir(tag);
  made.push(d);
  return d;
}

export function removeWorkDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}


/** Capability blob for cap_net_raw=ep (VFS_CAP_REVISION_2). */
export const CAP_NET_RAW = Buffer.from('0000000201200000000000000000000000000000', 'hex');

/**
 * A tree exercising what trips implementations up: nested dirs, an empty dir, symlinks,
 * executable, setuid and non-root files, a 300 kB file, names whose byte order differs from
 * UTF-16 order, user xattrs and (when `caps`) a security.capability xattr.
 */
export function makeSampleTree(dir: string, opts: { caps?: boolean } = {}): void {
  mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  symlinkSync('hello.txt', join(dir, 'link'));
  symlinkSync('../hello.txt', join(dir, 'sub/uplink'));
  writeFileSync(join(dir, 'sub/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  chmodSync(join(dir, 'sub/run.sh'), 0o755);
  writeFileSync(join(dir, 'sub/deeper/big.bin'), Buffer.alloc(300_000, 'z'));
  writeFileSync(join(dir, 'setuid'), 'suid\n');
  chmodSync(join(dir, 'setuid'), 0o4755);
  writeFileSync(join(dir, 'owned'), 'owned by 1000\n');
  chownSync(join(dir, 'owned'), 1000, 1001);
  // U+FFFD sorts after U+10000 in UTF-8 bytes but before it in UTF-16 code units.
  writeFileSync(join(dir, '\u{fffd}'), 'bmp\n');
  writeFileSync(join(dir, '\u{10000}'), 'astral\n');
  writeFileSync(join(dir, 'a-b'), '1');
  writeFileSync(join(dir, 'a.b'), '2');
  writeFileSync(join(dir, 'Z'), '3');
  writeFileSync(join(dir, 'xattrs'), 'x');
  xattr.setAttributeSync(join(dir, 'xattrs'), 'user.zeta', Buffer.from('Z'));
  xattr.setAttributeSync(join(dir, 'xattrs'), 'user.alpha', Buffer.from('hello'));
  if (opts.caps) {
    writeFileSync(join(dir, 'ping'), 'ELF?');
    chmodSync(join(dir, 'ping'), 0o755);
    xattr.setAttributeSync(join(dir, 'ping'), 'security.capability', CAP_NET_RAW);
  }
  chmodSync(join(dir, 'sub'), 0o750);
  chmodSync(dir, 0o755);
}

export interface SnapEntry {
  path: string;
  mode: string;
  uid: number;
  gid: number;
  data: string;
  xattrs: string;
}

/** Everything a checkout must reproduce (not mtimes); `noOwner` for non-root comparisons. */
export function snapshot(dir: string, opts: { noOwner?: boolean; noXattrs?: boolean } = {}): SnapEntry[] {
  const out: SnapEntry[] = [];
  const visit = (rel: string): void => {
    const abs = rel ? join(dir, rel) : dir;
    const st = lstatSync(abs);
    let data = '';
    let xattrs = '';
    if (st.isSymbolicLink()) data = `-> ${readlinkSync(abs)}`;
    else if (st.isFile()) data = createHash('sha256').update(readFileSync(abs)).digest('hex');
    if (!st.isSymbolicLink() && !opts.noXattrs) {
      xattrs = xattr.listAttributesSync(abs).filter((n) => n !== 'user.ostreemeta').sort()
        .map((n) => `${n}=${xattr.getAttributeSync(abs, n).toString('hex')}`).join(',');
    }
    out.push({ path: `/${rel}`, mode: st.mode.toString(8), uid: opts.noOwner ? 0 : st.uid, gid: opts.noOwner ? 0 : st.gid, data, xattrs });
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) visit(rel ? `${rel}/${name}` : name);
  };
  visit('');
  return out;
}

/** Build a noarch fixture RPM with rpmbuild; `install` is the %install script, `files` the %files list. */
export function buildRpm(work: string, name: string, install: string, files: string): string {
  const top = join(work, `rpmbuild-${name}`);
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  writeFileSync(join(top, 'SPECS', `${name}.spec`), `%global debug_package %{nil}
%global __os_install_post %{nil}
Name: ${name}
Version: 1.0
Release: 1
Summary: store import fixture
License: MIT
BuildArch: noarch
%description
fixture
%install
${install}
%files
${files}
`);
  execFileSync('rpmbuild', ['-bb', '--nodeps', '--quiet', '--define', `_topdir ${top}`, join(top, 'SPECS', `${name}.spec`)], { stdio: 'pipe' });
  return join(top, 'RPMS', 'noarch', `${name}-1.0-1.noarch.rpm`);
}
