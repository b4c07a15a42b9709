/**
 * OCI export/import of a commit, library level, with real oracles: a tree with setuid, non-root
 * owners, symlinks, an empty directory, xattrs (user.* and security.capability) and long names
 * is committed with layer's Store, exported as an OCI layout, read by skopeo and umoci (the
 * unpacked rootfs equals `ostree checkout` of the commit), and imported back into a fresh store
 * as the byte-identical commit (same checksum, `ostree fsck` clean). A flipped byte in a layer
 * blob is refused before anything is built; a file changed with every digest recomputed is
 * refused because the commit no longer matches.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { exportOci, importImage, MEDIA, openCommitReader, readImage } from '../../src/oci/index.js';
import { silentReport } from '../../src/report.js';
import { Store, V } from '../../src/store/index.js';
import { makeSampleTree, snapshot } from '../store/helpers.js';
import { ostree, ostreeFsck, requireTool, tempDir } from '../support/tools.js';

let work: string;
let repo: Store;
let commit: string;

beforeAll(async () => {
  for (const t of ['ostree', 'skopeo', 'umoci']) requireTool(t);
  work = tempDir('oci', 'image');
  const tree = join(work, 'tree');
  makeSampleTree(tree, { caps: true });
  mkdirSync(join(tree, 'usr/etc'), { recursive: true });
  const long = `${'d'.repeat(90)}/${'n'.repeat(120)}`;
  mkdirSync(join(tree, long, '..'), { recursive: true });
  writeFileSync(join(tree, long), 'a name over ustar\'s 100 bytes\n');
  repo = Store.init(join(work, 'repo'), { mode: 'bare', fsync: false });
  commit = await repo.commitTree(tree, { ref: 'sample', metadata: [['version', V.string('7.1')]], timestamp: 1_700_000_000n });
});

afterAll(() => {
  if (process.env.LAYER_KEEP_TEST_DIRS !== '1') rmSync(work, { recursive: true, force: true });
});

const skopeoInspect = (ref: string) => JSON.parse(execFileSync('skopeo', ['inspect', ref], { encoding: 'utf8' })) as {
  Digest: string; Labels: Record<string, string>; Layers: string[];
};

describe('layer OCI export and import', () => {
  it('exports a commit skopeo and umoci read, reproducibly, and imports it back to the same commit', async () => {
    const dir = join(work, 'oci');
    const r = await exportOci(openCommitReader(repo.path), 'sample', { dir, tag: 'v7' });
    expect(r.commit).toBe(commit);
    // No rpmdb in this tree: everything is in the final layer.
    expect(r.layers).toHaveLength(1);

    const info = skopeoInspect(`oci:${dir}:v7`);
    expect(info.Digest).toBe(r.manifestDigest);
    expect(info.Labels).toEqual({ 'containers.bootc': '1', 'ostree.commit': commit, 'ostree.final-diffid': r.layers[0]?.diffId, version: '7.1' });
    expect(info.Layers).toEqual(r.layers.map((l) => l.digest));

    // Same commit, same bytes: a second export gives the same digests.
    const again = await exportOci(openCommitReader(repo.path), commit, { dir: join(work, 'oci2'), tag: 'v7' });
    expect(again.manifestDigest).toBe(r.manifestDigest);

    // umoci's rootfs = ostree's checkout, plus the commit's objects under /sysroot/ostree/repo.
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${dir}:v7`, bundle], { stdio: 'pipe' });
    const stat = JSON.parse(execFileSync('umoci', ['stat', '--image', `${dir}:v7`, '--json'], { encoding: 'utf8' })) as { history: unknown[] };
    expect(stat.history).toHaveLength(1);
    const co = join(work, 'checkout');
    ostree(repo.path, 'checkout', commit, co);
    const objects = readdirSync(join(bundle, 'rootfs/sysroot/ostree/repo/objects'), { recursive: true }).filter((n) => String(n).includes('.'));
    expect(objects.length).toBeGreaterThan(3);
    rmSync(join(bundle, 'rootfs/sysroot'), { recursive: true });
    const rootless = (s: ReturnType<typeof snapshot>) => s.filter((e) => e.path !== '/');
    expect(rootless(snapshot(join(bundle, 'rootfs')))).toEqual(rootless(snapshot(co)));

    // Back into a fresh store: the same commit checksum, a clean fsck, the same listing.
    const client = Store.init(join(work, 'client'), { mode: 'bare', fsync: false });
    const imported = await importImage(client, await readImage(dir, 'v7'), silentReport);
    expect(imported.commit).toBe(commit);
    client.setRef('sample', imported.commit);
    expect(ostreeFsck(client.path)).toContain('1 commit objects');
    expect(ostree(client.path, 'ls', '-R', '-X', commit)).toBe(ostree(repo.path, 'ls', '-R', '-X', commit));
  });

  it('refuses a layer blob whose bytes do not match its digest, building nothing', async () => {
    const good = join(work, 'oci-good');
    const r = await exportOci(openCommitReader(repo.path), 'sample', { dir: good });
    const bad = join(work, 'oci-bad');
    cpSync(good, bad, { recursive: true });
    const blob = join(bad, 'blobs/sha256', (r.layers[0]?.digest ?? '').slice(7));
    const bytes = readFileSync(blob);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(blob, bytes);
    const client = Store.init(join(work, 'client-bad'), { mode: 'bare', fsync: false });
    const err = await importImage(client, await readImage(bad, 'latest'), silentReport).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_OCI');
    expect((err as LayerError).message).toContain('does not match its digest');
    expect(client.hasObject(commit as never, 'commit')).toBe(false);
    expect(readdirSync(join(client.path, 'objects'))).toEqual([]);
  });

  it('refuses a file changed after export even when every digest was recomputed (the commit does not match)', async () => {
    const dir = join(work, 'oci-forged');
    const r = await exportOci(openCommitReader(repo.path), 'sample', { dir });
    const image = await readImage(dir, 'latest');
    const layer = image.manifest.layers[0];
    if (!layer) throw new Error('no layer');
    const tar = gunzipSync(readFileSync(join(dir, 'blobs/sha256', layer.digest.slice(7))));
    let at = -1;
    for (let i = 0; i < tar.length && at < 0; i += 512) if (tar.subarray(i, i + 6).toString() === 'hello\n') at = i;
    expect(at).toBeGreaterThan(0);
    tar.write('HELLO\n', at);
    // A forger re-hashes everything: layer blob, diff_id, config, manifest, index.
    const blob = (bytes: Buffer) => {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
      return { digest, size: bytes.length };
    };
    const gz = blob(gzipSync(tar));
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    const config = blob(Buffer.from(JSON.stringify({ ...image.config, rootfs: { type: 'layers', diff_ids: [diffId] } })));
    const forged = { ...image.manifest, config: { ...image.manifest.config, ...config }, layers: [{ ...layer, ...gz }] };
    const manifest = blob(Buffer.from(JSON.stringify(forged)));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA.manifest, ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
    expect(skopeoInspect(`oci:${dir}:latest`).Digest).toBe(manifest.digest);
    const client = Store.init(join(work, 'client-forged'), { mode: 'bare', fsync: false });
    const err = await importImage(client, await readImage(dir, 'latest'), silentReport).catch((e: unknown) => e);
    expect((err as LayerError).code).toBe('LAYER_OCI');
    expect((err as LayerError).message).toMatch(/^no layer entry gives \/hello.txt as the commit records it/);
    expect(client.hasObject(r.commit, 'commit')).toBe(false);
  });
});
