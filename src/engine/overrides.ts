/**
 * rpm-ostree's base overrides, checked against the base commit's own package list (never a
 * deployment's mutable copy): `override remove NAME` must name exactly one base package
 * ("Package X not found" / "Multiple packages match X", rpm-ostree's words); `override replace
 * FILE.rpm` must replace a package the base has (the file is kept by content, like a local
 * install; the solver unlocks only that base package); `override replace --from repo=NAME PKG`
 * names base packages too — whether repo NAME has them is checked when the plan loads the repos.
 */
import { LayerError } from '../errors.js';
import { addBaseRemovals, addLocalReplacements, addRepoReplacements, resetOverrides, type Request } from '../request/index.js';
import { inspectLocalRpm, type LocalRpm } from './local-rpms.js';
import type { Sysroot } from '../sysroot/index.js';
import { join } from 'node:path';
import { listCommitPackages } from './db.js';
import type { EngineRequest } from './types.js';

export async function editOverrides(sysroot: Sysroot, req: EngineRequest, current: Request): Promise<{ request: Request; newLocal: LocalRpm[] }> {
  const o = { idempotent: req.options.idempotent === true };
  const change = req.change;
  if (change.kind === 'override-reset') return { request: resetOverrides(current, change.packages, o), newLocal: [] };
  if (change.kind === 'override-replace') {
    const base = await listCommitPackages(sysroot.store, current.baseCommit, join(sysroot.stateDir, 'cache'));
    const locals: LocalRpm[] = [];
    for (const file of change.localRpms) {
      const l = await inspectLocalRpm(file);
      if (!base.some((p) => p.name === l.name)) {
        throw new LayerError('LAYER_NO_MATCH', `Package "${l.name}" not found in the base (${l.nevra} replaces nothing)`, { hint: `to add it, layer install ${file}` });
      }
      if (!locals.some((x) => x.sha256 === l.sha256)) locals.push(l);
    }
    return { request: addLocalReplacements(current, locals, o), newLocal: locals };
  }
  if (change.kind === 'override-replace-repo') {
    const base = await listCommitPackages(sysroot.store, current.baseCommit, join(sysroot.stateDir, 'cache'));
    for (const name of change.packages) oneBasePackage(base, name, 'override replace --from takes the name of a package of the base (layer db list)');
    return { request: addRepoReplacements(current, change.repo, change.packages, o), newLocal: [] };
  }
  if (change.kind !== 'override-remove') throw new LayerError('LAYER_INTERNAL', `assertion failed: ${change.kind} is not an override`);
  const base = await listCommitPackages(sysroot.store, current.baseCommit, join(sysroot.stateDir, 'cache'));
  for (const name of change.packages) oneBasePackage(base, name, 'override remove takes the name of a package of the base (layer db list)');
  return { request: addBaseRemovals(current, change.packages, o), newLocal: [] };
}

/** rpm-ostree's rule: an override names exactly one package of the base. */
function oneBasePackage(base: readonly { name: string; nevra: string }[], name: string, hint: string): void {
  const matches = base.filter((p) => p.name === name);
  if (matches.length === 0) throw new LayerError('LAYER_NO_MATCH', `Package "${name}" not found`, { hint });
  if (matches.length > 1) {
    throw new LayerError('LAYER_USAGE', `Multiple packages match "${name}": ${matches.map((m) => m.nevra).join(', ')}`, { hint: 'overriding install-only versions one by one is not supported yet' });
  }
}
