/**
 * Step import: one store commit per package (src/import), reused when the same header was
 * imported before — a recomposition from cached packages pays only a lookup per package.
 */
import { importRpm } from '../../import/index.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

export async function importPackages(s: ApplyState): Promise<void> {
  const progress = s.ctx.report.progress('importing', s.installs.length, 'items');
  for (const step of s.installs) {
    const imported = await importRpm(s.ctx.store, need(s.paths, step.nevra, 'downloaded file'), { report: s.ctx.report });
    s.commits.set(step.nevra, imported.commit);
    progress.tick(1);
  }
  progress.done();
}
