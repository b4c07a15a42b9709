/**
 * Day-2 sysroot verbs (issue 16): pins stored as OSTree stores them, retention from the
 * sysroot's config, `cleanup` of pending/rollback deployments keeping pinned ones.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { parseOrigin, readConfig, setConfig, Sysroot } from '../../src/sysroot/index.js';
import { isPinned, withPinned } from '../../src/sysroot/pin.js';
import type { Checksum } from '../../src/store/index.js';
import { commitTree, origin, requireTool, tempDir as makeTempDir } from './helpers.js';

const made: string[] = [];
function tempDir(tag: string): string {
  const d = makeTempDir(tag);
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A sysroot with `n` deployments made one after another, each booted before the next. */
async function history(n: number, opts: { retention?: number } = {}): Promise<{ s: Sysroot; commits: Checksum[] }> {
  const s = Sysroot.init(join(tempDir('day2'), 'sysroot'));
  s.lock('test');
  if (opts.retention !== undefined) setConfig(s.stateDir, 'retention', String(opts.retention));
  const commits: Checksum[] = [];
  for (let i = 1; i <= n; i++) {
    const c = await commitTree(s, { 'usr/bin/tool': `v${i}`, [`usr/share/data${i}`]: 'x'.repeat(100 * i) });
    await s.deploy('testos', c, origin(commits[0] ?? c, i === 1 ? [] : [`p${i}`]));
    if (i < n) s.markBooted();
    commits.push(c);
  }
  return { s, commits };
}

const csums = (s: Sysroot): Checksum[] => s.deployments().map((d) => d.checksum);

describe('pins', () => {
  it('are written as ostree writes them ([libostree-transient] pinned=true) and change nothing else in the origin', async () => {
    const { s, commits } = await history(2);
    const d = s.deployments()[1]!;
    const file = `${d.path}.origin`;
    const before = readFileSync(file, 'utf8');
    expect(d.pinned).toBe(false);
    s.setPinned(d, true);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/\n\[libostree-transient\]\npinned=true\n$/);
    expect(parseOrigin(text, file)).toEqual(parseOrigin(before, file));
    expect(s.deployments()[1]!.pinned).toBe(true);
    expect(s.deployments()[0]!.pinned).toBe(false);
    // A new deployment's origin is written fresh: the pin stays with the deployment it was set on.
    const c = await commitTree(s, { 'usr/bin/tool': 'v3' });
    await s.deploy('testos', c, origin(commits[0]!, ['p3']));
    expect(s.deployments().filter((x) => x.pinned).map((x) => x.checksum)).toEqual([commits[0]]);
    s.setPinned(s.deployments().find((x) => x.pinned)!, false);
    expect(readFileSync(file, 'utf8')).toBe(before);
    s.release();
  });

  it('agree with the real ostree: `ostree admin status` shows layer\'s pin, layer reads `ostree admin pin`\'s', async () => {
    requireTool('ostree');
    const s = Sysroot.init(join(tempDir('ostree-pin'), 'sysroot'));
    s.lock('test');
    // ostree reads only entries that boot a kernel (ostree=/ostree/boot.N/...): give the trees one.
    const kernel = { 'usr/lib/modules/6.1.0-test/vmlinuz': 'kernel\n', 'usr/lib/modules/6.1.0-test/initramfs.img': 'initramfs\n' };
    const a = await commitTree(s, { 'usr/bin/tool': 'v1', ...kernel });
    await s.deploy('testos', a, origin(a));
    const b = await commitTree(s, { 'usr/bin/tool': 'v2', ...kernel });
    await s.deploy('testos', b, origin(a, ['x']));
    s.setPinned(s.deployments()[1]!, true);
    s.release();
    const status = (): string[] => {
      const out = execFileSync('ostree', ['admin', 'status', `--sysroot=${s.path}`], { encoding: 'utf8' });
      return out.split(/\n(?= {2}\S)/).map((block) => `${/testos ([0-9a-f]{64}\.\d+)/.exec(block)?.[1]}${block.includes('Pinned: yes') ? ' pinned' : ''}`);
    };
    const ids = s.deployments().map((d) => d.id);
    expect(status()).toEqual([ids[0], `${ids[1]} pinned`]);
    execFileSync('ostree', ['admin', 'pin', `--sysroot=${s.path}`, '0']);
    execFileSync('ostree', ['admin', 'pin', '--unpin', `--sysroot=${s.path}`, '1']);
    expect(s.deployments().map((d) => d.pinned)).toEqual([true, false]);
    expect(status()).toEqual([`${ids[0]} pinned`, ids[1]]);
    // ostree leaves an empty [libostree-transient] group behind; layer's unpin and parser cope.
    s.lock('test');
    s.setPinned(s.deployments()[0]!, false);
    s.release();
    expect(status()).toEqual(ids);
  });

  it('read GKeyFile booleans and keep other transient keys when unpinning', () => {
    expect(isPinned('[origin]\nrefspec=a\n[libostree-transient]\npinned=1\n')).toBe(true);
    expect(isPinned('[origin]\nrefspec=a\n[libostree-transient]\npinned=false\n')).toBe(false);
    expect(isPinned('[origin]\npinned=true\n')).toBe(false);
    const other = '[origin]\nrefspec=a\n\n[libostree-transient]\nfoo=bar\npinned=true\n\n[x]\ny=z\n';
    expect(withPinned(other, false)).toBe('[origin]\nrefspec=a\n\n[x]\ny=z\n\n[libostree-transient]\nfoo=bar\n');
    expect(withPinned(withPinned(other, false), true)).toBe('[origin]\nrefspec=a\n\n[x]\ny=z\n\n[libostree-transient]\nfoo=bar\npinned=true\n');
  });
});

