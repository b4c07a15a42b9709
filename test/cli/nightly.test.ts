/**
 * Nightly upgrade testing (issue 13) end to end: examples/nightly-upgrade.sh, as a team would
 * copy it, on fixture repos in versions (test/support/nightly-fixtures.ts). The fleet's image
 * is composed with `layer compose` into an archive OSTree repo; the script creates the test
 * sysroot from it and the fleet's lockfile, then each night's fleet compose is tested:
 *
 *   v1 again: nothing new → "nothing to test", exit 0;
 *   v1 → v2: a good upgrade (smoke commands and the app's health check pass), exit 0, the new
 *            deployment is the default; the report shows the diff and the advisories;
 *   v2 → v3: the app's required health check fails: exit 4 naming it, the new deployment is
 *            held (not the default), the report names the check and its output.
 *
 * The reports are checked against docs/report.schema.json by python3-jsonschema and rendered
 * by headless Chromium (DOM and a phone-width screenshot).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CHECK, nightlyRepos, type NightlyRepos } from '../support/nightly-fixtures.js';
import { dumpDom, schemaErrors, screenshot } from '../support/report-oracles.js';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, MAIN, ostreeFsck, removeTempDirs, requireTool, ROOT, tempDir } from './helpers.js';
import { RECIPE } from '../support/upgrade-fixtures.js';

const SCRIPT = join(ROOT, 'examples/nightly-upgrade.sh');
let repos: NightlyRepos;
let work: string;
let fleet: string;
let sysroot: string;
let fleetLock: string;
/** The commit the fleet's hosts run (the deployment the lockfile was written for). */
let hostCommit: string;
const SMOKE = 'nightly-app\ntest -x /usr/bin/nightly-app';

/** The fleet's nightly compose from version v's repos. */
function composeFleet(v: 'v1' | 'v2' | 'v3'): string {
  const recipe = join(work, `recipe-${v}.json`);
  writeFileSync(recipe, JSON.stringify({ packages: [...BASE_PACKAGES, ...RECIPE], repos: repos.reposdir[v] }));
  return layerJson(['compose', '--repo', fleet, '--ref', 'fleet/base', '--recipe', recipe]).commit as string;
}

function nightly(v: 'v1' | 'v2' | 'v3', out: string): { code: number | null; stderr: string } {
  const r = spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: {
      ...process.env, LAYER: `node ${MAIN}`, SYSROOT: sysroot, OUT: out, OSNAME: 'fleet', REPOSDIR: repos.reposdir[v],
      FLEET_REF: `${fleet}:fleet/base`, FLEET_LOCKFILE: fleetLock, LAYERED: 'nightly-app up-other', SMOKE, CHECK_TIMEOUT: '30',
    },
  });
  return { code: r.status, stderr: r.stderr };
}

const deployments = () => layerJson(['status', '--sysroot', sysroot]).deployments as { id: string; checksum: string; held?: boolean }[];

beforeAll(async () => {
  ensureBuilt();
  requireTool('ostree');
  requireTool('bwrap', 'bubblewrap');
  work = tempDir('nightly');
  repos = await nightlyRepos(work);
  fleet = join(work, 'fleet');
  sysroot = join(work, 'sysroot');
  composeFleet('v1');
  // The fleet's lockfile: what its hosts run (the base commit and the layered packages, pinned).
  fleetLock = join(work, 'fleet-lock.json');
  const host = join(work, 'host');
  const init = layer(['init', '--sysroot', host, '--osname', 'fleet', '--from-ostree', `${fleet}:fleet/base`, '--reposdir', repos.reposdir.v1,
    'nightly-app', 'up-other', '--lockfile-out', fleetLock]);
  expect(init.code, init.stderr).toBe(0);
  hostCommit = layerJson(['status', '--sysroot', host]).deployments[0].checksum;
}, 600_000);

afterAll(() => removeTempDirs());

