/**
 * Step rpmdb: the new tree's database — the kept base packages' headers verbatim plus the
 * installed packages' headers with install tags — written as rpm 4.18 writes it. Not fsynced:
 * the commit copies it into the store, whose one syncfs (at the deploy) makes it durable.
 */
import { lstat, mkdir, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { installedEntry, packageEntry, RPMDB_DIR, writeRpmdb, type RpmdbEntry } from '../../rpmdb/index.js';
import { directDatabase } from './direct.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

export async function writeDatabase(s: ApplyState): Promise<void> {
  const entries: RpmdbEntry[] = [
    ...s.kept.map((p) => installedEntry(p)),
    ...s.installs.map((step) => packageEntry(need(s.rpms, step.nevra, 'opened package'))),
    ...(s.ctx.extraRpmdbEntries?.() ?? []),
  ];
  const installTid = sourceDateEpoch() ?? Math.floor(Date.now() / 1000);
  if (s.union) {
    s.rpmdbRows = directDatabase(s, s.union, entries, installTid);
    return;
  }
  const written = writeRpmdb(s.root, entries, { installTid, durable: false });
  s.rpmdbRows = written.rows;
  // A base keeping its database elsewhere (rpm-ostree's usr/share/rpm) keeps it there;
  // usr/lib/sysimage/rpm then points at it, so rpm's current default path finds it too.
  const sysimage = join(s.root, RPMDB_DIR);
  if (dirname(written.file) !== sysimage && !(await lstat(sysimage).catch(() => undefined))) {
    await mkdir(dirname(sysimage), { recursive: true, mode: 0o755 });
    await symlink(relative(dirname(sysimage), dirname(written.file)), sysimage);
  }
}

/** SOURCE_DATE_EPOCH, when set to a whole number (reproducible builds' convention). */
export function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
