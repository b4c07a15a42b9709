/**
 * Solver pool snapshots through the CLI: with a large repo enabled (CentOS Stream 9 AppStream,
 * 17,649 packages, from ../shared), the second command on warm metadata saves the prepared pool
 * under the sysroot's cache and later commands put it back instead of loading the repos. Every
 * answer must equal the one built the slow way; a damaged snapshot only costs the slow way.
 */
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataset } from '../solver/support/datasets.js';
import { ensureBuilt, initSysroot, layer, layerJson, ostreeFsck, removeTempDirs, repoFile, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let sysroot: string;
let reposdir: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  sysroot = initSysroot(f, 'snapshot');
  reposdir = tempDir('snapshot-repos');
  writeFileSync(join(reposdir, 'big.repo'), repoFile({ base: f.base, extra: f.extra, appstream: dataset('cs9-appstream-2025').dir }));
}, 300_000);

afterAll(() => removeTempDirs());

const snapDir = (): string => join(sysroot, 'ostree/layer/cache/solver');
const snapshots = (): string[] => {
  try {
    return readdirSync(snapDir()).filter((n) => n.endsWith('.snap'));
  } catch {
    return [];
  }
};

function dryRun(events?: string, specs = ['many-deps', 'dep-a']): { transaction: unknown; digest: unknown } {
  const r = layerJson(['install', '-n', '--json', '--sysroot', sysroot, '--reposdir', reposdir, ...(events ? ['--events', events] : []), ...specs]);
  return { transaction: r.transaction, digest: r['input-digest'] };
}

function snapshotEvents(file: string): unknown[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string }).filter((e) => e.code === 'solve.pool-snapshot');
}

describe('solver pool snapshots', () => {
  it('are saved on warm metadata, put back later, and answer as the slow way', () => {
    const slow = dryRun(); // reads AppStream's XML: nothing worth keying yet
    expect(snapshots()).toEqual([]);
    const ev1 = join(tempDir('snap-ev'), 'e.jsonl');
    expect(dryRun(ev1)).toEqual(slow); // from the .solv caches: this pool is saved
    expect(snapshotEvents(ev1)).toEqual([]);
    expect(snapshots()).toHaveLength(1);
    const ev2 = join(tempDir('snap-ev'), 'e.jsonl');
    expect(dryRun(ev2)).toEqual(slow);
    expect(snapshotEvents(ev2)).toHaveLength(1);
    expect((slow.transaction as { name: string }[]).map((s) => s.name).sort()).toEqual(expect.arrayContaining(['many-deps', 'dep-a', 'many-dep01']));
  });

  it('serve a real install, which deploys what the dry run showed', () => {
    const preview = dryRun();
    const r = layer(['install', '-y', '--json', '--sysroot', sysroot, '--reposdir', reposdir, 'many-deps', 'dep-a']);
    expect(r.code, r.stderr).toBe(0);
    const st = layerJson(['status', '--sysroot', sysroot]);
    expect(st.deployments[0]['requested-packages']).toEqual(['many-deps', 'dep-a']);
    expect(JSON.parse(r.stdout).transaction).toEqual(preview.transaction);
    expect(ostreeFsck(sysroot)).toMatch(/no errors found|fsck/i);
  });

  it('a damaged snapshot is dropped and the command still right', () => {
    const before = dryRun(undefined, ['ships-etc']);
    expect((before.transaction as { name: string }[]).map((s) => s.name)).toEqual(['ships-etc']);
    for (const n of snapshots()) truncateSync(join(snapDir(), n), 100_000);
    const ev = join(tempDir('snap-ev'), 'e.jsonl');
    expect(dryRun(ev, ['ships-etc'])).toEqual(before);
    expect(snapshotEvents(ev)).toEqual([]);
    const again = join(tempDir('snap-ev'), 'e.jsonl');
    expect(dryRun(again, ['ships-etc'])).toEqual(before);
    expect(snapshotEvents(again)).toHaveLength(1);
  });
});
