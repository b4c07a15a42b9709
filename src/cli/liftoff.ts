/**
 * V8's `--liftoff-only` for a command.
 *
 * V8 tiers hot wasm functions (the solver) up to TurboFan on background threads, and Node waits
 * for those jobs before the process exits. A raised tiering budget (2e7, then 2e8) still paid
 * it: warm `install --dry-run hello` on the 63k-package repo took 0.85 s wall, 1.2 s CPU, 130 MB;
 * with Liftoff code only 0.68 s, 0.71 s CPU, 102 MB, and a 965-package solve on that repo
 * 1.25 s instead of 1.48 s. A command's solves are too short to repay TurboFan's compiles on
 * 2 cores. For commands only: long-lived users of the solver API (benches, tests) keep V8's
 * default.
 *
 * dist/bin/layer (bin.sh) passes the flag to Node, which spares loading node:v8 (~2 ms of a
 * start); a Node started otherwise gets it here. Either way the flag set is the same, and so
 * is what V8 checks the code cache against (launch.ts).
 */
import { createRequire } from 'node:module';

/** Set `--liftoff-only` unless Node was started with it. Call before anything is compiled. */
export function liftoffOnly(): void {
  if (process.execArgv.includes('--liftoff-only')) return;
  (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString('--liftoff-only');
}
