/**
 * `layer export --oci` and `layer init/upgrade/rebase --from-oci` end to end, real tools as
 * oracles, 127.0.0.1 only: a base composed by `layer compose`, exported as an OCI image in
 * ostree-ext's chunked form (skopeo inspect reads it, the same commit gives the same digests, an
 * oci-archive too; the layers extracted by GNU tar hold a repo ostree fscks and checks out to the
 * same tree; umoci unpacks the rootfs),
 * pushed by `skopeo copy` to Debian's docker-registry started here, pulled back by `layer init
 * --from-oci registry:…` as the same OSTree commit (ostree fsck, ostree ls). A new compose that
 * adds one package changes two layers; `layer upgrade` fetches those (counted in the registry's
 * access log) and nothing when the manifest is unchanged; `layer compose --oci` writes that
 * image in the same run. A damaged blob deploys nothing.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, removeTempDirs, requireTool, tempDir, testFixtures, type Fixtures } from '../cli/helpers.js';
import { OSTREE_LAYER, readImage } from '../../src/oci/index.js';
import { ostree, ostreeFsck } from '../support/tools.js';
import { startRegistry, type Registry } from './registry.js';

const REF = 'demo/x86_64/base';
let f: Fixtures;
let registry: Registry | undefined;

beforeAll(async () => {
  for (const t of ['ostree', 'skopeo', 'umoci', 'docker-registry']) requireTool(t);
  ensureBuilt();
  f = await testFixtures();
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  removeTempDirs();
});

interface ExportJson {
  commit: string;
  manifestDigest: string;
  layers: Array<{ name: string; digest: string; diffId: string; size: number; entries: number }>;
}

const inspect = (ref: string) => JSON.parse(execFileSync('skopeo', ['inspect', ref], { encoding: 'utf8' })) as {
  Digest: string; Labels: Record<string, string>; Layers: string[];
};
const push = (dir: string, dest: string) =>
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:latest`, `docker://${dest}`], { stdio: 'pipe' });
/** The base commit of the default deployment. */
const baseOf = (sys: string): string => (layerJson(['status', '--sysroot', sys]) as { deployments: Array<Record<string, string>> }).deployments[0]?.['base-checksum'] ?? '';
const status = (sys: string) => JSON.stringify(layerJson(['status', '--sysroot', sys]));

