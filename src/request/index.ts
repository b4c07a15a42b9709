/** request/: what a deployment asks for (Request) and the verbs that edit it. */
export { canonicalRequest, sameRequest, specsToInstall, type LocalPackage, type Recipe, type Request } from './request.js';
export { addBaseRemovals, addLocalPackages, addLocalReplacements, addPackages, resetOverrides, commitRequest, recipeRequest, removePackages, setBase, type EditOptions } from './verbs.js';
