/** The compose stage as the engine uses it (src/compose: composeTree and its plain types). */
import type { ComposeRequest } from '../compose/index.js';
export { composeTree, type ComposeResult, type ComposeStep, type ComposeRequest } from '../compose/index.js';

/** The solved plan composeTree shows its `confirm` hook (compose's ComposePlan). */
export type ComposePlan = Parameters<NonNullable<ComposeRequest['confirm']>>[0];

/** The spec part of an `alreadyProvided` item (`spec (by nevra)`). */
export function providedSpec(item: string): string {
  return item.replace(/ \(by [^)]*\)$/, '');
}
