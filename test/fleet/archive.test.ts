/**
 * Archive-mode export and summary against Debian's ostree (2022.7) as the oracle: the same
 * commit checksum as the bare commit, `ostree fsck` clean, `ostree checkout` of the archive
 * gives the tree back, real ostree's `.filez` objects decode to the same content, and the
 * summary is byte-identical to `ostree summary -u`'s.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveRepo, Store, V, decodeFilez, decodeSummary, encodeSummary, exportCommit, filezChecksum, updateSummary, type Checksum } from '../../src/store/index.js';
import { makeSampleTree, snapshot } from '../store/helpers.js';
import { ostree, ostreeFsck, requireTool, tempDir } from '../support/tools.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup() {
  requireTool('ostree');
  const dir = tempDir('fleet', 'archive');
  dirs.push(dir);
  const tree = join(dir, 'tree');
  makeSampleTree(tree, { caps: true });
  const store = Store.init(join(dir, 'bare'), { mode: 'bare', fsync: false });
  return { dir, tree, store };
}

/** Every loose object of a repo, by `XX/rest.ext`. */
function objects(repo: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(repo, 'objects'))) for (const f of readdirSync(join(repo, 'objects', d))) out.push(`${d}/${f}`);
  return out.sort();
}

describe('archive export', () => {
  it('keeps the bare commit checksum; ostree fsck, checkout and summary agree', async () => {
    const { dir, tree, store } = setup();
    const commit = await store.commitTree(tree, { subject: 's', metadata: [['version', V.string('1.0')]], timestamp: 1700000000n });
    const archive = ArchiveRepo.init(join(dir, 'archive'), { fsync: false });
    const res = exportCommit(store, commit, archive, { ref: 'os/x86_64/base' });
    expect(res.commit).toBe(commit);
    expect(res.present).toBe(0);
    expect(readFileSync(join(dir, 'archive/config'), 'utf8')).toContain('mode=archive-z2');
    expect(ostree(join(dir, 'archive'), 'rev-parse', 'os/x86_64/base').trim()).toBe(commit);
    expect(ostreeFsck(join(dir, 'archive'))).toContain('Verifying content integrity of 1 commit objects');

    // Real ostree checks out the archive commit to the same tree.
    ostree(join(dir, 'archive'), 'checkout', commit, join(dir, 'co-archive'));
    expect(snapshot(join(dir, 'co-archive'))).toEqual(snapshot(tree));

    // Real ostree's own archive of the same commit: same object names; each .filez decodes alike.
    ostree(join(dir, 'real'), 'init', '--mode=archive');
    ostree(join(dir, 'real'), 'pull-local', store.path, commit);
    expect(objects(join(dir, 'archive')).filter((o) => !o.endsWith('.commitmeta'))).toEqual(objects(join(dir, 'real')));
    let identical = 0;
    const filez = objects(join(dir, 'real')).filter((o) => o.endsWith('.filez'));
    for (const o of filez) {
      const theirs = readFileSync(join(dir, 'real/objects', o));
      const ours = readFileSync(join(dir, 'archive/objects', o));
      const a = decodeFilez(theirs);
      const b = decodeFilez(ours);
      expect(b).toEqual(a);
      expect(filezChecksum(a.meta, a.content)).toBe(o.replace('/', '').replace('.filez', ''));
      if (theirs.equals(ours)) identical++;
    }
    console.log(`archive export: ${filez.length} .filez, ${identical} byte-identical to ostree's`);
    // Node's zlib and Debian's give the same deflate stream at level 6: the files are identical.
    expect(identical).toBe(filez.length);

    // A second export writes nothing.
    const again = exportCommit(store, commit, archive);
    expect(again.written).toBe(0);

    // The summary equals ostree summary -u's byte for byte (same last-modified).
    ostree(join(dir, 'real'), 'refs', '--create=os/x86_64/base', commit);
    ostree(join(dir, 'real'), 'summary', '-u');
    const real = readFileSync(join(dir, 'real/summary'));
    const parsed = decodeSummary(real);
    expect(parsed.refs).toEqual([{ ref: 'os/x86_64/base', commit, size: store.readMetadata('commit', commit).length, timestamp: 1700000000n, version: '1.0' }]);
    updateSummary(archive, { lastModified: parsed.lastModified ?? 0n });
    expect(readFileSync(join(dir, 'archive/summary')).equals(real)).toBe(true);
  });

  it('exports a second commit incrementally and refuses a corrupt source object', async () => {
    const { dir, tree, store } = setup();
    const c1 = await store.commitTree(tree, { subject: 'one' });
    const archive = ArchiveRepo.init(join(dir, 'archive'), { fsync: false });
    const r1 = exportCommit(store, c1, archive, { ref: 'r' });
    writeFileSync(join(tree, 'new-file'), 'new\n');
    const c2 = await store.commitTree(tree, { subject: 'two', parent: c1 });
    const r2 = exportCommit(store, c2, archive, { ref: 'r' });
    // new file + its root dirtree + the commit; the rest was there.
    expect(r2.written).toBe(3);
    expect(r2.written + r2.present).toBeLessThan(r1.written);
    updateSummary(archive);
    expect(decodeSummary(readFileSync(join(dir, 'archive/summary'))).refs.map((r) => r.commit)).toEqual([c2]);
    expect(ostreeFsck(join(dir, 'archive'))).toContain('2 commit objects');

    // A content object altered in the source store is refused, not copied.
    writeFileSync(join(tree, 'victim'), 'original\n');
    const c3 = await store.commitTree(tree, { subject: 'three', parent: c2 });
    const victim = store.stat(c3, 'victim')?.checksum as Checksum;
    writeFileSync(store.objectPath(victim, 'file'), 'tampered\n');
    expect(() => exportCommit(store, c3, archive, { ref: 'r' })).toThrow(/does not match its checksum/);
    expect(archive.readRef('r')).toBe(c2);
  });

  it('encodes summaries with several refs in byte order', () => {
    const c = 'a'.repeat(64) as Checksum;
    const bytes = encodeSummary([
      { ref: 'b', commit: c, size: 10, timestamp: 5n },
      { ref: 'a/z', commit: c, size: 182, timestamp: 6n, version: '2' },
    ], { mode: 'archive-z2', lastModified: 7n });
    const s = decodeSummary(bytes);
    expect(s.refs.map((r) => r.ref)).toEqual(['a/z', 'b']);
    expect(s.refs[0]).toEqual({ ref: 'a/z', commit: c, size: 182, timestamp: 6n, version: '2' });
    expect(s.lastModified).toBe(7n);
    // The commit size is little-endian (formats.md §7.22): 182 = b6 00 …
    expect(bytes.includes(Buffer.from('b600000000000000', 'hex'))).toBe(true);
  });
});
