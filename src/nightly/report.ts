/**
 * The upgrade report (`layer upgrade --report DIR`, `layer report FROM TO --out DIR`): what
 * changed from one deployment to another and whether the new one passed its checks, as plain
 * data. `report.json` is this object (schema docs/report.schema.json, `schema`
 * "layer-upgrade-report", `version` 1: fields are only ever added within a version);
 * html.ts renders the same object as `report.html`.
 *
 * Everything is read from the two deployments' rpmdbs (package changes, sizes, `why` for new
 * packages), the repos' updateinfo (security advisories the new tree fixes), and what the
 * caller hands in (the transaction's timings and scriptlets, the checks, the lockfile).
 */
import { join } from 'node:path';
import { formatEvr, nameOf, type Nevra } from '../nevra.js';
import { openRpmdb } from '../rpmdb/index.js';
import { silentReport, type EventData, type Report } from '../report.js';
import type { Deployment, Sysroot } from '../sysroot/index.js';
import { securityAdvisories } from '../engine/advisories.js';
import { diffPackages, type ListedPackage } from '../engine/db.js';
import type { Lockfile } from '../engine/lockfile.js';
import type { Restriction } from '../engine/cached-update.js';
import type { PackageDiff } from '../engine/types.js';
import type { CheckResult, UpgradeChecks } from '../engine/upgrade-checks.js';
import { commitVersion } from '../engine/version.js';
import { explainPackages } from '../engine/why.js';

export const REPORT_SCHEMA = 'layer-upgrade-report';
export const REPORT_VERSION = 1;
/** `why` is asked for at most this many new packages (one rpmdb read each). */
const MAX_WHY = 50;
const RPMTAG_SIZE = 1009;
const RPMTAG_LONGSIZE = 5009;

export interface DeploymentSummary {
  osname: string;
  id: string;
  checksum: string;
  'base-checksum': string;
  version: string | null;
  packages: number;
  /** Sum of the packages' installed sizes (rpm's SIZE tag), bytes. */
  'size-bytes': number;
  default: boolean;
  held: boolean;
}

export interface Changes {
  upgraded: { name: string; from: Nevra; to: Nevra }[];
  downgraded: { name: string; from: Nevra; to: Nevra }[];
  added: Nevra[];
  removed: Nevra[];
}

/** A smoke command or health check as the report has it. */
export interface ReportCheck {
  kind: CheckResult['kind'];
  name: string;
  passed: boolean;
  status: number;
  'timed-out': boolean;
  ms: number;
  output: string;
}

export interface ReportDoc {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  generated: string;
  command: string;
  /** pass: every check passed; fail: a smoke command or required health check failed; unchecked: none ran. */
  verdict: 'pass' | 'fail' | 'unchecked';
  summary: string;
  'failed-check': ReportCheck | null;
  from: DeploymentSummary;
  to: DeploymentSummary;
  'base-changes': Changes;
  'layered-changes': Changes;
  advisories: { id: string; severity: string; title: string; issued: string; cves: string[]; packages: string[] }[];
  'new-packages': { nevra: Nevra; reason: string; 'requested-as': string | null; chain: string[] }[];
  size: { from: number; to: number; change: number };
  stages: { name: string; ms: number }[];
  scriptlets: { package: string; kind: string; ms: number; output: string }[];
  checks: ReportCheck[];
  lockfile: Lockfile | null;
  /** The upgrade was restricted to advisories (`--security`, `--advisory`); null when not. */
  restriction: Restriction | null;
}

export interface ReportInput {
  sysroot: Sysroot;
  from: Deployment;
  to: Deployment;
  command: string;
  /** Repo files for the advisories; default: the new deployment's /etc/yum.repos.d. */
  reposdir?: string;
  /** The repos' metadata was just refreshed: use the cached repomd (refreshed when something is missing). */
  cacheOnly?: boolean;
  timings?: Record<string, number>;
  scriptlets?: EventData[];
  checks?: UpgradeChecks;
  lockfile?: Lockfile;
  restriction?: Restriction;
  report?: Report;
}

