/**
 * `layer upgrade --smoke CMD --health-check --check-timeout S --report DIR`: the options that
 * test the new deployment before it becomes the default (engine/upgrade-checks.ts, the gate of
 * engine.ts's deployPlan) and write the report (src/nightly). Kept apart from
 * commands/upgrade.ts so that file only wires them in.
 *
 * `--smoke CMD` may be repeated; each CMD is one shell command line, run as `sh -c CMD` in the
 * new deployment. A failed check: the deployment stays held (not the default), the output
 * names the check and its output, exit status EXIT_CHECKS_FAILED.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LayerError } from '../errors.js';
import { readLockfile, type Lockfile } from '../engine/lockfile.js';
import type { UpgradeResult } from '../engine/upgrade.js';
import { describeCheck, runUpgradeChecks, type UpgradeChecks } from '../engine/upgrade-checks.js';
import { buildReport, reportCheck } from '../nightly/report.js';
import { writeReport } from '../nightly/write.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';
import { escapeControl } from '../util/escape.js';
import { bool, str, type OptionSpec, type Parsed } from './args.js';
import { seconds } from './common.js';
import { now } from '../util/clock.js';

/** The new deployment's checks failed: it was written but is not the default (it is held). */
export const EXIT_CHECKS_FAILED = 4;

export const GATE_FLAGS: Record<string, OptionSpec> = { 'health-check': {}, 'check-timeout': { value: true }, report: { value: true } };

/** `--smoke CMD` / `--smoke=CMD`, repeatable, taken out of argv before the one-value parser sees it. */
export function takeSmoke(argv: readonly string[]): { smoke: string[]; rest: string[] } {
  const smoke: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--smoke=')) smoke.push(a.slice('--smoke='.length));
    else if (a === '--smoke') {
      const v = argv[++i];
      if (v === undefined) throw new LayerError('LAYER_USAGE', 'layer upgrade: --smoke needs a value', { hint: "--smoke 'CMD ARG...' (a shell command line)" });
      smoke.push(v);
    } else rest.push(a);
  }
  if (smoke.some((s) => s.trim() === '')) throw new LayerError('LAYER_USAGE', 'layer upgrade: --smoke needs a command, not an empty string');
  return { smoke, rest };
}

export interface Gate {
  /** For the EngineRequest; undefined when no check was asked for. */
  gate?: (d: Deployment) => Promise<boolean>;
  /** The checks' results, once the gate ran. */
  checks(): UpgradeChecks | undefined;
}

export function upgradeGate(p: Parsed, smoke: readonly string[], check: boolean): Gate {
  const healthCheck = bool(p, 'health-check');
  const limit = seconds(p, 'check-timeout');
  let ran: UpgradeChecks | undefined;
  if (smoke.length === 0 && !healthCheck) return { checks: () => undefined };
  if (check) throw new LayerError('LAYER_USAGE', '--smoke and --health-check test a new deployment; --check and --preview make none', { hint: 'run them without --check/--preview' });
  return {
    gate: async (d) => {
      ran = await runUpgradeChecks(d.path, { smoke, healthCheck, ...(limit !== undefined ? { timeoutMs: limit * 1000 } : {}) });
      return ran.passed;
    },
    checks: () => ran,
  };
}

/**
 * Write `--report DIR` for a deployed upgrade: the HTML file's path and the milliseconds the
 * report took (shown as `report-ms`: its cost against the upgrade's is benchmarked), or
 * undefined when nothing was deployed.
 */
export async function upgradeReport(
  p: Parsed, r: UpgradeResult, x: { sysroot: string; command: string; reposdir?: string; checks?: UpgradeChecks },
): Promise<{ html: string; ms: number } | undefined> {
  const t0 = now();
  const dir = str(p, 'report');
  const to = r.result?.deployment;
  const from = r.result?.previous;
  if (!dir || r.outcome !== 'deployed' || !to || !from) return undefined;
  const s = Sysroot.open(x.sysroot);
  const doc = await buildReport({
    sysroot: s, from, to: s.find(`${to.osname}/${to.id}`), command: x.command, ...(x.reposdir ? { reposdir: x.reposdir } : {}),
    cacheOnly: true, timings: r.result?.timings ?? {}, scriptlets: r.result?.scriptlets ?? [], ...(x.checks ? { checks: x.checks } : {}),
    ...lockfileOf(p), ...(r.restriction ? { restriction: r.restriction } : {}),
  });
  const html = writeReport(resolve(dir), doc).html;
  return { html, ms: Math.round(now() - t0) };
}

function lockfileOf(p: Parsed): { lockfile?: Lockfile } {
  const f = str(p, 'lockfile-out') ?? str(p, 'lockfile');
  return f && existsSync(f) ? { lockfile: readLockfile(resolve(f)) } : {};
}

/** The JSON fields of the checks: `checks[]` and `failed-check`. */
export function checksJson(c: UpgradeChecks | undefined): Record<string, unknown> {
  if (!c) return {};
  return { checks: c.checks.map(reportCheck), 'failed-check': c.failed ? reportCheck(c.failed) : null };
}

/** One line a check, then what happened to the deployment. */
export function checksText(c: UpgradeChecks, held: Deployment | undefined): string {
  const lines = c.checks.map((x) => `  ${x.passed ? 'pass' : x.kind === 'wanted' ? 'FAIL (wanted)' : 'FAIL'}  ${x.kind === 'smoke' ? 'smoke' : x.kind}: ${escapeControl(x.name)}`);
  const tail = c.failed && held
    ? `The new deployment ${held.osname}/${held.id} is held: NOT the default. Inspect it: layer run --deployment ${held.id} -- CMD; remove it: layer cleanup.\n`
    : '';
  return `Checks in the new deployment:\n${lines.join('\n')}\n${tail}`;
}

/** The error lines for stderr when a check failed (as main.ts prints a LayerError). */
export function checksError(c: UpgradeChecks): string {
  const f = c.failed;
  if (!f) return '';
  const tail = f.output.trim().split('\n').slice(-3).join(' | ').slice(-300);
  return `error: ${escapeControl(describeCheck(f))} in the new deployment; it was not made the default [LAYER_HEALTH_CHECK]\n`
    + `hint: ${tail ? `its output ended: ${escapeControl(tail)}` : 'it printed nothing'}\n`;
}