describe('retention', () => {
  it('defaults to one rollback; a pinned deployment is kept in addition and does not count', async () => {
    requireTool('ostree');
    const { s, commits } = await history(3);
    // booted c2, pending c3, rollback c1
    expect(csums(s)).toEqual([commits[2], commits[1], commits[0]]);
    s.markBooted();
    s.setPinned(s.deployments()[2]!, true); // c1
    const c4 = await commitTree(s, { 'usr/bin/tool': 'v4' });
    await s.deploy('testos', c4, origin(commits[0]!, ['p4']));
    // pending c4, booted c3, rollback c2 (the retention of one) and the pinned c1.
    expect(csums(s)).toEqual([c4, commits[2], commits[1], commits[0]]);
    s.markBooted();
    const c5 = await commitTree(s, { 'usr/bin/tool': 'v5' });
    await s.deploy('testos', c5, origin(commits[0]!, ['p5']));
    expect(csums(s)).toEqual([c5, c4, commits[2], commits[0]]);
    expect(s.store.hasObject(commits[1]!, 'commit')).toBe(false);
    expect(s.store.hasObject(commits[0]!, 'commit')).toBe(true);
    execFileSync('ostree', [`--repo=${join(s.path, 'ostree/repo')}`, 'fsck'], { stdio: 'pipe' });
    s.release();
  });

  it('keeps N rollbacks with retention N, and none with 0; the pending one is replaced', async () => {
    const three = await history(5, { retention: 3 });
    // pending c5, booted c4, rollbacks c3 c2 c1
    expect(csums(three.s)).toEqual([...three.commits].reverse());
    three.s.release();
    const none = await history(3, { retention: 0 });
    expect(csums(none.s)).toEqual([none.commits[2], none.commits[1]]);
    // A new deployment over a pending one replaces it.
    const c = await commitTree(none.s, { 'usr/bin/tool': 'again' });
    await none.s.deploy('testos', c, origin(none.commits[0]!, ['q']));
    expect(csums(none.s)).toEqual([c, none.commits[1]]);
    none.s.release();
  });

  it('config: defaults, validation, and a malformed file named', () => {
    const s = Sysroot.init(join(tempDir('config'), 'sysroot'));
    expect(readConfig(s.stateDir)).toEqual({ retention: 1 });
    expect(setConfig(s.stateDir, 'retention', '4')).toEqual({ retention: 4 });
    expect(JSON.parse(readFileSync(join(s.stateDir, 'config.json'), 'utf8'))).toEqual({ retention: 4 });
    for (const bad of ['-1', 'two', '1.5', '']) {
      expect(() => setConfig(s.stateDir, 'retention', bad)).toThrow(/retention must be a whole number/);
    }
    expect(() => setConfig(s.stateDir, 'colour', 'blue')).toThrow(/unknown setting 'colour'/);
    writeFileSync(join(s.stateDir, 'config.json'), '{"retention": 2');
    const err = (() => {
      try {
        readConfig(s.stateDir);
      } catch (e) {
        return e as LayerError;
      }
    })();
    expect(err?.code).toBe('LAYER_SYSROOT');
    expect(err?.message).toContain(join(s.stateDir, 'config.json'));
  });
});

describe('cleanup -p / -r', () => {
  it('drops the pending or the rollback deployments, never the booted or a pinned one', async () => {
    const { s, commits } = await history(4, { retention: 2 });
    // pending c4, booted c3, rollbacks c2 c1
    expect(csums(s)).toEqual([commits[3], commits[2], commits[1], commits[0]]);
    s.setPinned(s.deployments()[3]!, true); // c1
    const r = s.cleanup({ rollback: true });
    expect(r.removedDeployments).toEqual([`testos/${commits[1]}.0`]);
    expect(csums(s)).toEqual([commits[3], commits[2], commits[0]]);
    expect(existsSync(join(s.deployDir('testos'), `${commits[1]}.0`))).toBe(false);
    const p = s.cleanup({ pending: true });
    expect(p.removedDeployments).toEqual([`testos/${commits[3]}.0`]);
    expect(csums(s)).toEqual([commits[2], commits[0]]);
    expect(s.status().pending).toBeUndefined();
    expect(s.status().booted?.checksum).toBe(commits[2]);
    // Nothing left to drop: a no-op, and the pinned one is still there.
    expect(s.cleanup({ pending: true, rollback: true }).removedDeployments).toEqual([]);
    expect(csums(s)).toEqual([commits[2], commits[0]]);
    s.release();
  });
});