describe('OCI images through a registry', () => {
  it('exports by package, round-trips through docker-registry to the same commit, upgrades by changed layers', async () => {
    const dir = tempDir('oci');
    const repo = join(dir, 'srv/repo');
    mkdirSync(join(dir, 'recipe'), { recursive: true });
    writeFileSync(join(dir, 'recipe/test.repo'), readFileSync(join(f.reposdir, 'test.repo')));
    const recipe = join(dir, 'recipe/base.json');
    writeFileSync(recipe, JSON.stringify({ packages: BASE_PACKAGES, repos: ['test.repo'] }));
    const work = join(dir, 'work');
    const c1 = layerJson<{ commit: string; packages: string[] }>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '1.0', '--workdir', work]);

    // Export: one layer per package with files, then the final layer; skopeo reads the labels.
    const oci1 = join(dir, 'oci1');
    let t = performance.now();
    const e1 = layerJson<ExportJson>(['export', '--oci', oci1, '--repo', repo, REF]);
    const exportMs = performance.now() - t;
    expect(e1.commit).toBe(c1.commit);
    const named = e1.layers.map((l) => l.name);
    expect(named[0]).toBe(OSTREE_LAYER);
    expect(named.slice(1)).toEqual([...named.slice(1)].sort());
    for (const p of ['bash', 'coreutils', 'filesystem']) expect(named).toContain(p);
    expect(e1.layers.length).toBeLessThanOrEqual(c1.packages.length + 1);
    const info = inspect(`oci:${oci1}:latest`);
    expect(info.Digest).toBe(e1.manifestDigest);
    expect(info.Labels).toMatchObject({ 'ostree.commit': c1.commit, version: '1.0', 'containers.bootc': '1', 'ostree.final-diffid': e1.layers.at(-1)?.diffId });
    expect(info.Layers).toEqual(e1.layers.map((l) => l.digest));
    // Each package chunk names its packages (ostree.components), as rpm-ostree's images do.
    const img1 = await readImage(oci1, 'latest');
    expect(img1.manifest.layers[0]?.annotations).toBeUndefined();
    expect(img1.manifest.layers.slice(1).map((l) => l.annotations?.['ostree.components'])).toEqual(named.slice(1));
    expect(img1.config.architecture).toBe('amd64');

    // The ostree oracle: the layers extracted in order hold a bare-split-xattrs repo that ostree
    // fscks and checks out to the tree ostree checks out of the compose repo.
    const x = join(dir, 'extracted');
    mkdirSync(x);
    for (const l of img1.manifest.layers) execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpzf', join(oci1, 'blobs/sha256', l.digest.slice(7)), '-C', x]);
    const xrepo = join(x, 'sysroot/ostree/repo');
    expect(ostreeFsck(xrepo)).toContain('1 commit objects');
    expect(ostree(xrepo, 'rev-parse', c1.commit).trim()).toBe(c1.commit);
    ostree(repo, 'checkout', c1.commit, join(dir, 'co'));
    ostree(xrepo, 'checkout', c1.commit, join(dir, 'co-x'));
    const list = (root: string) => execFileSync('sh', ['-c', `cd ${root} && find . -path ./sysroot/ostree/repo -prune -o -printf '%p %M %U %G %s %l\\n' | sort`], { encoding: 'utf8' });
    expect(list(join(dir, 'co-x'))).toBe(list(join(dir, 'co')));
    expect(execFileSync('diff', ['-r', '--no-dereference', join(dir, 'co-x'), join(dir, 'co')], { encoding: 'utf8' })).toBe('');
    // Reproducible, from the bare work store as from the archive; an oci-archive holds the same manifest.
    const again = layerJson<ExportJson>(['export', '--oci', `oci:${join(dir, 'oci1b')}`, '--repo', join(work, 'repo'), c1.commit]);
    expect(again.manifestDigest).toBe(e1.manifestDigest);
    const archive = join(dir, 'v1.oci.tar');
    layerJson(['export', '--oci', `oci-archive:${archive}`, '--repo', repo, REF]);
    expect(inspect(`oci-archive:${archive}`).Digest).toBe(e1.manifestDigest);

    // umoci's rootfs is the commit's tree (ostree checkout), plus the commit's objects under /sysroot/ostree/repo.
    // Containers see usr/etc as etc, and a /var/tmp when the tree has /var but not /var/tmp.
    execFileSync('umoci', ['unpack', '--image', `${oci1}:latest`, join(dir, 'bundle')], { stdio: 'pipe' });
    const rootfs = join(dir, 'bundle/rootfs');
    renameSync(join(rootfs, 'etc'), join(rootfs, 'usr/etc'));
    expect(existsSync(join(rootfs, 'var/tmp'))).toBe(existsSync(join(dir, 'co/var')));
    if (!existsSync(join(dir, 'co/var/tmp'))) rmSync(join(rootfs, 'var/tmp'), { recursive: true, force: true });
    const want = list(join(dir, 'co')).split('\n').filter((l) => !l.startsWith('. '));
    // Directories made only to hold the objects (this tree has no /sysroot) are extra too.
    const holders = ['./sysroot', './sysroot/ostree', './sysroot/ostree/repo'].filter((d) => !want.some((l) => l.startsWith(`${d} `)));
    expect(list(join(dir, 'bundle/rootfs')).split('\n').filter((l) => !l.startsWith('. ') && !holders.some((d) => l.startsWith(`${d} `)))).toEqual(want);
    expect(execFileSync('diff', ['-r', '--no-dereference', '-x', 'sysroot', join(dir, 'bundle/rootfs'), join(dir, 'co')], { encoding: 'utf8' })).toBe('');

    // Push with skopeo to the reference registry; layer pulls it back as the same commit and deploys it.
    registry = await startRegistry(join(dir, 'registry'));
    const image = `${registry.host}/demo/base:stable`;
    push(oci1, image);
    const sys = join(dir, 'sysroot');
    t = performance.now();
    layerJson(['init', '--sysroot', sys, '--osname', 'demo', '--from-oci', `registry:${image}`]);
    const initMs = performance.now() - t;
    expect(baseOf(sys)).toBe(c1.commit);
    const sysRepo = join(sys, 'ostree/repo');
    expect(ostreeFsck(sysRepo)).toContain('commit objects');
    expect(ostree(sysRepo, 'ls', '-R', '-X', c1.commit)).toBe(ostree(repo, 'ls', '-R', '-X', c1.commit));
    expect(readFileSync(execFileSync('sh', ['-c', `ls ${sys}/ostree/deploy/demo/deploy/*.origin`], { encoding: 'utf8' }).trim(), 'utf8')).toContain(`baserefspec=registry:${image}`);

    // A new compose with one more package: its layer and the final one change, the rest keep their digests.
    writeFileSync(recipe, JSON.stringify({ packages: [...BASE_PACKAGES, 'dep-a'], repos: ['test.repo'] }));
    // compose --oci writes the published commit as an image in the same run: the image export makes.
    const archive2 = join(dir, 'v2.oci.tar');
    const c2 = layerJson<{ commit: string; image: ExportJson & { destination: string } }>(
      ['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '2.0', '--workdir', work, '--oci', `oci-archive:${archive2}`]);
    const oci2 = join(dir, 'oci2');
    const e2 = layerJson<ExportJson>(['export', '--oci', oci2, '--repo', repo, REF]);
    expect(c2.image.commit).toBe(c2.commit);
    expect(c2.image.destination).toBe(`oci-archive:${archive2}`);
    expect(c2.image.manifestDigest).toBe(e2.manifestDigest);
    expect(inspect(`oci-archive:${archive2}`)).toMatchObject({ Digest: e2.manifestDigest, Labels: { 'ostree.commit': c2.commit, version: '2.0' } });
    const old = new Set(e1.layers.map((l) => l.digest));
    const changed = e2.layers.filter((l) => !old.has(l.digest));
    expect(changed.map((l) => l.name)).toEqual([OSTREE_LAYER, 'dep-a']);
    push(oci2, image);

    // upgrade: the new manifest, then only the changed layers (and the config) are fetched.
    const before = registry.blobGets().length;
    t = performance.now();
    const up = layer(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    const upgradeMs = performance.now() - t;
    expect(up.code, up.stderr).toBe(0);
    expect(baseOf(sys)).toBe(c2.commit);
    const fetched = registry.blobGets().slice(before);
    expect(fetched.filter((d) => e2.layers.some((l) => l.digest === d)).sort()).toEqual(changed.map((l) => l.digest).sort());
    expect(fetched.length).toBe(changed.length + 1);
    expect(ostree(sysRepo, 'ls', '-R', '-X', c2.commit)).toBe(ostree(repo, 'ls', '-R', '-X', c2.commit));
    // Nothing new: the manifest digest alone decides, no blob is fetched.
    const n = registry.blobGets().length;
    const none = layer(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    expect(none.stdout).toContain('No upgrade available.');
    expect(registry.blobGets().length).toBe(n);
    const bytes = (ls: ExportJson['layers']) => ls.reduce((a, l) => a + l.size, 0);
    console.log(`export ${Math.round(exportMs)} ms: ${e1.layers.length} layers, ${bytes(e1.layers)} bytes; init from the registry ${Math.round(initMs)} ms; ` +
      `update: ${changed.length} of ${e2.layers.length} layers changed (${bytes(changed)} of ${bytes(e2.layers)} bytes), upgrade ${Math.round(upgradeMs)} ms, ` +
      `${fetched.length} blobs fetched; unchanged upgrade: 0 blobs`);

    // rebase to an oci-archive (v1): the v1 commit again, the layered requests carried.
    layerJson(['rebase', '--sysroot', sys, '--reposdir', f.reposdir, `oci-archive:${archive}`]);
    expect(baseOf(sys)).toBe(c1.commit);
    expect(ostreeFsck(sysRepo)).toContain('commit objects');
  }, 600_000);

  it('refuses an image whose layer blob does not match its digest, deploying nothing', () => {
    const dir = tempDir('oci-bad');
    const good = join(dir, 'good');
    const src = join(dir, 'repo');
    ostree(src, 'init', '--mode=archive');
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'usr/etc'), { recursive: true });
    writeFileSync(join(tree, 'usr/hello'), 'hello\n');
    ostree(src, 'commit', '-b', 'base', '--tree=dir=' + tree, '--owner-uid=0', '--owner-gid=0');
    const e = layerJson<ExportJson>(['export', '--oci', good, '--repo', src, 'base']);
    expect(e.layers).toHaveLength(1);
    const bad = join(dir, 'bad');
    cpSync(good, bad, { recursive: true });
    const blob = join(bad, 'blobs/sha256', (e.layers[0]?.digest ?? '').slice(7));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
    writeFileSync(blob, bytes);
    const sys = join(dir, 'sysroot');
    const r = layer(['init', '--sysroot', sys, '--osname', 'demo', '--from-oci', `oci:${bad}:latest`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: blob sha256:[0-9a-f]{64} in .* does not match its digest .*\[LAYER_OCI\]$/m);
    expect(r.stderr).not.toContain('    at ');
    expect(existsSync(join(sys, 'ostree/deploy/demo/deploy')) && execFileSync('ls', [join(sys, 'ostree/deploy/demo/deploy')], { encoding: 'utf8' }).trim()).toBeFalsy();
    expect(ostree(join(sys, 'ostree/repo'), 'refs').trim()).toBe('');
    // The intact image deploys, with the commit ostree made.
    layerJson(['init', '--sysroot', join(dir, 'ok'), '--osname', 'demo', '--from-oci', `oci:${good}:latest`]);
    expect(status(join(dir, 'ok'))).toContain(e.commit);
  }, 120_000);
});
