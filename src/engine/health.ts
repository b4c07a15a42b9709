/**
 * Health checks, greenboot's idea built in: executables under `/etc/layer/health.d/required/`
 * and `/etc/layer/health.d/wanted/` of a deployment (shipped by packages, or added by the
 * admin to that deployment's /etc), run inside the deployment as `layer run` runs a command
 * (run.ts), each with a time limit, in name order, required ones first.
 *
 * A required check that exits non-zero, is killed or runs out of time makes the deployment
 * unhealthy (`healthError` → LAYER_HEALTH_CHECK naming it); a failing wanted check is a warning.
 * Entries that are not executable regular files (after resolving symlinks inside the tree)
 * and names starting with `.` are skipped with a warning, so an editor's backup file does
 * not run and a forgotten `chmod +x` is seen.
 *
 * Callers: `layer health-check`, `layer rollback --if-unhealthy`, and `layer upgrade
 * --health-check`, which runs `runHealthChecks(newDeployment.path, …)` before making the
 * new deployment the default.
 *
 * Locking: none (a reader, like run.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { Sysroot, type Deployment, type LockWaitOptions } from '../sysroot/index.js';
import { walkTree } from '../util/tree-path.js';
import { runInDeployment } from './run.js';
import { now } from '../util/clock.js';

export const HEALTH_DIR = '/etc/layer/health.d';
export type HealthKind = 'required' | 'wanted';
/** Per check, unless the caller says otherwise (greenboot has no per-script limit; a hung check must not hang CI). */
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;

export interface HealthCheck {
  kind: HealthKind;
  name: string;
  /** The path inside the tree (`/etc/layer/health.d/required/10-x`). */
  path: string;
}

export interface HealthCheckResult extends HealthCheck {
  passed: boolean;
  /** Shell-style status: the exit code, 128+N for signal N (a timeout is SIGKILL: 137). */
  status: number;
  timedOut: boolean;
  /** The time limit it ran under. */
  limitMs: number;
  /** stdout and stderr interleaved (the tail, at most 64 KiB). */
  output: string;
  ms: number;
}

export interface HealthReport {
  /** The deployment directory the checks ran in. */
  deployment: string;
  /** No required check failed. */
  healthy: boolean;
  checks: HealthCheckResult[];
  /** Entries skipped: not executable, not a regular file, hidden. */
  skipped: { kind: HealthKind; name: string; reason: string }[];
  ms: number;
}

export interface HealthOptions {
  /** Per-check limit. Default DEFAULT_HEALTH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Throwaway /etc and /var (run.ts); default: the deployment's /etc and the shared /var, as booted. */
  ephemeral?: boolean;
  /** Let checks reach the network (default: none, as `layer run`). */
  net?: boolean;
  /** Events: `health.check` (a record per check), `health.wanted-failed`, `health.skipped` (warnings). */
  report?: Report;
}

const MAX_CHECK_OUTPUT = 64 << 10;

/** The checks a deployment tree has, required ones first, each kind in name order (byte order, as greenboot's `ls`). */
export function listHealthChecks(tree: string): { checks: HealthCheck[]; skipped: HealthReport['skipped'] } {
  const checks: HealthCheck[] = [];
  const skipped: HealthReport['skipped'] = [];
  for (const kind of ['required', 'wanted'] as const) {
    const dir = walkTree(tree, `${HEALTH_DIR}/${kind}`, { mustExist: true });
    if (!dir || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      const path = `${HEALTH_DIR}/${kind}/${name}`;
      if (name.startsWith('.')) {
        skipped.push({ kind, name, reason: 'hidden file' });
        continue;
      }
      // A symlink is followed inside the tree: /etc/... -> /usr/libexec/... is how packages ship checks.
      const host = walkTree(tree, path, { mustExist: true });
      const st = host ? statSync(host) : undefined;
      if (!st?.isFile()) skipped.push({ kind, name, reason: host ? 'not a regular file' : 'dangling symlink' });
      else if ((st.mode & 0o111) === 0) skipped.push({ kind, name, reason: 'not executable' });
      else checks.push({ kind, name, path });
    }
  }
  return { checks, skipped };
}

/**
 * Run every health check of the deployment tree at `deploymentPath`. Never throws for a failing
 * check (see `healthError` for the verdict as an error); throws LAYER_RUN only when bubblewrap
 * itself cannot be started. A check that cannot be executed (bad interpreter) fails.
 */
