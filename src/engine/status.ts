/** `layer status`: deployments with what their commits say (version, timestamp, base). */
import { commitMetadata, type Checksum } from '../store/index.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';

export interface DeploymentView extends Deployment {
  version: string | undefined;
  /** Commit timestamp, seconds since the epoch. */
  timestamp: number;
  baseChecksum: Checksum;
  pending: boolean;
  rollback: boolean;
}

export interface StatusView {
  sysroot: string;
  deployments: DeploymentView[];
}

export function describeStatus(path: string): StatusView {
  const s = Sysroot.open(path);
  const st = s.status();
  const deployments = st.deployments.map((d): DeploymentView => {
    const c = s.store.readCommit(d.checksum);
    const v = commitMetadata(c, 'version');
    return {
      ...d,
      version: typeof v?.value === 'string' ? v.value : undefined,
      timestamp: Number(c.timestamp),
      baseChecksum: d.origin.baseCommit,
      pending: st.pending?.id === d.id,
      rollback: st.rollback?.id === d.id,
    };
  });
  return { sysroot: path, deployments };
}
