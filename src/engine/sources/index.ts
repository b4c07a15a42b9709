/** Base sources (base-source.ts): which one a request's base is. */
import type { Request } from '../../request/index.js';
import type { BaseSource } from './base-source.js';
import { ostreeLocalSource } from './ostree-local.js';
import { recipeSource } from './recipe.js';

export type { BaseSource } from './base-source.js';
export { ostreeLocalSource, pullFromOstree } from './ostree-local.js';
export { recipeSource } from './recipe.js';

/** The source of a request's base: a recipe when it has one, else the OSTree ref it names. */
export function baseSourceOf(request: Request): BaseSource {
  if (request.recipe) return recipeSource(request.baseRef.replace(/\/base$/, ''));
  return ostreeLocalSource(request.baseRef);
}