describe('examples/nightly-upgrade.sh', () => {
  it('nothing new: the sysroot is made from the fleet lockfile (the hosts\' commit); "nothing to test", exit 0', () => {
    const r = nightly('v1', join(work, 'out-none'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nothing to test/);
    const lock = JSON.parse(readFileSync(fleetLock, 'utf8'));
    expect(deployments().map((d) => d.checksum)).toEqual([hostCommit]);
    expect(lock.packages.map((p: { nevra: string }) => p.nevra)).toContain('nightly-app-1.0-1.noarch');
    expect(existsSync(join(work, 'out-none/report.json'))).toBe(false);
  });

  it('v1 → v2: smoke commands and health checks pass, the new deployment is the default; the report shows the diff and advisories', () => {
    const before = deployments()[0];
    composeFleet('v2');
    const out = join(work, 'out-v2');
    const r = nightly('v2', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/upgrade passed its checks/);
    const now = deployments();
    expect(now[0]?.id).not.toBe(before?.id);
    expect(now[0]?.held).toBeUndefined();
    const doc = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(schemaErrors(join(out, 'report.json'))).toEqual([]);
    expect(doc.verdict).toBe('pass');
    expect(doc.checks.map((c: { kind: string; name: string; passed: boolean }) => [c.kind, c.name, c.passed])).toEqual([
      ['smoke', 'nightly-app', true], ['smoke', 'test -x /usr/bin/nightly-app', true], ['required', APP_CHECK, true],
    ]);
    expect(doc.checks[0].output).toBe('nightly-app 2.0\n');
    expect(doc['base-changes'].upgraded).toContainEqual({ name: 'up-core', from: 'up-core-1.0-1.noarch', to: 'up-core-1.1-1.noarch' });
    expect(doc['base-changes'].removed).toEqual(['up-old-1.0-1.noarch']);
    expect(doc['layered-changes'].upgraded).toEqual([{ name: 'nightly-app', from: 'nightly-app-1.0-1.noarch', to: 'nightly-app-2.0-1.noarch' }]);
    expect(doc['layered-changes'].downgraded).toEqual([{ name: 'up-other', from: 'up-other-1.0-1.noarch', to: 'up-other-0.9-1.noarch' }]);
    expect(doc.advisories.map((a: { id: string; severity: string }) => [a.id, a.severity])).toEqual([
      ['UP-2026-0001', 'Critical'], ['UP-2026-0003', 'Moderate'], ['UP-2026-0005', 'unknown'],
    ]);
    expect(doc['new-packages'].map((p: { nevra: string }) => p.nevra)).toEqual(['up-extra-1.0-1.noarch', 'up-new-2.0-1.noarch']);
    expect(doc.stages.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['solve', 'checkout', 'deploy', 'checks', 'promote']));
    expect(doc.scriptlets.some((s: { package: string; kind: string }) => s.package === 'nightly-app-2.0-1.noarch' && s.kind === 'post')).toBe(true);
    // The lockfile the upgrade wrote is the report's, and it pins the new tree.
    expect(doc.lockfile).toEqual(JSON.parse(readFileSync(join(out, 'lock.json'), 'utf8')));
    expect(doc.lockfile.packages.map((p: { nevra: string }) => p.nevra)).toContain('nightly-app-2.0-1.noarch');
    ostreeFsck(sysroot);
  });

  it('the v2 report in Chromium: verdict, package changes, advisories with CVE links; hostile script output stays text', () => {
    const html = join(work, 'out-v2/report.html');
    const dom = dumpDom(html);
    expect(dom).toMatch(/<section id="verdict" class="verdict pass"><h1>PASS<\/h1>/);
    expect(dom).toContain('up-core-1.0-1.noarch → up-core-1.1-1.noarch');
    expect(dom).toContain('nightly-app-1.0-1.noarch → nightly-app-2.0-1.noarch');
    for (const id of ['UP-2026-0001', 'UP-2026-0003', 'UP-2026-0005']) expect(dom).toContain(`<td>${id}</td>`);
    expect(dom).toContain('<a href="https://www.cve.org/CVERecord?id=CVE-2026-0001">CVE-2026-0001</a>');
    // nightly-app 2.0's %post printed <script> and <img onerror>: text in the DOM, never elements.
    expect(dom).toContain('migrating &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;\\x1b[31m');
    expect(dom).not.toMatch(/<script|<img/i);
    expect(dom).toMatch(/<svg class="chart" role="img" aria-label="stage timings"/);
    const shot = screenshot(html, join(work, 'v2.png'));
    expect(shot).toMatchObject({ width: 412, height: 915 });
    expect(shot.bytes).toBeGreaterThan(10_000);
  });

  it('v2 → v3 breaks the workload: exit 4 naming the failing check, the new deployment held (not the default), the report names check and output', () => {
    const before = deployments();
    composeFleet('v3');
    const out = join(work, 'out-v3');
    const r = nightly('v3', out);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`error: required health check ${APP_CHECK} failed: exit 1 in the new deployment; it was not made the default \\[LAYER_HEALTH_CHECK\\]`));
    expect(r.stderr).toMatch(/hint: its output ended: nightly-app: loading config \| nightly-app: config schema 3 unsupported/);
    expect(r.stderr).toMatch(new RegExp(`nightly: FAILED \\(exit 4\\): required health check ${APP_CHECK} failed`));
    const now = deployments();
    expect(now[0]?.id).toBe(before[0]?.id);
    const held = now.filter((d) => d.held);
    expect(held).toHaveLength(1);
    expect(now[now.length - 1]?.held).toBe(true);
    const doc = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(schemaErrors(join(out, 'report.json'))).toEqual([]);
    expect(doc.verdict).toBe('fail');
    expect(doc['failed-check']).toMatchObject({ kind: 'required', name: APP_CHECK, passed: false, status: 1 });
    expect(doc['failed-check'].output).toBe('nightly-app: loading config\nnightly-app: config schema 3 unsupported\n');
    expect(doc.to).toMatchObject({ checksum: held[0]?.checksum, default: false, held: true });
    const up = JSON.parse(readFileSync(join(out, 'upgrade.json'), 'utf8'));
    expect(up.held).toBe(true);
    expect(up['failed-check'].name).toBe(APP_CHECK);
    const dom = dumpDom(join(out, 'report.html'));
    expect(dom).toMatch(/<section id="verdict" class="verdict fail"><h1>FAIL<\/h1>/);
    expect(dom).toContain(`<code id="failed-check-name">${APP_CHECK}</code>`);
    expect(dom).toContain('nightly-app: config schema 3 unsupported');
    // The held deployment can be inspected, is no rollback target, and cleanup removes it.
    expect(layer(['run', '--sysroot', sysroot, '--deployment', held[0]?.checksum ?? '', '--', 'nightly-app']).stdout).toBe('nightly-app 3.0\n');
    expect(layer(['cleanup', '--sysroot', sysroot]).code).toBe(0);
    expect(deployments().map((d) => d.id)).toEqual(before.map((d) => d.id));
    ostreeFsck(sysroot);
  });

  it('layer report FROM TO: any two deployments, verdict "unchecked", valid against the schema', () => {
    const out = join(work, 'out-report');
    const j = layerJson(['report', '--sysroot', sysroot, '1', '0', '--out', out, '--reposdir', repos.reposdir.v2]);
    expect(j.verdict).toBe('unchecked');
    expect(schemaErrors(join(out, 'report.json'))).toEqual([]);
    const doc = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(doc.checks).toEqual([]);
    expect(doc['layered-changes'].upgraded.map((u: { name: string }) => u.name)).toEqual(['nightly-app']);
    expect(doc.advisories.map((a: { id: string }) => a.id)).toContain('UP-2026-0001');
  });
});