export async function buildReport(x: ReportInput): Promise<ReportDoc> {
  const [from, to] = [readTree(x.from.path), readTree(x.to.path)];
  const [before, after] = [from.packages, to.packages];
  const layered = new Set([...(x.from.origin.layered ?? []), ...(x.to.origin.layered ?? [])].map((n) => nameOf(n)));
  const diff = diffPackages(before, after);
  const [sizeFrom, sizeTo] = [from.size, to.size];
  const advisories = await advisoriesOf(x, before, after);
  const checks = (x.checks?.checks ?? []).map(reportCheck);
  const failed = x.checks?.failed ? reportCheck(x.checks.failed) : null;
  const verdict = x.checks === undefined ? 'unchecked' : x.checks.passed ? 'pass' : 'fail';
  return {
    schema: REPORT_SCHEMA, version: REPORT_VERSION, generated: new Date().toISOString(), command: x.command,
    verdict, summary: summaryOf(verdict, diff, failed, checks.length), 'failed-check': failed,
    from: summarize(x.sysroot, x.from, before.length, sizeFrom), to: summarize(x.sysroot, x.to, after.length, sizeTo),
    'base-changes': split(diff, (n) => !layered.has(n)), 'layered-changes': split(diff, (n) => layered.has(n)),
    advisories: advisories.map((a) => ({
      id: a.id, severity: a.severity, title: a.title, issued: a.issued, cves: a.cves,
      packages: a.packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}`),
    })),
    'new-packages': whyNew(x.sysroot, x.to, diff.added),
    size: { from: sizeFrom, to: sizeTo, change: sizeTo - sizeFrom },
    stages: Object.entries(x.timings ?? {}).map(([name, ms]) => ({ name, ms: Math.round(ms) })),
    scriptlets: (x.scriptlets ?? []).map((s) => ({ package: String(s.package ?? ''), kind: String(s.kind ?? ''), ms: Number(s.ms ?? 0), output: String(s.output ?? '') })),
    checks, lockfile: x.lockfile ?? null, restriction: x.restriction ?? null,
  };
}

/**
 * The advisories `to` fixes. With `cacheOnly` (the upgrade refreshed the metadata moments ago)
 * the cached repomd is used; when something is not cached, the metadata is refreshed after all.
 */
async function advisoriesOf(x: ReportInput, before: ListedPackage[], after: ListedPackage[]) {
  const opts = {
    ...(x.reposdir ? { reposdir: x.reposdir } : {}), tree: x.to.path, cacheDir: join(x.sysroot.stateDir, 'cache'),
    report: x.report ?? silentReport, before, after,
  };
  if (x.cacheOnly) {
    try {
      return await securityAdvisories({ ...opts, cacheOnly: true });
    } catch {
      /* not cached: refresh below */
    }
  }
  return securityAdvisories(opts);
}

export function reportCheck(c: CheckResult): ReportCheck {
  return { kind: c.kind, name: c.name, passed: c.passed, status: c.status, 'timed-out': c.timedOut, ms: Math.round(c.ms), output: c.output };
}

function summarize(sysroot: Sysroot, d: Deployment, packages: number, size: number): DeploymentSummary {
  return {
    osname: d.osname, id: d.id, checksum: d.checksum, 'base-checksum': d.origin.baseCommit,
    version: commitVersion(sysroot.store, d.checksum) ?? null, packages, 'size-bytes': size,
    default: d.index === 0, held: d.held === true,
  };
}

function split(d: PackageDiff, keep: (name: string) => boolean): Changes {
  const pair = (u: { from: Nevra; to: Nevra }) => ({ name: nameOf(u.to), from: u.from, to: u.to });
  return {
    upgraded: d.upgraded.filter((u) => keep(nameOf(u.to))).map(pair),
    downgraded: d.downgraded.filter((u) => keep(nameOf(u.to))).map(pair),
    added: d.added.filter((n) => keep(nameOf(n))),
    removed: d.removed.filter((n) => keep(nameOf(n))),
  };
}

/**
 * A tree's packages and the sum of their installed sizes (rpm's LONGSIZE or SIZE, what
 * `rpm -qa --qf '%{SIZE}'` adds up), from one read of its rpmdb.
 */
function readTree(tree: string): { packages: ListedPackage[]; size: number } {
  const db = openRpmdb(tree);
  try {
    const pkgs = db.packages().filter((p) => p.name !== 'gpg-pubkey');
    const size = pkgs.reduce((sum, p) => sum + (p.header.numbers(RPMTAG_LONGSIZE)[0] ?? p.header.numbers(RPMTAG_SIZE)[0] ?? 0), 0);
    const packages = pkgs.map((p) => ({ name: p.name, nevra: p.nevra, evr: formatEvr(p) })).sort((a, b) => (a.nevra < b.nevra ? -1 : 1));
    return { packages, size };
  } finally {
    db.close();
  }
}

function whyNew(sysroot: Sysroot, d: Deployment, added: readonly Nevra[]): ReportDoc['new-packages'] {
  const shown = added.slice(0, MAX_WHY);
  const answers = explainPackages(sysroot, d, shown);
  return shown.map((nevra, i) => {
    const a = answers[i]?.[0];
    const chain = (a?.steps ?? []).map((s) => `${s.kind} ${s.dep} → ${s.nevra}`);
    return { nevra, reason: a?.reason ?? 'unexplained', 'requested-as': a?.requestedAs ?? null, chain: a?.root ? [a.root, ...chain] : chain };
  });
}

function summaryOf(verdict: ReportDoc['verdict'], d: PackageDiff, failed: ReportCheck | null, n: number): string {
  const counts = `${d.upgraded.length} upgraded, ${d.downgraded.length} downgraded, ${d.added.length} added, ${d.removed.length} removed`;
  if (verdict === 'fail' && failed) return `FAIL: ${failed.kind === 'smoke' ? 'smoke command' : `${failed.kind} health check`} ${failed.name} failed (${failed['timed-out'] ? 'timed out' : `exit ${failed.status}`}); the new deployment was not made the default. ${counts}.`;
  if (verdict === 'pass') return `PASS: ${n} check${n === 1 ? '' : 's'} passed. ${counts}.`;
  return `No checks ran. ${counts}.`;
}
