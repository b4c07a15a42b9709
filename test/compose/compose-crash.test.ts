/**
 * Crash safety: a composition killed (SIGKILL) while a %post runs leaves its overlay mounted
 * and its scratch directory behind; the next composition with the same cache removes both, the
 * store passes `ostree fsck`, and the base commit is intact.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeTree, type ComposeResult } from '../../src/compose/index.js';
import { demoRepos, fixtureRepo, ostreeFsck, repoSetOf, request, requireTools, workspace, type Workspace } from './helpers.js';

let ws: Workspace;
let base: ComposeResult;
let repos: Record<string, string>;

const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(dir));

beforeAll(async () => {
  await requireTools([['rpm', 'rpm'], ['rpmbuild', 'rpm'], ['ostree', 'ostree'], ['bwrap', 'bubblewrap'], ['createrepo_c', 'createrepo-c']]);
  const demo = await demoRepos();
  ws = await workspace('layer-crash-');
  const fx = await fixtureRepo(join(ws.dir, 'fx'), [
    { name: 'post-sleeps', scripts: { post: 'echo started > /etc/post-sleeps.started\nsleep 60\n' }, files: [{ path: '/usr/share/post-sleeps/x', content: 'x\n' }] },
    { name: 'quick', files: [{ path: '/usr/share/quick/x', content: 'q\n' }] },
  ]);
  repos = { base: demo.base, fx };
  base = await composeTree(request(ws, repoSetOf({ base: demo.base }, join(ws.dir, 'md0')), { install: demo.packages.filter((p) => p.repo === 'base').map((p) => p.name) }));
}, 240_000);

afterAll(async () => ws?.cleanup());

describe('a composition killed during scriptlets', () => {
  it('leaves nothing the next composition does not clean up; fsck clean; base intact', async () => {
    const cacheDir = join(ws.dir, 'cache-crash');
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'support/compose-child.ts'),
      JSON.stringify({ store: ws.store.path, base: base.commit, install: ['post-sleeps'], repos, cacheDir })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    // Wait until the %post is running inside the overlay.
    const deadline = Date.now() + 60_000;
    const started = () => {
      const scratch = existsSync(cacheDir) ? readdirSync(cacheDir).find((n) => n.startsWith('compose-')) : undefined;
      return scratch !== undefined && existsSync(join(cacheDir, scratch, 'upper/etc/post-sleeps.started'));
    };
    for (;;) {
      if (started()) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the child never reached its %post: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;
    expect(mountsUnder(cacheDir).length).toBeGreaterThan(0);

    const r = await composeTree({ ...request(ws, repoSetOf(repos, join(cacheDir, 'md')), { base: { commit: base.commit! }, install: ['quick'] }), cacheDir });
    expect(r.commit).toMatch(/^[0-9a-f]{64}$/);
    expect(mountsUnder(cacheDir)).toEqual([]);
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('compose-'))).toEqual([]);
    expect(ws.store.stat(r.commit!, 'usr/etc/post-sleeps.started')).toBeUndefined();
    expect(ws.store.stat(base.commit!, 'usr/share/post-sleeps')).toBeUndefined();
    expect(await ostreeFsck(ws.store)).toMatch(/no errors found/);
    expect(ws.store.fsck().problems).toEqual([]);
  }, 120_000);
});
