/** The compose stage as the engine uses it (src/compose: composeTree and its plain types). */
export { composeTree, type ComposePlan, type ComposeResult, type ComposeStep, type ComposeRequest } from '../compose/index.js';

/** The spec part of an `alreadyProvided` item (`spec (by nevra)`). */
export function providedSpec(item: string): string {
  return item.replace(/ \(by [^)]*\)$/, '');
}
