/**
 * Step import: one store commit per package (src/import), reused when the same header was
 * imported before — a recomposition from cached packages pays only a lookup per package. The
 * packages' refs are set after one syncfs for all of them (not one per package): a crash before
 * it leaves unreferenced objects only, which prune removes. With ctx.deferRefs the refs go
 * back to the caller instead, to be set after the deploy's own syncfs (one sync, not two).
 *
 * Packages are imported IMPORTS_IN_FLIGHT at a time: each one is mostly waiting (file reads on
 * libuv's pool, a decompressor child for xz/zstd payloads), so overlapping them hides the
 * waits. Store writes are synchronous with unique temp names, so imports never interleave
 * inside one object; two packages shipping the same file just publish the same object.
 */
import pLimit from 'p-limit';
import { importRpm } from '../../import/index.js';
import type { PendingRef } from '../types.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

/** Packages imported at once (each streams through 256 KiB buffers: memory stays bounded). */
const IMPORTS_IN_FLIGHT = 4;

export async function importPackages(s: ApplyState): Promise<void> {
  // Those taken from the store (stored.ts) have their commit already.
  const todo = s.installs.filter((step) => !s.commits.has(step.nevra));
  const progress = s.ctx.report.progress('importing', todo.length, 'items');
  const refs: PendingRef[] = [];
  const limit = pLimit(IMPORTS_IN_FLIGHT);
  const results = await Promise.allSettled(todo.map((step) => limit(async () => {
    const path = need(s.paths, step.nevra, 'downloaded file');
    const opened = need(s.rpms, step.nevra, 'opened package');
    const checksum = s.checksums.get(step.nevra);
    const imported = await importRpm(s.ctx.store, path, {
      report: s.ctx.report, deferRef: true, opened, ...(checksum ? { fileChecksum: checksum } : {}),
    });
    s.commits.set(step.nevra, imported.commit);
    if (!imported.reused) refs.push([imported.ref, imported.commit]);
    progress.tick(1);
  })));
  // Every import has stopped before the first failure is reported: nothing writes behind it.
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (s.ctx.deferRefs) s.refs.push(...refs);
  else if (refs.length > 0) {
    s.ctx.store.syncFilesystem();
    for (const [ref, commit] of refs) s.ctx.store.setRef(ref, commit, { synced: true });
  }
  progress.done();
}