describe('crash safety of the gate', () => {
  it('a kill -9 while the checks run leaves the old default; the next transaction removes the half-done one', async () => {
    const s = join(tempDir('nightly-kill'), 'sysroot');
    expect(layer(['init', '--sysroot', s, '--osname', 'fleet', '--from-ostree', `${fleet}:fleet/base`, '--reposdir', repos.reposdir.v1, 'nightly-app']).code).toBe(0);
    const before = layerJson(['status', '--sysroot', s]).deployments;
    const child = spawn('node', [MAIN, 'upgrade', '--sysroot', s, '--reposdir', repos.reposdir.v3, '--smoke', 'sleep 60'], { stdio: 'ignore' });
    const heldFile = join(s, 'ostree/layer/held');
    for (let i = 0; i < 600 && !existsSync(heldFile); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(heldFile)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const after = layerJson(['status', '--sysroot', s]).deployments;
    expect(after[0].id).toBe(before[0].id);
    expect(after.slice(1).every((d: { held?: boolean }) => d.held)).toBe(true);
    expect(layer(['cleanup', '--sysroot', s]).code).toBe(0);
    expect(layerJson(['status', '--sysroot', s]).deployments.map((d: { id: string }) => d.id)).toEqual(before.map((d: { id: string }) => d.id));
    ostreeFsck(s);
  });
});
