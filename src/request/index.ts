/** request/: what a deployment asks for (Request) and the verbs that edit it. */
export { canonicalRequest, copyRecipe, localsToInstall, sameRequest, specsToInstall, parseRepoReplacement, repoReplacementText, type LocalPackage, type Recipe, type RepoReplacement, type Request } from './request.js';
export { addBaseRemovals, addLocalPackages, addLocalReplacements, addRepoReplacements, addPackages, resetOverrides, commitRequest, recipeRequest, removePackages, setBase, type EditOptions } from './verbs.js';
