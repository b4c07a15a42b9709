/**
 * downloadOnly, then cacheOnly: a composition prepared online finishes with the repos' server
 * gone, from cached metadata and packages alone; without the cache it fails naming what is
 * missing. Repos are served over HTTP on 127.0.0.1.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTree, type ComposeResult } from '../../src/compose/index.js';
import { LayerError } from '../../src/errors.js';
import { parseRepoFile, RepoSet } from '../../src/repos/index.js';
import { FaultServer } from '../support/http-server.js';
import { demoRepos, fixedSourceDateEpoch, ostreeFsck, repoSetOf, request, requireTools, workspace, type Workspace } from './helpers.js';

let ws: Workspace;
let base: ComposeResult;
let server: FaultServer;

const httpRepos = (md: string) =>
  new RepoSet(parseRepoFile(`[updates]\nbaseurl=${server.url}/\ngpgcheck=0\nretries=0\n`, 'http.repo', {}), { cacheDir: join(ws.dir, md), backoffMs: 5 });

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['ostree', 'ostree'], ['bwrap', 'bubblewrap']]);
  const demo = await demoRepos();
  ws = await workspace('layer-offline-');
  const names = demo.packages.filter((p) => p.repo === 'base').map((p) => p.name);
  base = await composeTree(request(ws, repoSetOf({ base: demo.base }, join(ws.dir, 'md0')), { install: names }));
  server = await new FaultServer(demo.updates).start();
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await ws?.cleanup();
});

describe('downloadOnly then cacheOnly', () => {
  // Install times from SOURCE_DATE_EPOCH: two composes of one tree compare equal across seconds.
  fixedSourceDateEpoch();
  it('downloadOnly fetches, verifies and imports the packages but commits no tree; cacheOnly then composes with the server gone', async () => {
    const commitsBefore = [...ws.store.listRefs().keys()].length;
    const repos = httpRepos('md');
    const dl = await composeTree(request(ws, repos, { base: { commit: base.commit! }, install: ['openssl'], options: { downloadOnly: true } }));
    await repos.close();
    expect(dl.commit).toBeUndefined();
    expect(dl.timings.download).toBeGreaterThan(0);
    expect(dl.timings.import).toBeGreaterThanOrEqual(0);
    expect(dl.timings.checkout).toBeUndefined();
    expect(server.count('.rpm')).toBe(2);
    // The two package commits (layer/pkg/...) and nothing else: no tree was composed.
    const refs = [...ws.store.listRefs().keys()];
    expect(refs.length).toBe(commitsBefore + 2);
    expect(refs.filter((r) => r.startsWith('layer/pkg/')).some((r) => r.startsWith('layer/pkg/openssl/'))).toBe(true);

    await server.stop();
    const offline = httpRepos('md');
    const r = await composeTree(request(ws, offline, { base: { commit: base.commit! }, install: ['openssl'], options: { cacheOnly: true } }));
    await offline.close();
    expect(r.commit).toMatch(/^[0-9a-f]{64}$/);
    expect(r.layered.map((n) => n.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['libssl3', 'openssl']);
    expect(r.inputDigest).toBe(dl.inputDigest);
    // The packages were imported by the download-only run: this one only checks them out.
    expect(r.timings.import).toBeLessThan(dl.timings.import! + 1000);
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
    // Imported from the files the metadata names, they need no file at all any more: with an
    // empty package cache (and the server still gone) the same tree is composed from the store.
    const again = await composeTree({
      ...request(ws, httpRepos('md'), { base: { commit: base.commit! }, install: ['openssl'], options: { cacheOnly: true } }),
      cacheDir: join(ws.dir, 'empty-cache'),
    });
    expect(ws.store.readCommit(again.commit ?? "").rootTree).toBe(ws.store.readCommit(r.commit ?? "").rootTree);
  });

  it('cacheOnly without cached packages fails with LAYER_REPO_OFFLINE naming the package', async () => {
    // Same metadata cache, empty package cache, and the store's imports of them gone too.
    for (const ref of ws.store.listRefs('layer/pkg/').keys()) if (/^layer\/pkg\/(openssl|libssl3)\//.test(ref)) ws.store.setRef(ref, null);
    const repos = httpRepos('md');
    const err = await composeTree({ ...request(ws, repos, { base: { commit: base.commit! }, install: ['openssl'], options: { cacheOnly: true } }), cacheDir: join(ws.dir, 'other-cache') }).catch((e: unknown) => e);
    await repos.close();
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_REPO_OFFLINE');
    expect((err as LayerError).message).toMatch(/package (openssl|libssl3)-/);
  });

  it('composing without a base cannot remove packages (LAYER_USAGE)', async () => {
    const err = await composeTree(request(ws, httpRepos('md'), { remove: ['bash'] })).catch((e: unknown) => e);
    expect((err as LayerError).code).toBe('LAYER_USAGE');
  });
});
