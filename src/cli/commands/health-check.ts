/**
 * `layer health-check [--deployment D] [--timeout SECONDS] [--ephemeral] [--net] [--json]`:
 * run a deployment's /etc/layer/health.d checks (engine/health.ts) and report each. Also the
 * rendering of `layer rollback --if-unhealthy` (rollback.ts hands over to `runIfUnhealthy`).
 */
import { describeFailure, healthError, rollbackIfUnhealthy, runHealthChecks, type HealthReport } from '../../engine/health.js';
import { selectDeployment } from '../../engine/run.js';
import { LayerError } from '../../errors.js';
import { EventReport } from '../../report.js';
import { Sysroot, type Deployment } from '../../sysroot/index.js';
import { escapeControl } from '../../util/escape.js';
import { bool, parseArgs, str, type Parsed } from '../args.js';
import { lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer health-check [--sysroot DIR] [--deployment N|ID|pending|booted|rollback] [--timeout SECONDS] [--ephemeral] [--net] [--json]
  Run the executables in /etc/layer/health.d/required/ and wanted/ of a deployment (default: the
  default one) as layer run does, each with a time limit (default 60 s), and report each with
  its output. A failing or timed-out required check: exit 1 (LAYER_HEALTH_CHECK); a failing
  wanted check: a warning.`;

export const HEALTH_OPTIONS = { deployment: { value: true }, timeout: { value: true }, ephemeral: {}, net: {} };

/** `--timeout SECONDS` (decimals allowed) in milliseconds, or undefined. */
export function timeoutMs(p: Parsed): number | undefined {
  const v = str(p, 'timeout');
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new LayerError('LAYER_USAGE', `--timeout takes a positive number of seconds, not '${v}'`);
  return Number(v) * 1000;
}

function healthOptions(p: Parsed): { timeoutMs?: number; ephemeral: boolean; net: boolean; report: EventReport } {
  const t = timeoutMs(p);
  // Warnings (a wanted check failed, an entry skipped) on stderr as they happen, even with --json.
  const report = new EventReport((e) => {
    if (e.level === 'warn') process.stderr.write(`warning: ${escapeControl(e.message ?? '')}\n`);
  });
  return { ...(t === undefined ? {} : { timeoutMs: t }), ephemeral: bool(p, 'ephemeral'), net: bool(p, 'net'), report };
}

export function healthJson(h: HealthReport): Record<string, unknown> {
  return {
    healthy: h.healthy,
    checks: h.checks.map((c) => ({ kind: c.kind, name: c.name, path: c.path, passed: c.passed, status: c.status, 'timed-out': c.timedOut, ms: Math.round(c.ms), output: c.output })),
    skipped: h.skipped,
    ms: Math.round(h.ms),
  };
}

export function healthText(h: HealthReport): string {
  if (h.checks.length === 0) return `No health checks (nothing executable in /etc/layer/health.d/required or wanted).\n`;
  const lines = h.checks.map((c) => {
    const verdict = c.passed ? 'pass' : c.kind === 'required' ? 'FAIL' : 'warn';
    const out = c.passed ? '' : c.output.trim().split('\n').slice(-10).map((l) => `        | ${escapeControl(l)}\n`).join('');
    return `  ${verdict}  ${c.kind}/${escapeControl(c.name)}  ${c.passed ? '' : `${describeFailure(c)}, `}${Math.round(c.ms)} ms\n${out}`;
  });
  const failed = h.checks.filter((c) => !c.passed).length;
  return `${lines.join('')}${h.checks.length} checks: ${h.checks.length - failed} passed, ${failed} failed; ${h.healthy ? 'healthy' : 'UNHEALTHY'}\n`;
}

const label = (d: Deployment): string => `${d.osname} ${d.id} (deployment ${d.index})`;

/** With --json the error goes into the one JSON document (main would print a second one). */
function fail(p: Parsed, err: LayerError, json: Record<string, unknown>): number {
  process.stderr.write(`error: ${err.message} [${err.code}]\n${err.hint ? `hint: ${escapeControl(err.hint)}\n` : ''}`);
  if (bool(p, 'json')) emit(p, { ...json, error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } }, () => '');
  return 1;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('health-check', argv, HEALTH_OPTIONS);
  if (p.positionals.length > 0) throw new LayerError('LAYER_USAGE', `layer health-check: unexpected argument '${p.positionals[0] ?? ''}'`, { hint: usage });
  const s = Sysroot.open(sysrootOf(p));
  const d = selectDeployment(s, str(p, 'deployment'));
  if (!bool(p, 'json')) process.stdout.write(`Health checks of ${label(d)}:\n`);
  const h = await runHealthChecks(d.path, healthOptions(p));
  const json = { deployment: { id: d.id, osname: d.osname, index: d.index, path: d.path }, ...healthJson(h) };
  const err = healthError(h, label(d));
  if (err && bool(p, 'json')) return fail(p, err, json);
  emit(p, json, () => healthText(h));
  if (err) throw err;
  return 0;
}

/**
 * `layer rollback --if-unhealthy [--timeout SECONDS]`: exit 0 when the booted deployment is
 * healthy (nothing changed); after a rollback, exit 1 with LAYER_HEALTH_CHECK naming the check.
 */
export async function runIfUnhealthy(p: Parsed, command: string): Promise<number> {
  const r = await rollbackIfUnhealthy(sysrootOf(p), command, { ...healthOptions(p), wait: lockWaitOptions(p) });
  const json = {
    booted: { id: r.booted.id, osname: r.booted.osname, path: r.booted.path },
    ...healthJson(r.health),
    'rolled-back': r.rolledBack !== undefined,
    ...(r.rolledBack ? { deployment: { id: r.rolledBack.id, osname: r.rolledBack.osname, path: r.rolledBack.path } } : {}),
  };
  const suffix = r.rolledBack ? `; rolled back: ${r.rolledBack.osname} ${r.rolledBack.id} is the default now`
    : r.notDefault ? '; not rolled back: the default deployment is already another one' : '';
  const err = healthError(r.health, `the booted deployment ${r.booted.osname} ${r.booted.id}`, suffix);
  if (err && bool(p, 'json')) return fail(p, err, json);
  emit(p, json, () => `Health checks of the booted deployment ${r.booted.osname} ${r.booted.id}:\n${healthText(r.health)}` +
    (err ? '' : 'Healthy: nothing rolled back.\n'));
  if (err) throw err;
  return 0;
}
