/**
 * Step checkout: the base (minus the files of packages the plan removes) unioned with every
 * installed package's commit, by hardlinks, into `<scratch>/root`. A file two sources ship
 * with different content is a conflict naming both owners (a base package by its rpmdb entry).
 * When nothing but the rpmdb writer would touch that tree, no tree is made: the union is built
 * from objects instead (direct.ts).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError } from '../../errors.js';
import { TAG } from '../../rpm/index.js';
import { FileConflictError, type Checksum } from '../../store/index.js';
import { rpmPathOf, treePathOf } from '../../util/image-paths.js';
import type { BaseSet } from '../base.js';
import { directUnion, rpmdbWritable } from './direct.js';
import { ldconfigKey, LDCONFIG_REUSED, noteIntoUnion } from './ldconfig-memo.js';
import { checkoutPartial, ldconfigInputs } from './partial.js';
import { scriptletTransaction, scriptletWork } from './scriptlets.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

/** Files (rpm paths) a base package owns, from its header (dirnames + basenames). */
function ownedPaths(header: { strings(tag: number): string[]; numbers(tag: number): number[] }): string[] {
  const names = header.strings(TAG.BASENAMES);
  const dirs = header.strings(TAG.DIRNAMES);
  const idx = header.numbers(TAG.DIRINDEXES);
  return names.map((n, i) => `${dirs[idx[i] ?? 0] ?? '/'}${n}`);
}

/** The base commit without the removed packages' files (committed, so the union can use it). */
async function prunedBase(s: ApplyState): Promise<Checksum | null> {
  const baseCommit = s.plan.base.commit;
  if (!baseCommit || s.plan.removed.length === 0) return baseCommit;
  // Drop the removed packages' files (not directories: other packages may own them).
  const removed = new Set<string>(s.plan.removed);
  const pruned = join(s.scratch, 'pruned');
  await s.ctx.store.checkout(baseCommit, pruned);
  const keep = new Set(s.kept.flatMap((p) => ownedPaths(p.header)));
  for (const p of s.base.packages.filter((x) => removed.has(x.nevra))) {
    for (const f of ownedPaths(p.header)) {
      if (keep.has(f)) continue;
      const at = join(pruned, treePathOf(f));
      const st = await stat(at).catch(() => undefined);
      if (st && !st.isDirectory()) await rm(at, { force: true });
    }
  }
  const commit = await s.ctx.store.commitTree(pruned, { parent: null, subject: 'layer: base minus removed packages' });
  await rm(pruned, { recursive: true, force: true });
  return commit;
}

export async function assemble(s: ApplyState): Promise<void> {
  // Nothing but the rpmdb writer would touch the tree: build it from objects (direct.ts).
  const work = scriptletWork(s);
  s.union = directUnion(s, work !== 'none');
  if (s.union) return;
  // All that would touch it is ldconfig: check out only what ldconfig reads (partial.ts), or
  // nothing at all when an earlier compose noted ldconfig's output for the same inputs
  // (ldconfig-memo.ts): the commit is then built from objects, as direct.ts does.
  const inputs = work === 'ldconfig' ? ldconfigInputs(s) : undefined;
  if (inputs) {
    const { txn, options } = scriptletTransaction(s);
    const key = ldconfigKey(inputs, txn, options);
    if (noteIntoUnion(s.ctx.store, s.ctx.cacheDir, key, inputs.union, () => rpmdbWritable(s, inputs.union))) {
      s.ctx.report.info('scriptlet.ldconfig-reused', LDCONFIG_REUSED);
      s.union = inputs.union;
      return;
    }
    s.partial = checkoutPartial(s, inputs, key);
    return;
  }
  const baseCommit = await prunedBase(s);
  const layers = [
    ...(baseCommit ? [{ commit: baseCommit, owner: '@base' }] : []),
    ...s.installs.map((step) => ({ commit: need(s.commits, step.nevra, 'package commit'), owner: step.nevra as string })),
  ];
  try {
    if (layers.length === 0) await mkdir(s.root, { mode: 0o755 });
    else await s.ctx.store.checkoutUnion(layers, s.root, s.plan.options.replaceFiles ? { replaceFiles: true } : {});
  } catch (err) {
    if (!(err instanceof FileConflictError)) throw err;
    throw conflictError(err, s.base);
  }
}

function conflictError(err: FileConflictError, base: BaseSet): LayerError {
  const { path, owners } = err.conflict;
  const name = (o: string) => {
    if (o !== '@base') return `package ${o}`;
    const owner = base.rpmdb?.ownersOf(rpmPathOf(path))[0];
    return owner ? `base package ${owner.nevra}` : 'the base image';
  };
  return new LayerError('LAYER_FILE_CONFLICT', `file conflict at ${rpmPathOf(path)}: ${name(owners[0])} and ${name(owners[1])} both ship it with different content`, {
    hint: 'remove one of the packages, or allow replacing files (--replace-files)',
    cause: err,
  });
}
