/**
 * The solver stage: libsolv (wasm) behind a small typed API.
 *
 *   await loadSolver();                       // once; everything below is synchronous
 *   using pool = new Pool({ arch: 'x86_64' });
 *   const sys = pool.addRepo('@System', { kind: 'solv', bytes }); pool.setInstalled(sys);
 *   pool.addRepo('appstream', { kind: 'records', records }, { priority: 0 });
 *   const res = pool.solve([{ action: 'install', select: { by: 'name', name: 'vim' } }], { best: true });
 *
 * Inputs and outputs are the plain values of ./types.ts; nothing here writes to stdout.
 */
import { heapBytes, loadModule } from './native.js';

export { Pool, Repo, runTestcase, type PoolOptions, type TestcaseRun } from './pool.js';
export type { SnapshotOptions } from './snapshot.js';
export { evrcmp } from './evr.js';
export { evrOf } from './encode.js';
export { splitEvr } from './decode.js';
export type * from './types.js';

/** Diagnostics: bytes of wasm memory reserved by the solver (for leak checks). */
export function solverHeapBytes(): number {
  return heapBytes();
}

/** Instantiate the libsolv wasm module (idempotent; concurrent calls share one load). */
export async function loadSolver(): Promise<void> {
  await loadModule();
}
