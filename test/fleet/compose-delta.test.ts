/**
 * `layer compose --deltas` end to end: v1 composed and deployed on a directory sysroot by
 * `layer init --from-remote` (nginx on 127.0.0.1); v2 composed with --deltas writes the
 * delta v1 → v2 that Debian's `ostree static-delta list` and `show` read. With part 0
 * corrupted, `layer upgrade` fails with one line (LAYER_REPO_CHECKSUM) and the sysroot keeps
 * only v1; with the part restored, the upgrade fetches the delta (no object) and deploys v2.
 * `--events` carries the progress of both pulls (`pull.progress`, `pull.delta`, `pull.delta.part`).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltaDir } from '../../src/store/delta/index.js';
import type { Checksum } from '../../src/store/index.js';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, removeTempDirs, requireTool, tempDir, testFixtures, type Fixtures } from '../cli/helpers.js';
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

/** The data of the events of `code` in an `--events` file. */
function eventsOf(file: string, code: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string; data?: Record<string, unknown> })
    .filter((e) => e.code === code).map((e) => e.data ?? {});
}

interface ComposeJson {
  outcome: string;
  commit: Checksum;
  parent?: Checksum;
  delta?: { from?: string; to: string; parts: number; objects: number; bytes: number; path: string };
}

describe('layer compose --deltas → layer upgrade', () => {
  it('writes a delta ostree reads; a corrupt part deploys nothing; the delta upgrades the host', async () => {
    const dir = tempDir('fleet-delta');
    const repo = join(dir, 'srv/repo');
    mkdirSync(join(dir, 'recipe'), { recursive: true });
    writeFileSync(join(dir, 'recipe/test.repo'), readFileSync(join(f.reposdir, 'test.repo')));
    const recipe = join(dir, 'recipe/base.json');
    writeFileSync(recipe, JSON.stringify({ packages: BASE_PACKAGES, repos: ['test.repo'] }));
    const work = join(dir, 'work');
    // No previous commit: --deltas has nothing to diff against.
    const c1 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '1', '--workdir', work, '--deltas']);
    expect(c1.delta).toBeUndefined();
    nginx = await startNginx(repo, join(dir, 'nginx'));
    const sys = join(dir, 'sysroot');
    const initEvents = join(dir, 'init.events');
    layerJson(['init', '--sysroot', sys, '--osname', 'demo', '--from-remote', nginx.url, '--ref', REF, '--events', initEvents]);
    // The full pull's progress: objects and bytes as nginx served them.
    const pulled = eventsOf(initEvents, 'pull.progress');
    expect(pulled.at(-1)).toMatchObject({ done: true, present: 0 });
    const objects = nginx.requests().filter((q) => q.path.includes('/objects/') && q.status === 200);
    expect(pulled.at(-1)).toMatchObject({ fetched: objects.length, bytes: objects.reduce((n, q) => n + q.bytes, 0) });

    writeFileSync(recipe, JSON.stringify({ packages: [...BASE_PACKAGES, 'dep-a'], repos: ['test.repo'] }));
    const c2 = layerJson<ComposeJson>(['compose', '--repo', repo, '--ref', REF, '--recipe', recipe, '--version', '2', '--workdir', work, '--deltas']);
    expect(c2).toMatchObject({ outcome: 'composed', parent: c1.commit, delta: { from: c1.commit, to: c2.commit, path: deltaDir(c1.commit, c2.commit) } });
    expect(ostree(repo, 'static-delta', 'list').split('\n')).toContain(`${c1.commit}-${c2.commit}`);
    expect(ostree(repo, 'static-delta', 'show', `${c1.commit}-${c2.commit}`)).toContain(`Number of parts: ${c2.delta?.parts}`);
    expect(ostreeFsck(repo)).toContain('2 commit objects');

    const part = join(repo, deltaDir(c1.commit, c2.commit), '0');
    copyFileSync(part, `${part}.good`);
    const bytes = readFileSync(part);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0x55;
    writeFileSync(part, bytes);
    const bad = layer(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(bad.stderr).toMatch(/delta part 0 .*does not match its checksum.*\[LAYER_REPO_CHECKSUM\]/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const status = JSON.stringify(layerJson(['status', '--sysroot', sys]));
    expect(status).toContain(c1.commit);
    expect(status).not.toContain(c2.commit);

    copyFileSync(`${part}.good`, part);
    const before = nginx.requests().length;
    const upEvents = join(dir, 'upgrade.events');
    layerJson(['upgrade', '--sysroot', sys, '--reposdir', f.reposdir, '--events', upEvents]);
    // The delta's progress in --events: the delta, then each part.
    expect(eventsOf(upEvents, 'pull.delta')).toEqual([expect.objectContaining({ from: c1.commit, to: c2.commit, parts: c2.delta?.parts })]);
    expect(eventsOf(upEvents, 'pull.delta.part').map((e) => e.part)).toEqual([...Array(c2.delta?.parts ?? 0).keys()]);
    expect(JSON.stringify(layerJson(['status', '--sysroot', sys]))).toContain(c2.commit);
    const served = nginx.requests().slice(before);
    expect(served.some((q) => q.path.endsWith(`${deltaDir(c1.commit, c2.commit)}/0`) && q.status === 200)).toBe(true);
    expect(served.filter((q) => q.path.includes('/objects/'))).toEqual([]);
    expect(ostreeFsck(join(sys, 'ostree/repo'))).toContain('commit objects');
    console.log(`compose --deltas: ${c2.delta?.objects} objects in ${c2.delta?.parts} part(s), ${c2.delta?.bytes} bytes; ` +
      `the upgrade fetched ${served.reduce((n, q) => n + q.bytes, 0)} bytes in ${served.length} requests`);
  }, 600_000);
});
