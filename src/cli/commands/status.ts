/**
 * `layer status [--json]`. The JSON uses rpm-ostree's field names where they overlap
 * (`deployments` in boot order, `osname`, `checksum`, `serial`, `booted`, `base-checksum`,
 * `requested-packages`, `packages`, `version`, `timestamp`, ...) and adds layer's own
 * (`path`, `pending`, `rollback`, `layered-nevras`).
 */
import { describeStatus, type DeploymentView } from '../../engine/status.js';
import { parseArgs } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer status [--sysroot DIR] [--json]
  Show the deployments in boot order: booted (●), pending (next boot) and rollback.`;

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
    pinned: false,
    origin: o.baseRef,
    'base-checksum': d.baseChecksum,
    'requested-packages': o.requested,
    'requested-local-packages': o.requestedLocal.map((l) => l.nevra),
    packages: o.requested.filter((p) => !inactive.has(p)),
    'requested-base-removals': o.removed,
    version: d.version ?? null,
    timestamp: d.timestamp,
    path: d.path,
    pending: d.pending,
    rollback: d.rollback,
    'layered-nevras': o.layered ?? [],
  };
}

function text(d: DeploymentView): string {
  const o = d.origin;
  const role = d.booted ? ' (booted)' : d.pending ? ' (pending: next boot)' : d.rollback ? ' (rollback)' : '';
  const lines = [
    `${d.booted ? '●' : ' '} ${d.osname} ${d.id}${role}`,
    `      Base: ${o.baseRef} (${d.baseChecksum.slice(0, 12)})`,
    `    Commit: ${d.checksum}${d.version ? ` (version ${d.version})` : ''}`,
    `      Date: ${new Date(d.timestamp * 1000).toISOString()}`,
  ];
  if (o.requested.length) lines.push(`  LayeredPackages: ${o.requested.join(' ')}`);
  if (o.requestedLocal.length) lines.push(`  LocalPackages: ${o.requestedLocal.map((l) => l.nevra).join(' ')}`);
  if (o.inactive?.length) lines.push(`  InactiveRequests: ${o.inactive.join(' ')}`);
  if (o.removed.length) lines.push(`  RemovedBasePackages: ${o.removed.join(' ')}`);
  lines.push(`      Path: ${d.path}`);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('status', argv, {});
  const st = describeStatus(sysrootOf(p));
  emit(p, { deployments: st.deployments.map(toJson), transaction: null, sysroot: st.sysroot }, () =>
    st.deployments.length === 0 ? 'No deployments.\n' : `Deployments:\n${st.deployments.map(text).join('\n')}`);
  return 0;
}
