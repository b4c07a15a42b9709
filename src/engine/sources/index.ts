/** Base sources (base-source.ts): which one a request's base is. */
import { LayerError } from '../../errors.js';
import type { Report } from '../../report.js';
import type { Request } from '../../request/index.js';
import { isChecksum, type Checksum, type Store } from '../../store/index.js';
import type { BaseSource } from './base-source.js';
import { ostreeLocalSource, pullFromOstree } from './ostree-local.js';
import { ostreeRemoteSource, pullFromRemote, remoteOf } from './ostree-remote.js';
import { recipeSource } from './recipe.js';
import { isOciSpec, ociSource } from './oci.js';
import { remoteVerification } from './remote-verify.js';

export type { BaseSource } from './base-source.js';
export { ostreeLocalSource, pullFromOstree } from './ostree-local.js';
export { recipeSource } from './recipe.js';
export { isOciSpec, ociSource, parseOciSpec, pullFromOci, type OciRef } from './oci.js';
export { importRemoteTrust, remoteOptions, remoteVerification, verifySigned, type RemoteTrust, type RemoteVerification } from './remote-verify.js';
export { addRemote, ostreeRemoteSource, pullFromRemote, remoteOf, remoteUrl, resolveRemoteRef, type PullOptions, type PullResult } from './ostree-remote.js';

/**
 * The source of a request's base: a recipe when it has one; `NAME:REF` where NAME is a remote
 * of `store`'s config (an HTTP archive repo, `layer init --from-remote`); else the local OSTree
 * `REPO:REF` it names.
 */
export function baseSourceOf(request: Request, store?: Store): BaseSource {
  if (request.recipe) return recipeSource(request.baseRef.replace(/\/base$/, ''));
  if (isOciSpec(request.baseRef)) return ociSource(request.baseRef);
  const remote = store ? remoteOf(store, request.baseRef) : undefined;
  if (remote) return ostreeRemoteSource(remote.remote, remote.ref);
  return ostreeLocalSource(request.baseRef);
}

/**
 * A given commit of the base `spec` names (`layer deploy REV`): from the HTTP remote when
 * `spec` names one (a checksum only: the remote's history is not walked for `version=V`), else
 * from the local repo (pullFromOstree).
 */
export async function pullBaseRev(store: Store, spec: string, rev: string | undefined, report: Report): Promise<Checksum> {
  if (isOciSpec(spec)) throw new LayerError('LAYER_USAGE', `deploy: the base ${spec} is an OCI image; it has no commit history to choose from`, { hint: 'push the wanted image under a tag and layer rebase to it' });
  const remote = remoteOf(store, spec);
  if (!remote) return pullFromOstree(store, spec, rev);
  if (rev !== undefined && !isChecksum(rev)) {
    throw new LayerError('LAYER_USAGE', `deploy ${rev}: the base ${spec} is pulled over HTTP; give a commit checksum`, {
      hint: 'version=V is looked up in local OSTree repos only so far',
    });
  }
  const verify = remoteVerification(store, remote.remote.name);
  return (await pullFromRemote(store, remote.remote.url, rev ?? remote.ref, { report, ...(verify ? { verify } : {}) })).commit;
}
