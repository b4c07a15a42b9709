/**
 * Fleets: compose once, serve as static files. `composeRepo` composes a base from a recipe
 * (recipe.ts: a JSON file) into an archive-mode OSTree repository with a summary, which any
 * web server can serve to `ostree pull` (see README "Composing for a fleet").
 */
export { composeRepo, type ComposeRepoRequest, type ComposeRepoResult } from './compose.js';
export { parseRecipe, readRecipe, type Recipe } from './recipe.js';
export { checkSigningKeys, signCommit, signSummary, type SignOptions } from './sign.js';
