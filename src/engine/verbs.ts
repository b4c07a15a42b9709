/**
 * Each command's change as an edit of the current request (src/request/verbs.ts), plus the
 * I/O an edit needs first: inspecting local packages, fetching an OSTree base.
 */
import { LayerError } from '../errors.js';
import { addLocalPackages, addPackages, commitRequest, recipeRequest, removePackages, setBase, type Request } from '../request/index.js';
import type { Checksum, Store } from '../store/index.js';
import type { Sysroot } from '../sysroot/index.js';
import { inspectLocalRpm, type LocalRpm } from './local-rpms.js';
import { resolveUninstallNames } from './uninstall-names.js';
import { editOverrides } from './overrides.js';
import { recipeCommitOf } from './sources/recipe.js';
import { addRemote, baseSourceOf, importRemoteTrust, isOciSpec, ociSource, ostreeLocalSource, ostreeRemoteSource, pullBaseRev, remoteOf, type BaseSource } from './sources/index.js';
import type { EngineRequest, RemoteBase } from './types.js';

export interface Edited {
  request: Request;
  /** Local packages new in this request (kept in the state dir once deployed). */
  newLocal: LocalRpm[];
}

export async function editRequest(sysroot: Sysroot, req: EngineRequest, current: Request | undefined): Promise<Edited> {
  const change = req.change;
  const o = { idempotent: req.options.idempotent === true };
  if (change.kind === 'init') {
    const newLocal = await inspectAll(change.localRpms ?? []);
    if (!change.fromOstree && !change.fromRemote && !change.fromOci) {
      // A recipe base keeps its local files in the recipe: every recomposition installs them again.
      const local = newLocal.map((l) => ({ sha256: l.sha256, nevra: l.nevra }));
      const recipe = { packages: change.packages, repos: [], ...(local.length ? { local } : {}) };
      return { request: recipeRequest(change.osname, recipe), newLocal };
    }
    const source = change.fromRemote ? recordRemote(sysroot.store, change.fromRemote)
      : change.fromOci ? ociSource(change.fromOci) : ostreeLocalSource(change.fromOstree ?? '');
    const commit = await source.fetch({ store: sysroot.store, report: req.report });
    if (commit === null) throw new LayerError('LAYER_INTERNAL', 'assertion failed: an OSTree base has a commit');
    sysroot.store.setRef(`${change.osname}/base`, commit);
    return { request: addLocalPackages(commitRequest(source.refspec, commit, change.packages), newLocal), newLocal };
  }
  if (!current) throw new LayerError('LAYER_INTERNAL', 'assertion failed: no current request');
  if (change.kind === 'override-remove' || change.kind === 'override-reset' || change.kind === 'override-replace' || change.kind === 'override-replace-repo') return editOverrides(sysroot, req, current);
  if (change.kind === 'uninstall') return { request: removePackages(current, resolveUninstallNames(sysroot, current, change.packages), o), newLocal: [] };
  if (change.kind === 'deploy') {
    // No REV: the base commit of --lockfile (a recipe base's snapshot is engine/recipe-deploy.ts).
    const rev = change.rev ?? req.lockfile?.lock.base.commit ?? undefined;
    if (rev === undefined) throw new LayerError('LAYER_USAGE', 'layer deploy: give one revision (a checksum or version=V) or --lockfile FILE');
    // A recipe base: an earlier composition of the recipe, from the history of its ref in this store.
    const commit = current.recipe ? recipeCommitOf(sysroot.store, current.baseRef, rev)
      : await pullBaseRev(sysroot.store, current.baseRef, rev, req.report);
    return { request: { ...setBase(current, current.baseRef, commit, current.recipe ?? null), pinned: true }, newLocal: [] };
  }
  if (change.kind === 'rebase') {
    // A new remote (--from-remote), an OCI image, a remote the store knows (NAME:REF), else a local REPO:REF.
    const known = isOciSpec(change.ref) ? undefined : remoteOf(sysroot.store, change.ref);
    const source = change.fromRemote ? recordRemote(sysroot.store, change.fromRemote)
      : isOciSpec(change.ref) ? ociSource(change.ref)
      : known ? ostreeRemoteSource(known.remote, known.ref) : ostreeLocalSource(change.ref);
    const commit = await source.fetch({ store: sysroot.store, report: req.report });
    if (commit === null) throw new LayerError('LAYER_INTERNAL', 'assertion failed: an OSTree base has a commit');
    const moved = setBase(current, source.refspec, commit, null);
    delete moved.pinned;
    return { request: moved, newLocal: [] };
  }
  if (change.kind === 'upgrade') {
    // The newest commit of the base's ref (a recipe base is recomposed by engine/upgrade.ts instead).
    const commit = await baseSourceOf(current, sysroot.store).fetch({ store: sysroot.store, report: req.report });
    if (commit === null) throw new LayerError('LAYER_INTERNAL', 'assertion failed: a recipe base is upgraded by engine/upgrade.ts');
    if (commit !== current.baseCommit && !req.options.allowDowngrade) refuseOlder(sysroot.store, current.baseCommit, commit);
    const moved = setBase(current, current.baseRef, commit, null);
    delete moved.pinned;
    return { request: removePackages(addPackages(moved, change.install, o), change.uninstall, o), newLocal: [] };
  }
  const newLocal = await inspectAll(change.localRpms);
  const withSpecs = addPackages(current, change.packages, o);
  const request = addLocalPackages(withSpecs, newLocal, o);
  return { request, newLocal: newLocal.filter((l) => !current.requestedLocal.some((c) => c.sha256 === l.sha256)) };
}

/** The local packages named on a command line; the same file named twice is one. */
async function inspectAll(files: readonly string[]): Promise<LocalRpm[]> {
  const out: LocalRpm[] = [];
  for (const file of files) {
    const l = await inspectLocalRpm(file);
    if (!out.some((n) => n.sha256 === l.sha256)) out.push(l);
  }
  return out;
}

/** Records `r` as a remote of the store (its keys imported, verification required by them): its source. */
function recordRemote(store: Store, r: RemoteBase): BaseSource {
  addRemote(store, r.remote, r.url, importRemoteTrust(store, r.remote, r.trust ?? {}));
  return ostreeRemoteSource({ name: r.remote, url: r.url }, r.ref);
}

/**
 * rpm-ostree's downgrade protection: a base commit whose timestamp is older than the current
 * one's is refused (a ref moved back, a mirror serving an old commit) unless --allow-downgrade.
 */
export function refuseOlder(store: Store, from: Checksum, to: Checksum): void {
  const a = store.readCommit(from).timestamp;
  const b = store.readCommit(to).timestamp;
  if (b >= a) return;
  const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString().replace('.000Z', 'Z');
  throw new LayerError('LAYER_DOWNGRADE',
    `Upgrade target revision '${to}' with timestamp '${iso(b)}' is chronologically older than current revision '${from}' with timestamp '${iso(a)}'; use --allow-downgrade to permit`,
    { hint: 'layer upgrade --allow-downgrade' });
}
