/**
 * rpm version comparison through libsolv (pool_evrcmp_str, EVRCMP_COMPARE, rpm disttype):
 * `[epoch:]version[-release]`, missing epoch = 0, `~` sorts before anything (pre-releases),
 * `^` after the base version but before the next one (snapshots).
 */
import { LayerError } from '../errors.js';
import { generation, lib, withStrings } from './native.js';

let evrPool = 0;
let evrGeneration = -1;

/** -1, 0 or 1 as `a` is older, equal or newer than `b`. Needs `await loadSolver()` first. */
export function evrcmp(a: string, b: string): -1 | 0 | 1 {
  const m = lib();
  if (typeof a !== 'string' || typeof b !== 'string') throw new LayerError('LAYER_SOLVER', 'evrcmp needs two strings');
  // One long-lived pool just for comparisons: created on first use, never freed (a few KB);
  // made again after a pool snapshot replaced the heap it lived in.
  if (!evrPool || evrGeneration !== generation()) {
    evrPool = withStrings(m, ['noarch'], (arch) => m._ly_pool_create(arch));
    evrGeneration = generation();
  }
  const r = withStrings(m, [a, b], (pa, pb) => m._ly_evrcmp(evrPool, pa, pb));
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}
