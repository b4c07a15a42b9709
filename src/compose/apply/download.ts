/**
 * Step download: every package the plan installs, as a verified file in the package cache
 * (repos/packages.ts checks size and checksum against primary.xml, as the repo's sidecar of it
 * records them). Local packages, and those of a file:// repo, are used where they are. A
 * package imported before from the file the metadata names is taken from the store instead
 * (stored.ts): no download, no file.
 */
import { join } from 'node:path';
import { LayerError } from '../../errors.js';
import { downloadPackages, repoPackageKey, type PackageDownload } from '../../repos/index.js';
import { LOCAL_REPO } from '../plan.js';
import type { ApplyState } from './state.js';
import { takeStored } from './stored.js';

export async function download(s: ApplyState): Promise<void> {
  const remote: { nevra: (typeof s.installs)[number]['nevra']; item: PackageDownload }[] = [];
  // Location, checksum and size of each, from the repos' sidecars (never a parse of primary).
  const records = await s.ctx.repos.downloadRecordsOf(s.installs);
  for (const step of s.installs) {
    if (step.repo === LOCAL_REPO) {
      const local = s.plan.locals.find((l) => l.nevra === step.nevra);
      if (!local) throw new LayerError('LAYER_INTERNAL', `assertion failed: solver chose local package ${step.nevra} that was not given`);
      s.paths.set(step.nevra, local.path);
      continue;
    }
    const record = records.get(repoPackageKey(step.repo, step.nevra));
    if (takeStored(s, step, record)) continue;
    const repo = s.ctx.repos.active.find((r) => r.id === step.repo);
    if (!repo || !record) throw new LayerError('LAYER_INTERNAL', `assertion failed: no metadata record for ${step.nevra} in repo ${step.repo}`);
    remote.push({ nevra: step.nevra, item: { repo, record: { ...record, nevra: step.nevra } } });
  }
  const got = await downloadPackages(remote.map((r) => r.item), {
    cacheDir: join(s.ctx.cacheDir, 'packages'),
    report: s.ctx.report,
    ...(s.plan.options.cacheOnly || s.ctx.cacheOnly ? { cacheOnly: true } : {}),
  });
  remote.forEach((r, i) => {
    const file = got[i];
    if (!file) throw new LayerError('LAYER_INTERNAL', `assertion failed: no downloaded file for ${r.nevra}`);
    s.paths.set(r.nevra, file.path);
    if (r.item.record.checksum) s.checksums.set(r.nevra, r.item.record.checksum);
  });
}
