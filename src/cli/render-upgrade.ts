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
}

/** The AvailableUpdate block, as `rpm-ostree upgrade --check` and `status` print it. */
export function availableText(u: AvailableUpdateView, indent = ''): string {
  const lines = ['AvailableUpdate:'];
  if (u.changed) {
    const when = new Date(u.timestamp * 1000).toISOString().replace('.000Z', 'Z');
    if (u.version) lines.push(`        Version: ${escapeControl(u.version)} (${when})`);
    if (u.checksum) lines.push(`         Commit: ${u.checksum}`);
  }
  lines.push(`           Diff: ${diffSummary(u.diff)}`);
  return lines.map((l) => indent + l).join('\n') + '\n';
}
