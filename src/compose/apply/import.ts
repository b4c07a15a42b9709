/**
 * Step import: one store commit per package (src/import), reused when the same header was
 * imported before — a recomposition from cached packages pays only a lookup per package. The
 * packages' refs are set after one syncfs for all of them (not one per package): a crash before
 * it leaves unreferenced objects only, which prune removes. With ctx.deferRefs the refs go
 * back to the caller instead, to be set after the deploy's own syncfs (one sync, not two).
 */
import { importRpm } from '../../import/index.js';
import type { PendingRef } from '../types.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

export async function importPackages(s: ApplyState): Promise<void> {
  const progress = s.ctx.report.progress('importing', s.installs.length, 'items');
  const refs: PendingRef[] = [];
  for (const step of s.installs) {
    const imported = await importRpm(s.ctx.store, need(s.paths, step.nevra, 'downloaded file'), { report: s.ctx.report, deferRef: true });
    s.commits.set(step.nevra, imported.commit);
    if (!imported.reused) refs.push([imported.ref, imported.commit]);
    progress.tick(1);
  }
  if (s.ctx.deferRefs) s.refs.push(...refs);
  else if (refs.length > 0) {
    s.ctx.store.syncFilesystem();
    for (const [ref, commit] of refs) s.ctx.store.setRef(ref, commit, { synced: true });
  }
  progress.done();
}
