/**
 * OCI export/import of a commit, library level, with real oracles: a tree with setuid, non-root
 * owners, symlinks, an empty directory and an empty file, xattrs (user.* and
 * security.capability), long names, /usr/etc, /var and two paths with the same content is
 * committed with layer's Store and exported as an OCI layout in ostree-ext's chunked form.
 * - skopeo reads labels and layers; umoci's unpacked rootfs equals `ostree checkout` (with
 *   usr/etc as etc, as containers see it);
 * - the layers extracted in order by GNU tar (as root, xattrs kept) hold a bare-split-xattrs
 *   repository that Debian's ostree fsck's, shows the same commit for, and checks out to the
 *   same tree as layer's own repo (modes, owners, xattrs, bytes): ostree itself reads the
 *   objects as ostree-ext writes them;
 * - layer 0 starts as ostree-ext's does (root, repo structure and config, .commit, .commitmeta,
 *   .dirmeta; ostree reads the detached metadata back) and
 *   every .file entry is right after its .file-xattrs-link;
 * - imported back into a fresh store, the byte-identical commit (same checksum, fsck clean).
 * A flipped byte in a layer blob is refused before anything is built; a file changed with
 * every digest recomputed is refused because the object no longer matches its checksum.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { exportOci, importImage, MEDIA, openCommitReader, readImage } from '../../src/oci/index.js';
import { silentReport } from '../../src/report.js';
import { encodeDetached } from '../../src/store/commitmeta.js';
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
  writeFileSync(join(tree, 'usr/etc/os-release'), 'NAME=sample\n');
  mkdirSync(join(tree, 'var/lib'), { recursive: true });
  writeFileSync(join(tree, 'empty-file'), '');
  writeFileSync(join(tree, 'sub/same-as-hello'), 'hello\n');
  const long = `${'d'.repeat(90)}/${'n'.repeat(120)}`;
  mkdirSync(join(tree, long, '..'), { recursive: true });
  writeFileSync(join(tree, long), 'a name over ustar\'s 100 bytes\n');
  repo = Store.init(join(work, 'repo'), { mode: 'bare', fsync: false });
  commit = await repo.commitTree(tree, { ref: 'sample', metadata: [['version', V.string('7.1')]], timestamp: 1_700_000_000n });
  // Detached metadata (where signatures go): the image carries it after the commit.
  writeFileSync(join(repo.path, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commitmeta`), encodeDetached([['layer.test', V.string('detached')]]));
});

afterAll(() => {
  if (process.env.LAYER_KEEP_TEST_DIRS !== '1') rmSync(work, { recursive: true, force: true });
});

const skopeoInspect = (ref: string) => JSON.parse(execFileSync('skopeo', ['inspect', ref], { encoding: 'utf8' })) as {
  Digest: string; Labels: Record<string, string>; Layers: string[];
};

/** Entry names of a gzip layer blob, in order (GNU tar's listing). */
const tarList = (blob: string) => execFileSync('tar', ['-tzf', blob], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean);

