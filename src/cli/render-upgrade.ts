/** Words for upgrades: rpm-ostree's `AvailableUpdate:` block and `Diff:` line (upgrade --check, status). */
import type { PackageDiff } from '../engine/types.js';
import { escapeControl } from '../util/escape.js';

/** rpm-ostree's `Diff:` line: zero counts left out. */
export function diffSummary(d: PackageDiff): string {
  const parts = ([['upgraded', d.upgraded], ['downgraded', d.downgraded], ['removed', d.removed], ['added', d.added]] as const)
    .filter(([, l]) => l.length > 0).map(([k, l]) => `${l.length} ${k}`);
  return parts.join(', ') || 'no package changes';
}

export interface AvailableUpdateView {
  /** The base changes: Version and Commit are shown. */
  changed: boolean;
  version: string | null;
  /** The new base commit (null: a recipe base, composed by the upgrade). */
  checksum: string | null;
  timestamp: number;
  diff: PackageDiff;
  advisories?: readonly AdvisoryView[];
  /** The check was restricted to advisories (`--security`, `--advisory`): said in the header. */
  restriction?: RestrictionView | null;
}

export interface RestrictionView {
  security: boolean;
  advisories: readonly string[];
}

export interface AdvisoryView {
  id: string;
  severity: string;
  title: string;
  cves: readonly string[];
  packages: readonly { name: string; version: string; release: string; arch: string }[];
}

/** Counts by severity, most severe first, zero counts left out: `1 critical, 2 moderate`. */
export function severityCounts(advisories: readonly AdvisoryView[]): string {
  const order = ['Critical', 'Important', 'Moderate', 'Low', 'unknown'];
  return order.map((s) => [s, advisories.filter((a) => a.severity === s).length] as const)
    .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
}

/** One block per advisory: id, severity, the packages that fix it, the CVEs (--preview, db diff --advisories). */
export function advisoryDetails(advisories: readonly AdvisoryView[]): string {
  if (advisories.length === 0) return '';
  const lines = ['SecAdvisories:'];
  for (const a of advisories) {
    for (const p of a.packages) lines.push(`  ${escapeControl(a.id)}  ${a.severity}  ${escapeControl(`${p.name}-${p.version}-${p.release}.${p.arch}`)}`);
    for (const c of a.cves) lines.push(`    ${escapeControl(c)}`);
  }
  return lines.join('\n') + '\n';
}

/** The AvailableUpdate block, as `rpm-ostree upgrade --check` and `status` print it. */
export function availableText(u: AvailableUpdateView, indent = ''): string {
  const lines = [u.restriction ? `AvailableUpdate (${restrictionText(u.restriction)}):` : 'AvailableUpdate:'];
  if (u.changed) {
    const when = new Date(u.timestamp * 1000).toISOString().replace('.000Z', 'Z');
    if (u.version) lines.push(`        Version: ${escapeControl(u.version)} (${when})`);
    if (u.checksum) lines.push(`         Commit: ${u.checksum}`);
  }
  if (u.advisories?.length) lines.push(`  SecAdvisories: ${severityCounts(u.advisories)}`);
  lines.push(`           Diff: ${diffSummary(u.diff)}`);
  return lines.map((l) => indent + l).join('\n') + '\n';
}

/**
 * What an update was restricted to, for the AvailableUpdate header: `security only`,
 * `advisory UP-1 only`, `security and advisories UP-1, UP-2 only`.
 */
export function restrictionText(r: RestrictionView): string {
  const ids = r.advisories.map((id) => escapeControl(id));
  const named = ids.length === 0 ? '' : `${ids.length === 1 ? 'advisory' : 'advisories'} ${ids.join(', ')}`;
  return `${[r.security ? 'security' : '', named].filter(Boolean).join(' and ')} only`;
}