export async function runHealthChecks(deploymentPath: string, opts: HealthOptions = {}): Promise<HealthReport> {
  const report = opts.report ?? silentReport;
  const t0 = now();
  const { checks, skipped } = listHealthChecks(deploymentPath);
  for (const s of skipped) report.warn('health.skipped', `health check ${s.kind}/${s.name} skipped: ${s.reason}`, { ...s });
  const results: HealthCheckResult[] = [];
  for (const check of checks) {
    const r = await runOne(deploymentPath, check, opts);
    results.push(r);
    report.record('health.check', { kind: r.kind, name: r.name, passed: r.passed, status: r.status, timedOut: r.timedOut, ms: Math.round(r.ms), output: r.output });
    if (!r.passed && r.kind === 'wanted') report.warn('health.wanted-failed', `wanted health check ${r.name} failed (${describeFailure(r)})`, { name: r.name, status: r.status });
  }
  return {
    deployment: deploymentPath,
    healthy: !results.some((r) => r.kind === 'required' && !r.passed),
    checks: results, skipped, ms: now() - t0,
  };
}

async function runOne(tree: string, check: HealthCheck, opts: HealthOptions): Promise<HealthCheckResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  try {
    const r = await runInDeployment(tree, [check.path], {
      stdio: 'collect', timeoutMs, maxOutput: MAX_CHECK_OUTPUT, ...(opts.ephemeral ? { ephemeral: true } : {}), ...(opts.net ? { net: true } : {}),
    });
    const passed = r.status === 0 && !r.timedOut;
    return { ...check, passed, status: r.status, timedOut: r.timedOut, limitMs: timeoutMs, output: r.output, ms: r.ms };
  } catch (err) {
    // The check could not be executed (e.g. its #! interpreter is missing): that is a failed check.
    if (err instanceof LayerError && err.code === 'LAYER_RUN' && !/cannot start bubblewrap/.test(err.message)) {
      return { ...check, passed: false, status: 127, timedOut: false, limitMs: timeoutMs, output: err.message, ms: 0 };
    }
    throw err;
  }
}

/** "exit 3", "timed out after 5 s", "killed by signal 9": how a failed check ended. */
export function describeFailure(r: HealthCheckResult): string {
  if (r.timedOut) return `timed out after ${r.limitMs / 1000} s`;
  if (r.status > 128) return `killed by signal ${r.status - 128}`;
  return `exit ${r.status}`;
}

/**
 * The verdict as an error: LAYER_HEALTH_CHECK naming the first failing required check, its
 * status and the last lines of its output; undefined when the deployment is healthy.
 * `label` names the deployment in the message.
 */
export function healthError(h: HealthReport, label: string, suffix = ''): LayerError | undefined {
  const failed = h.checks.filter((c) => c.kind === 'required' && !c.passed);
  const first = failed[0];
  if (!first) return undefined;
  const others = failed.length > 1 ? ` (and ${failed.slice(1).map((c) => c.name).join(', ')})` : '';
  const tail = first.output.trim().split('\n').slice(-3).join(' | ');
  return new LayerError('LAYER_HEALTH_CHECK', `required health check ${first.name} failed in ${label}: ${describeFailure(first)}${others}${suffix}`, {
    hint: tail ? `its output ended: ${tail.slice(-300)}` : `it printed nothing; run it by hand: layer run -- ${first.path}`,
  });
}

export interface UnhealthyRollback {
  /** The booted deployment, whose checks ran. */
  booted: Deployment;
  health: HealthReport;
  /** The new default after the rollback; undefined when healthy or nothing could be rolled back. */
  rolledBack: Deployment | undefined;
  /** Why an unhealthy booted deployment was not rolled back: the default is already another one. */
  notDefault: boolean;
}

/**
 * `layer rollback --if-unhealthy`, the on-host half of health checks (greenboot's
 * red/green decision): run the booted deployment's checks and, only when a required one
 * fails, make the rollback deployment the default (the next boot starts it). The checks run
 * without the lock (they may take long); the lock is taken for the rollback only, and the
 * boot order re-read under it: when the booted deployment is no longer the default (an
 * upgrade or rollback happened meanwhile, or before), nothing is changed — the next boot
 * already leaves it.
 */
export async function rollbackIfUnhealthy(
  path: string,
  command: string,
  opts: HealthOptions & { wait?: LockWaitOptions } = {},
): Promise<UnhealthyRollback> {
  const s = Sysroot.open(path);
  const booted = s.status().booted;
  if (!booted) throw new LayerError('LAYER_SYSROOT', `${path} has no booted deployment`, { hint: 'on a directory sysroot, layer boot-pending marks the default one booted' });
  const health = await runHealthChecks(booted.path, opts);
  if (health.healthy) return { booted, health, rolledBack: undefined, notDefault: false };
  await s.lockWait(command, opts.wait ?? {});
  try {
    const now = s.deployments();
    const still = now[0]?.booted === true && now[0].id === booted.id;
    if (!still) return { booted, health, rolledBack: undefined, notDefault: true };
    return { booted, health, rolledBack: s.rollback(), notDefault: false };
  } finally {
    s.release();
  }
}
