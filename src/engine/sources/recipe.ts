/**
 * A recipe base (`layer init PKG…`): the base is composed from packages, and the recipe (the
 * packages and the repos) is kept in the origin and in the commit metadata, so the base can be
 * composed again later against fresh metadata. There is nothing to fetch: the transaction's
 * plan composes it (request.baseCommit '' means "compose the recipe").
 *
 * Every recomposed base is committed with the previous base as its parent, on the ref
 * `OSNAME/base` of the sysroot's own store, and prune keeps the whole history of a ref: so
 * `layer deploy REV` finds earlier bases by walking that history (recipeCommitOf).
 */
import { LayerError } from '../../errors.js';
import type { Checksum, Store } from '../../store/index.js';
import { commitVersion } from '../version.js';
import type { BaseSource } from './base-source.js';

export function recipeSource(osname: string): BaseSource {
  return {
    kind: 'recipe',
    refspec: `${osname}/base`,
    async fetch() {
      return null;
    },
  };
}

/**
 * The commit of `ref`'s history (newest first) that `rev` names: a checksum (or a unique
 * prefix of at least 8 hex digits), or `version=V` (the newest commit whose version is V).
 */
export function recipeCommitOf(store: Store, ref: string, rev: string): Checksum {
  const version = rev.startsWith('version=') ? rev.slice(8) : undefined;
  if (version === undefined && !/^[0-9a-f]{8,64}$/.test(rev)) {
    throw new LayerError('LAYER_USAGE', `deploy: '${rev}' is neither a commit checksum nor version=V`);
  }
  const found: Checksum[] = [];
  const seen = new Set<string>();
  for (let c = store.readRef(ref); c !== undefined && !seen.has(c) && store.hasObject(c, 'commit'); c = store.readCommit(c).parent) {
    seen.add(c);
    if (version !== undefined ? commitVersion(store, c) === version : c.startsWith(rev)) {
      if (version !== undefined) return c;
      found.push(c);
    }
  }
  const only = found[0];
  if (only !== undefined && found.length === 1) return only;
  if (found.length > 1) throw new LayerError('LAYER_USAGE', `deploy: '${rev}' names ${found.length} commits of ${ref}; give more of the checksum`);
  const what = version !== undefined ? `has version ${version}` : `is ${rev}`;
  throw new LayerError('LAYER_USAGE', `${ref}: no commit in the ref's history ${what}`, { hint: `layer status and the upgrade output show the versions and checksums of earlier bases` });
}
