/**
 * The checks `layer upgrade --smoke CMD --health-check` runs in the new deployment before it
 * becomes the default (the gate of engine.ts's deployPlan): each smoke command as `sh -c CMD`,
 * then the tree's health checks (health.ts), all as `layer run` runs a command (run.ts: the
 * deployment's /etc, the shared /var, no network), each with a time limit.
 *
 * The verdict: every smoke command exits 0 and no required health check fails (a failing
 * wanted check is a warning, as for `layer health-check`). Every check runs even after one
 * failed, so the report shows them all.
 */
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { DEFAULT_HEALTH_TIMEOUT_MS, runHealthChecks, type HealthCheckResult } from './health.js';
import { runInDeployment } from './run.js';

export interface UpgradeCheckOptions {
  /** Shell command lines, run with `sh -c` in the new deployment, in order. */
  smoke: readonly string[];
  /** Run the tree's /etc/layer/health.d checks too. */
  healthCheck: boolean;
  /** Per check. Default DEFAULT_HEALTH_TIMEOUT_MS. */
  timeoutMs?: number;
  report?: Report;
}

/** One check's result; `kind` smoke is a --smoke command (its `name` the command line). */
export interface CheckResult {
  kind: 'smoke' | 'required' | 'wanted';
  name: string;
  passed: boolean;
  status: number;
  timedOut: boolean;
  /** stdout and stderr interleaved (the tail, bounded). */
  output: string;
  ms: number;
}

export interface UpgradeChecks {
  passed: boolean;
  checks: CheckResult[];
  /** The first check that decided the verdict, when it failed. */
  failed?: CheckResult;
}

const MAX_SMOKE_OUTPUT = 64 << 10;

export async function runUpgradeChecks(deploymentPath: string, o: UpgradeCheckOptions): Promise<UpgradeChecks> {
  const report = o.report ?? silentReport;
  const timeoutMs = o.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const checks: CheckResult[] = [];
  for (const cmd of o.smoke) checks.push(await smoke(deploymentPath, cmd, timeoutMs));
  if (o.healthCheck) {
    const h = await runHealthChecks(deploymentPath, { timeoutMs, report });
    checks.push(...h.checks.map(fromHealth));
  }
  for (const c of checks) report.record('upgrade.check', { kind: c.kind, name: c.name, passed: c.passed, status: c.status, ms: Math.round(c.ms) });
  const failed = checks.find((c) => !c.passed && c.kind !== 'wanted');
  return { passed: failed === undefined, checks, ...(failed ? { failed } : {}) };
}

async function smoke(tree: string, cmd: string, timeoutMs: number): Promise<CheckResult> {
  const head = { kind: 'smoke' as const, name: cmd };
  try {
    const r = await runInDeployment(tree, ['sh', '-c', cmd], { stdio: 'collect', timeoutMs, maxOutput: MAX_SMOKE_OUTPUT });
    return { ...head, passed: r.status === 0 && !r.timedOut, status: r.status, timedOut: r.timedOut, output: r.output, ms: r.ms };
  } catch (err) {
    // No sh in the tree, or the command could not start: a failed check, not a failed upgrade.
    if (err instanceof LayerError && err.code === 'LAYER_RUN' && !/cannot start bubblewrap/.test(err.message)) {
      return { ...head, passed: false, status: 127, timedOut: false, output: err.message, ms: 0 };
    }
    throw err;
  }
}

function fromHealth(h: HealthCheckResult): CheckResult {
  return { kind: h.kind, name: h.name, passed: h.passed, status: h.status, timedOut: h.timedOut, output: h.output, ms: h.ms };
}

/** "smoke command `x` failed: exit 1" / "required health check 20-db failed: timed out after 60 s". */
export function describeCheck(c: CheckResult): string {
  const what = c.kind === 'smoke' ? `smoke command '${c.name}'` : `${c.kind} health check ${c.name}`;
  const how = c.timedOut ? 'timed out' : c.status > 128 ? `killed by signal ${c.status - 128}` : `exit ${c.status}`;
  return `${what} failed: ${how}`;
}