describe('layer OCI export and import', () => {
  it('exports a commit skopeo, umoci and GNU tar + ostree read, reproducibly, and imports it back to the same commit', async () => {
    const dir = join(work, 'oci');
    const r = await exportOci(openCommitReader(repo.path), 'sample', { dir, tag: 'v7' });
    expect(r.commit).toBe(commit);
    // No rpmdb in this tree: everything is in layer 0; its diff_id is the final one.
    expect(r.layers).toHaveLength(1);
    const info = skopeoInspect(`oci:${dir}:v7`);
    expect(info.Digest).toBe(r.manifestDigest);
    expect(info.Labels).toEqual({
      'containers.bootc': '1', 'ostree.commit': commit, 'ostree.final-diffid': r.layers[0]?.diffId, version: '7.1', 'org.opencontainers.image.version': '7.1',
    });
    expect(info.Layers).toEqual(r.layers.map((l) => l.digest));
    const image = await readImage(dir, 'v7');
    expect(image.manifest.annotations).toEqual(info.Labels);
    expect(image.config.architecture).toBe(({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch);

    // Same commit, same bytes: a second export gives the same digests.
    const again = await exportOci(openCommitReader(repo.path), commit, { dir: join(work, 'oci2'), tag: 'v7' });
    expect(again.manifestDigest).toBe(r.manifestDigest);

    // Layer 0 in ostree-ext's order; every content object right after its xattrs link.
    const blob = join(dir, 'blobs/sha256', (r.layers[0]?.digest ?? '').slice(7));
    const names = tarList(blob);
    const root = 'sysroot/ostree/repo';
    expect(names.slice(0, 5)).toEqual(['./', 'sysroot/', 'sysroot/ostree/', `${root}/`, `${root}/objects/`]);
    expect(names.slice(261, 271)).toEqual([...['extensions', 'refs', 'refs/heads', 'refs/mirrors', 'refs/remotes', 'state', 'tmp', 'tmp/cache'].map((d) => `${root}/${d}/`), `${root}/config`,
      `${root}/objects/${commit.slice(0, 2)}/${commit.slice(2)}.commit`]);
    expect(names[271]).toBe(`${root}/objects/${commit.slice(0, 2)}/${commit.slice(2)}.commitmeta`);
    expect(names[272]).toMatch(/\.dirmeta$/);
    const files = names.filter((n) => n.endsWith('.file'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(names[names.indexOf(f) - 1]).toBe(f.replace(/\.file$/, '.file-xattrs-link'));
    expect(names).toContain('etc/os-release');
    expect(names.some((n) => n.startsWith('usr/etc'))).toBe(false);
    expect(execFileSync('tar', ['-xzOf', blob, `${root}/config`], { encoding: 'utf8' })).toBe('[core]\nrepo_version=1\nmode=bare-split-xattrs\n');

    // The ostree oracle: the layers extracted in order hold a repo ostree reads as the same commit.
    const x = join(work, 'extracted');
    mkdirSync(x);
    for (const l of image.manifest.layers) {
      execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpzf', join(dir, 'blobs/sha256', l.digest.slice(7)), '-C', x]);
    }
    const xrepo = join(x, root);
    expect(ostreeFsck(xrepo)).toContain('1 commit objects');
    expect(ostree(xrepo, 'show', '--print-metadata-key=version', commit).trim()).toBe("'7.1'");
    expect(ostree(xrepo, 'rev-parse', commit).trim()).toBe(commit);
    expect(ostree(xrepo, 'show', '--print-detached-metadata-key=layer.test', commit).trim()).toBe("'detached'");
    const co = join(work, 'checkout');
    ostree(repo.path, 'checkout', commit, co);
    ostree(xrepo, 'checkout', commit, join(work, 'checkout-x'));
    expect(snapshot(join(work, 'checkout-x'))).toEqual(snapshot(co));

    // umoci's rootfs = ostree's checkout (etc back under usr, the synthesized /var/tmp and the repo aside).
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${dir}:v7`, bundle], { stdio: 'pipe' });
    const rootfs = join(bundle, 'rootfs');
    expect(lstatSync(join(rootfs, 'var/tmp')).mode.toString(8)).toBe('41777');
    rmSync(join(rootfs, 'var/tmp'), { recursive: true });
    rmSync(join(rootfs, 'sysroot'), { recursive: true });
    renameSync(join(rootfs, 'etc'), join(rootfs, 'usr/etc'));
    const rootless = (s: ReturnType<typeof snapshot>) => s.filter((e) => e.path !== '/');
    expect(rootless(snapshot(rootfs))).toEqual(rootless(snapshot(co)));

    // Back into a fresh store: the same commit checksum, a clean fsck, the same listing.
    const client = Store.init(join(work, 'client'), { mode: 'bare', fsync: false });
    const imported = await importImage(client, image, silentReport);
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
    const labels = { ...image.config.config?.Labels, 'ostree.final-diffid': diffId };
    const config = blob(Buffer.from(JSON.stringify({ ...image.config, config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [diffId] } })));
    const forged = { ...image.manifest, config: { ...image.manifest.config, ...config }, layers: [{ ...layer, ...gz }] };
    const manifest = blob(Buffer.from(JSON.stringify(forged)));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA.manifest, ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
    expect(skopeoInspect(`oci:${dir}:latest`).Digest).toBe(manifest.digest);
    const client = Store.init(join(work, 'client-forged'), { mode: 'bare', fsync: false });
    const err = await importImage(client, await readImage(dir, 'latest'), silentReport).catch((e: unknown) => e);
    expect((err as LayerError).code).toBe('LAYER_OCI');
    expect((err as LayerError).message).toMatch(/^layer 1 \(sha256:[0-9a-f]{12}\): content object [0-9a-f]{64} does not match its checksum \(its entry hashes to [0-9a-f]{64}\)$/);
    expect(client.hasObject(r.commit, 'commit')).toBe(false);
  });
});
