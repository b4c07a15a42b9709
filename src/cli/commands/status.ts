/**
 * `layer status [-v] [-b] [--pending-exit-77] [--json]`, with rpm-ostree's options. The JSON uses
 * rpm-ostree's field names where they overlap (`deployments` in boot order, `osname`, `checksum`,
 * `serial`, `booted`, `pinned`, `base-checksum`, `requested-packages`, `packages`, `version`,
 * `timestamp`, ...) and adds layer's own (`path`, `pending`, `rollback`, `layered-nevras`,
 * `removed-base-nevras`, `replaced-base-nevras`, `requested-base-repo-replacements`, and `repos`: the repos and revisions the
 * commit was composed from).
 */
import { readCachedUpdate, type CachedUpdate } from '../../engine/cached-update.js';
import { describeStatus, type ComposedFrom, type DeploymentView } from '../../engine/status.js';
import { nameOf } from '../../nevra.js';
import { Sysroot } from '../../sysroot/index.js';
import { availableText } from '../render-upgrade.js';
import { bool, parseArgs } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer status [--sysroot DIR] [--json] [-v|--verbose] [-b|--booted] [--pending-exit-77]
  Show the deployments in boot order: booted (●), pending (next boot) and rollback.
  -v, --verbose        also the layered packages with versions, base packages removed or
                       replaced (with versions), the repos (and revisions) each commit was
                       composed from, and whether it is pinned
  -b, --booted         only the booted deployment
  --pending-exit-77    exit 77 when there is a pending deployment (the next boot changes the system)`;

function toJson(d: DeploymentView): object {
  const o = d.origin;
  const inactive = new Set(o.inactive ?? []);
  return {
    id: `${d.osname}-${d.id}`,
    osname: d.osname,
    checksum: d.checksum,
    serial: d.serial,
    booted: d.booted,
    staged: false,
    pinned: d.pinned,
    ...(d.held ? { held: true } : {}),
    origin: o.baseRef,
    'base-checksum': d.baseChecksum,
    'requested-packages': o.requested,
    'requested-local-packages': o.requestedLocal.map((l) => l.nevra),
    // A recipe base's own local files (layer init ./x.rpm): part of the base, not layered.
    ...(o.recipe?.local?.length ? { 'base-local-packages': o.recipe.local.map((l) => l.nevra) } : {}),
    packages: o.requested.filter((p) => !inactive.has(p)),
    'requested-base-removals': o.removed,
    'requested-base-local-replacements': (o.replacedLocal ?? []).map((l) => l.nevra),
    'requested-base-repo-replacements': (o.replacedFromRepo ?? []).map((r) => ({ repo: r.repo, package: r.name })),
    version: d.version ?? null,
    timestamp: d.timestamp,
    path: d.path,
    pending: d.pending,
    rollback: d.rollback,
    'layered-nevras': d.layeredNevras,
    'removed-base-nevras': d.baseChanges.removed,
    'replaced-base-nevras': d.baseChanges.replaced,
    repos: d.repos,
  };
}

function repoText(r: ComposedFrom): string {
  const facts = [r.revision ? `revision ${r.revision}` : '', r.digest ? `repomd ${r.digest.slice(0, 12)}` : '', r.timestamp ? new Date(r.timestamp * 1000).toISOString() : ''];
  return `${r.id} (${facts.filter(Boolean).join(', ') || 'no metadata recorded'})`;
}

/** Base packages the origin replaces (by a local file or from a repo), by name. */
function overriddenNames(o: DeploymentView['origin']): Set<string> {
  return new Set([...(o.replacedLocal ?? []).map((l) => nameOf(l.nevra)), ...(o.replacedFromRepo ?? []).map((r) => r.name)]);
}

function text(d: DeploymentView, verbose: boolean): string {
  const o = d.origin;
  const role = d.booted ? ' (booted)' : d.pending ? ' (pending: next boot)' : d.held ? ' (held: its upgrade checks failed; layer cleanup removes it)' : d.rollback ? ' (rollback)' : '';
  const lines = [
    `${d.booted ? '●' : ' '} ${d.osname} ${d.id}${role}`,
    `      Base: ${o.baseRef} (${d.baseChecksum.slice(0, 12)})`,
    `    Commit: ${d.checksum}${d.version ? ` (version ${d.version})` : ''}`,
    `      Date: ${new Date(d.timestamp * 1000).toISOString()}`,
  ];
  if (d.pinned || verbose) lines.push(`    Pinned: ${d.pinned ? 'yes' : 'no'}`);
  if (o.requested.length) lines.push(`  LayeredPackages: ${o.requested.join(' ')}`);
  if (verbose && d.layeredNevras.length) lines.push(`  LayeredNEVRAs: ${d.layeredNevras.join(' ')}`);
  if (o.requestedLocal.length) lines.push(`  LocalPackages: ${o.requestedLocal.map((l) => l.nevra).join(' ')}`);
  if (o.recipe?.local?.length) lines.push(`  BaseLocalPackages: ${o.recipe.local.map((l) => l.nevra).join(' ')}`);
  if (o.inactive?.length) lines.push(`  InactiveRequests: ${o.inactive.join(' ')}`);
  const removed = verbose && d.baseChanges.removed.length ? d.baseChanges.removed : o.removed;
  if (removed.length) lines.push(`  RemovedBasePackages: ${removed.join(' ')}`);
  const replaced = verbose ? d.baseChanges.replaced : d.baseChanges.replaced.filter((r) => overriddenNames(o).has(nameOf(r.from)));
  if (replaced.length) lines.push(`  ReplacedBasePackages: ${replaced.map((r) => `${r.from} -> ${r.to}`).join(', ')}`);
  if (verbose) lines.push(`     Repos: ${d.repos.length ? d.repos.map(repoText).join('\n            ') : '(none recorded: a base taken as it is)'}`);
  lines.push(`      Path: ${d.path}`);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('status', argv, { verbose: { short: 'v' }, booted: { short: 'b' }, 'pending-exit-77': {} });
  const st = describeStatus(sysrootOf(p));
  const shown = bool(p, 'booted') ? st.deployments.filter((d) => d.booted) : st.deployments;
  const verbose = bool(p, 'verbose');
  // The last `upgrade --check`, shown under the deployment it was computed against (while it exists).
  const cached = cachedUpdate(st.sysroot, st.deployments);
  const under = (d: DeploymentView) => (cached && cached.deployment === d.checksum ? availableText({
    changed: cached['ref-has-new-commit'], version: cached.version, checksum: cached.checksum, timestamp: cached.timestamp, diff: cached['rpm-diff'], advisories: cached.advisories,
    restriction: cached.restriction,
  }, '  ') : '');
  emit(p, { deployments: shown.map(toJson), transaction: null, 'cached-update': cached ?? null, sysroot: st.sysroot }, () =>
    shown.length === 0 ? 'No deployments.\n' : `Deployments:\n${shown.map((d) => text(d, verbose) + under(d)).join('\n')}`);
  return bool(p, 'pending-exit-77') && st.deployments.some((d) => d.pending) ? 77 : 0;
}

function cachedUpdate(path: string, deployments: readonly DeploymentView[]): CachedUpdate | undefined {
  const u = readCachedUpdate(Sysroot.open(path).stateDir);
  return u && deployments.some((d) => d.checksum === u.deployment) ? u : undefined;
}
