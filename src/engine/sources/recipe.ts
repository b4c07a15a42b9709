/**
 * A recipe base (`layer init PKG…`): the base is composed from packages, and the recipe (the
 * packages and the repos) is kept in the origin and in the commit metadata, so the base can be
 * composed again later against fresh metadata. There is nothing to fetch: the transaction's
 * plan composes it (request.baseCommit '' means "compose the recipe").
 */
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
