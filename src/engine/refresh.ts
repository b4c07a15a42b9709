/** `refresh-md`: fetch fresh metadata for the current deployment's repos (or `reposdir`). */
import { join } from 'node:path';
import type { Report } from '../report.js';
import { Sysroot } from '../sysroot/index.js';
import { hostArch, openRepos } from './repos.js';

/** Fetch fresh metadata for the current deployment's repos (or `reposdir`). */
export async function refreshMetadata(opts: { sysroot: string; reposdir?: string; cacheOnly?: boolean; report: Report }): Promise<{ id: string; status: string }[]> {
  const s = Sysroot.open(opts.sysroot);
  const d = s.deployments().find((x) => x.booted) ?? s.deployments()[0];
  const repos = await openRepos({
    ...(opts.reposdir ? { reposdir: opts.reposdir } : {}), ...(d ? { tree: d.path } : {}),
    arch: hostArch(), cacheDir: join(s.stateDir, 'cache'), report: opts.report,
  });
  try {
    const out = await repos.refresh({ force: !opts.cacheOnly, cacheOnly: opts.cacheOnly ?? false });
    return out.map((o) => ({ id: o.id, status: o.status }));
  } finally {
    await repos.close();
  }
}
