/**
 * `layer compose` end to end with real oracles: a base composed from a recipe into an archive
 * repo, `ostree fsck` clean on it, served by Debian's nginx on 127.0.0.1, pulled by Debian's
 * `ostree pull` (2022.7) into a bare-user repo: same commit checksum, fsck clean, the same
 * tree checked out. A second compose (a new version) is incremental and pulls as an update.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ostreeRemoteSource, pullFromRemote } from '../../src/engine/sources/index.js';
import { silentReport } from '../../src/report.js';
import { Store, decodeSummary, type Checksum } from '../../src/store/index.js';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, removeTempDirs, requireTool, tempDir, testFixtures, type Fixtures } from '../cli/helpers.js';
import { snapshot } from '../store/helpers.js';
import { ostree, ostreeFsck } from '../support/tools.js';
import { startNginx, type Nginx } from './nginx.js';

const REF = 'demo/x86_64/base';
let f: Fixtures;
let nginx: Nginx | undefined;

beforeAll(async () => {
  requireTool('ostree');
  ensureBuilt();
  f = await testFixtures();
}, 600_000);

afterAll(async () => {
  await nginx?.stop();
  removeTempDirs();
});

interface ComposeJson {
  outcome: string;
  commit: string;
  parent?: string;
  version: string;
  packages: string[];
  exported?: { written: number; present: number; bytes: number };
  timings: Record<string, number>;
}

describe('layer compose → nginx → ostree pull', () => {
  it('composes into an archive repo that Debian ostree pulls over HTTP with the same checksums', async () => {
    const dir = tempDir('fleet');
    const repo = join(dir, 'srv/repo');
    mkdirSync(join(dir, 'recipe'), { recursive: true });
    writeFileSync(join(dir, 'recipe/repos.d.repo'), readFileSync(join(f.reposdir, 'test.repo')));
    const recipe = join(dir, 'recipe/base.json');
    writeFileSync(recipe, JSON.stringify({ packages: BASE_PACKAGES, repos: ['repos.d.repo'] }, null, 2));

    let t = performance.now();
    const work = join(dir, 'work');
    const c1 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '1.0', '--workdir', work]);
    const composeMs = performance.now() - t;
    expect(c1.outcome).toBe('composed');
    expect(c1.version).toBe('1.0');
    expect(c1.packages.some((p) => p.startsWith('bash-'))).toBe(true);
    expect(readFileSync(join(repo, 'config'), 'utf8')).toContain('mode=archive-z2');
    expect(readFileSync(join(repo, 'refs/heads', REF), 'utf8')).toBe(`${c1.commit}\n`);
    // The archive commit IS the commit of the bare work store (checksums do not depend on the mode).
    expect(readFileSync(join(work, 'repo/config'), 'utf8')).toMatch(/mode=bare/);
    expect(ostree(join(work, 'repo'), 'show', '--print-metadata-key=version', c1.commit).trim()).toBe("'1.0'");
    // Real ostree on layer's archive repo: fsck clean, the version in the commit and the summary.
    expect(ostreeFsck(repo)).toContain('1 commit objects');
    expect(ostree(repo, 'show', '--print-metadata-key=version', REF).trim()).toBe("'1.0'");
    expect(ostree(repo, 'summary', '--view')).toContain(REF);
    expect(decodeSummary(readFileSync(join(repo, 'summary'))).refs).toMatchObject([{ ref: REF, commit: c1.commit, version: '1.0' }]);

    // The archive holds exactly the objects of the commit: ostree's own count agrees.
    const objs = execFileSync('find', [join(repo, 'objects'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n');
    expect(objs.length).toBe(c1.exported?.written);

    nginx = await startNginx(repo, join(dir, 'nginx'));
    const client = join(dir, 'client');
    ostree(client, 'init', '--mode=bare-user');
    ostree(client, 'remote', 'add', '--no-gpg-verify', 'r', nginx.url);
    t = performance.now();
    ostree(client, 'pull', 'r', REF);
    const pullMs = performance.now() - t;
    expect(ostree(client, 'rev-parse', `r:${REF}`).trim()).toBe(c1.commit);
    expect(ostreeFsck(client)).toContain('1 commit objects');
    const served = nginx.requests();
    expect(served.filter((r) => r.status >= 500)).toEqual([]);
    expect(served.some((r) => r.path === '/repo/summary' && r.status === 200)).toBe(true);
    const filez = served.filter((r) => r.path.endsWith('.filez') && r.status === 200).length;
    expect(filez).toBe(objs.filter((o) => o.endsWith('.filez')).length);

    // layer's own HTTP pull of the same base from the same server, in the same run.
    const mine = Store.init(join(dir, 'layer-client'), { mode: 'bare-user', fsync: false });
    const source = ostreeRemoteSource({ name: 'r', url: nginx.url }, REF);
    t = performance.now();
    expect(await source.fetch({ store: mine, report: silentReport })).toBe(c1.commit);
    const layerPullMs = performance.now() - t;
    mine.setRef(REF, c1.commit as Checksum);
    expect(ostreeFsck(mine.path)).toContain('1 commit objects');
    expect(ostree(mine.path, 'ls', '-R', '-C', '-X', c1.commit)).toBe(ostree(client, 'ls', '-R', '-C', '-X', c1.commit));

    // `layer init --from-remote`: the base pulled over HTTP, deployed, the remote recorded as OSTree does.
    const sys = join(dir, 'sysroot');
    layerJson(['init', '--sysroot', sys, '--osname', 'demo', '--from-remote', nginx.url, '--ref', REF]);
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toContain(c1.commit);
    expect(ostree(join(sys, 'ostree/repo'), 'remote', 'list', '-u')).toMatch(new RegExp(`^demo\\s+${nginx.url}$`, 'm'));
    expect(ostree(join(sys, 'ostree/repo'), 'config', 'get', '--group=remote "demo"', 'gpg-verify').trim()).toBe('false');
    const origin = execFileSync('sh', ['-c', `cat ${join(sys, 'ostree/deploy/demo/deploy')}/*.origin`], { encoding: 'utf8' });
    expect(origin).toContain(`baserefspec=demo:${REF}`);
    expect(ostreeFsck(join(sys, 'ostree/repo'))).toContain('commit objects');

    // Checkouts from the archive (as root: owners kept) and from the pulled repo (-U) are the same tree.
    ostree(repo, 'checkout', c1.commit, join(dir, 'co-archive'));
    ostree(client, 'checkout', '-U', c1.commit, join(dir, 'co-pulled'));
    expect(snapshot(join(dir, 'co-pulled'), { noOwner: true, noXattrs: true })).toEqual(snapshot(join(dir, 'co-archive'), { noOwner: true, noXattrs: true }));
    expect(ostree(client, 'ls', '-R', '-C', c1.commit)).toBe(ostree(repo, 'ls', '-R', '-C', c1.commit));

    // Same recipe, no new version: nothing to do, the ref stays.
    const same = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe]);
    expect(same).toMatchObject({ outcome: 'unchanged', commit: c1.commit, version: '1.0' });

    // A new version with one more package: parent = the previous commit, only new objects written.
    writeFileSync(recipe, JSON.stringify({ packages: [...BASE_PACKAGES, 'dep-a'], repos: ['repos.d.repo'] }));
    const c2 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '2.0']);
    expect(c2).toMatchObject({ outcome: 'composed', parent: c1.commit, version: '2.0' });
    expect(c2.exported?.written ?? 0).toBeLessThan(objs.length / 2);
    expect(ostreeFsck(repo)).toContain('2 commit objects');
    const before = nginx.requests().length;
    ostree(client, 'pull', 'r', REF);
    expect(ostree(client, 'rev-parse', `r:${REF}`).trim()).toBe(c2.commit);
    expect(ostreeFsck(client)).toContain('2 commit objects');
    const update = nginx.requests().slice(before);
    const updateObjects = update.filter((r) => r.path.includes('/objects/') && r.status === 200);
    expect(updateObjects.length).toBeLessThanOrEqual((c2.exported?.written ?? 0) + 1);
    expect(ostree(client, 'cat', c2.commit, '/usr/share/dep-a/README')).toBe('dep-a\n');
    // `layer upgrade` of the sysroot pulls the new commit over HTTP and deploys it.
    layerJson(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toContain(c2.commit);
    // `deploy CHECKSUM` of a remote base pulls that commit (here already present) and pins it; version=V is refused clearly.
    layerJson(['deploy', '--sysroot', sys, c1.commit, '--reposdir', f.reposdir]);
    const origins = execFileSync('sh', ['-c', `cat ${join(sys, 'ostree/deploy/demo/deploy')}/*.origin`], { encoding: 'utf8' });
    expect(origins).toContain(`override-commit=${c1.commit}`);
    const byVersion = layer(['deploy', '--sysroot', sys, 'version=2.0', '--reposdir', f.reposdir]);
    expect(byVersion.code).toBe(2);
    expect(byVersion.stderr).toContain('give a commit checksum');
    const noRef = layer(['init', '--sysroot', join(dir, 'other'), '--osname', 'x', '--from-remote', nginx.url]);
    expect(noRef.code).toBe(2);
    const update2 = await pullFromRemote(mine, nginx.url, REF, { report: silentReport });
    expect(update2.commit).toBe(c2.commit);
    expect(update2.fetched).toBeLessThanOrEqual((c2.exported?.written ?? 0));
    mine.setRef(REF, c2.commit as Checksum);
    expect(ostreeFsck(mine.path)).toContain('2 commit objects');
    console.log(`compose ${Math.round(composeMs)} ms (${c1.packages.length} packages, ${c1.exported?.written} objects, ` +
      `${c1.exported?.bytes} bytes; export ${c1.timings.export} ms); ostree pull over nginx ${Math.round(pullMs)} ms, ` +
      `${served.length} requests; layer's pull ${Math.round(layerPullMs)} ms (${(layerPullMs / pullMs).toFixed(2)}x); ` +
      `update: ${c2.exported?.written} objects written, ${updateObjects.length} pulled by ostree, ${update2.fetched} by layer`);
  }, 600_000);

  it('refuses a recipe with an unknown key, naming it (LAYER_RECIPE), and writes nothing', () => {
    const dir = tempDir('fleet-bad');
    const recipe = join(dir, 'bad.json');
    writeFileSync(recipe, JSON.stringify({ pakages: ['bash'], repos: 'repos.d' }));
    const r = layer(['compose', '--repo', join(dir, 'repo'), '--ref', REF, '--recipe', recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown key "pakages"');
    expect(r.stderr).toContain('LAYER_RECIPE');
    expect(existsSync(join(dir, 'repo'))).toBe(false);
    const usage = layer(['compose', '--repo', join(dir, 'repo')]);
    expect(usage.code).toBe(2);
  });
});
