/** OSTree static deltas: the on-disk format, generation in an archive repo, part execution. */
export * from './format.js';
export { generateDelta, listDeltas, reindexDeltas, type DeltaResult, type GenerateOptions } from './generate.js';
export { bspatch } from './bspatch.js';
export { executePart, type PartOutput } from './apply.js';
