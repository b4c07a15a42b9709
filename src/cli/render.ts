/** Turning engine results into words: the transaction table, package diff, next steps, errors. */
import type { EngineResult, PackageDiff, Plan, PlanStep, ProvidedRequest } from '../engine/index.js';
import { formatEvr } from '../nevra.js';
import { escapeControl } from '../util/escape.js';

export function size(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} k`;
  return `${(n / (1 << 20)).toFixed(1)} M`;
}

/** dnf's groups, in dnf's order: what the step does, and for installs why. */
const GROUPS: { title: string; match: (s: PlanStep) => boolean }[] = [
  { title: 'Installing', match: (s) => s.action === 'install' && s.reason === 'requested' },
  { title: 'Upgrading', match: (s) => s.action === 'upgrade' },
  { title: 'Reinstalling', match: (s) => s.action === 'reinstall' },
  { title: 'Installing dependencies', match: (s) => s.action === 'install' && s.reason === 'dependency' },
  { title: 'Installing weak dependencies', match: (s) => s.action === 'install' && s.reason === 'weak-dependency' },
  { title: 'Installing', match: (s) => s.action === 'install' && !['requested', 'dependency', 'weak-dependency'].includes(s.reason) },
  { title: 'Removing', match: (s) => s.action === 'remove' && s.reason !== 'cleanup' },
  { title: 'Removing unused dependencies', match: (s) => s.action === 'remove' && s.reason === 'cleanup' },
  { title: 'Downgrading', match: (s) => s.action === 'downgrade' },
  { title: 'Obsoleting', match: (s) => s.action === 'obsolete' },
];

/**
 * dnf-like table: one group per action, then totals. Everything in it came from a repo or a
 * package, so control characters are shown escaped: metadata must not rewrite the screen the
 * user is about to confirm.
 */
export function transactionTable(steps: readonly PlanStep[]): string {
  if (steps.length === 0) return 'Nothing to do.\n';
  const rows = new Map(steps.map((s) => [s, [s.name, formatEvr(s), s.arch, s.repo, size(s.downloadSize), s.reason].map((c) => escapeControl(c))] as const));
  const all = [...rows.values()];
  const w = [0, 1, 2, 3, 4].map((i) => Math.max(...all.map((r) => r[i]!.length), ['Package', 'Version', 'Arch', 'Repo', 'Size'][i]!.length));
  const line = (r: string[]) => `  ${r.map((c, i) => (i === 4 ? c.padStart(w[i]!) : i === 5 ? c : c.padEnd(w[i]!))).join('  ')}`.trimEnd();
  const out = [line(['Package', 'Version', 'Arch', 'Repo', 'Size', 'Reason'])];
  const shown = new Set<PlanStep>();
  for (const g of GROUPS) {
    const group = steps.filter((s) => !shown.has(s) && g.match(s));
    if (group.length === 0) continue;
    out.push(`${g.title}:`);
    for (const s of group) {
      shown.add(s);
      out.push(line(rows.get(s)!));
      if (s.insteadOf?.length) out.push(`     instead of ${s.insteadOf.map((r) => escapeControl(r)).join(', ')} (requested; obsoleted by ${escapeControl(s.name)})`);
      if (s.obsoletedBy) out.push(`     obsoleted by ${escapeControl(s.obsoletedBy)}`);
      else if (s.replaces?.length && s.action !== 'obsolete') out.push(`     replacing ${s.replaces.map((r) => escapeControl(r)).join(', ')}`);
    }
  }
  const dl = steps.reduce((a, s) => a + (s.downloadSize ?? 0), 0);
  const inst = steps.reduce((a, s) => a + (s.installSize ?? 0), 0);
  out.push('', `Transaction: ${steps.length} package${steps.length === 1 ? '' : 's'}, download ${size(dl) || '0 B'}, installed size ${size(inst) || '0 B'}`);
  return out.join('\n') + '\n';
}

export function diffText(d: PackageDiff): string {
  const out: string[] = [];
  if (d.upgraded.length) out.push('Upgraded:', ...d.upgraded.map((u) => `  ${u.from} -> ${u.to}`));
  if (d.downgraded.length) out.push('Downgraded:', ...d.downgraded.map((u) => `  ${u.from} -> ${u.to}`));
  if (d.removed.length) out.push('Removed:', ...d.removed.map((n) => `  ${n}`));
  if (d.added.length) out.push('Added:', ...d.added.map((n) => `  ${n}`));
  return out.length ? out.join('\n') + '\n' : 'No package changes.\n';
}

function providedText(alreadyProvided: readonly ProvidedRequest[]): string {
  return `Already provided by the base (inactive requests): ${alreadyProvided.map((a) => escapeControl(`${a.spec} (by ${a.by})`)).join(', ')}\n`;
}

/** What the user reads before anything is done: the transaction table and inactive requests. */
export function planText(plan: Plan): string {
  const parts = [transactionTable(plan.changes)];
  if (plan.alreadyProvided.length) parts.push(providedText(plan.alreadyProvided));
  return parts.join('\n');
}

/**
 * What the user reads after a transaction: the table (unless it was shown before acting),
 * the package diff, and what happens next.
 */
export function resultText(r: EngineResult, sysroot: string, opts: { tableShown?: boolean } = {}): string {
  const parts: string[] = [];
  if (r.outcome === 'unchanged') return 'No change.\n';
  if (r.outcome === 'aborted') return 'Aborted.\n';
  if (!opts.tableShown) {
    parts.push(transactionTable(r.steps));
    if (r.alreadyProvided.length) parts.push(providedText(r.alreadyProvided));
  }
  if (r.outcome === 'dry-run') return parts.join('\n') + '\nDry run: nothing was changed.\n';
  if (r.outcome === 'downloaded') return parts.join('\n') + '\nPackages downloaded and imported; no deployment was made.\n';
  if (r.diff) parts.push(diffText(r.diff));
  const d = r.deployment!;
  parts.push(`New default deployment: ${d.osname} ${d.id}\n  ${d.path}\n`);
  if (d.booted) return parts.join('\n') + '\nIt is the booted deployment.\n';
  const hint = sysroot === '/' ? 'Run "systemctl reboot" to start it.' : `Run "layer boot-pending --sysroot ${sysroot}" (the stand-in for a reboot) to make it the booted deployment, or "layer rollback" to undo.`;
  parts.push(`Changes queued for next boot. ${hint}\n`);
  return parts.join('\n');
}

