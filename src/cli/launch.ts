/**
 * The `layer` bin's first code (bundled alone as dist/bin/layer.cjs by scripts/bundle.mjs): it
 * runs the CLI bundle (dist/bin/layer-main.cjs) through a V8 code cache.
 *
 * Why: compiling the 820 kB bundle cost every command ~75 ms of its ~200 ms start (`wrapSafe`
 * in a CPU profile), and Node 20 has no compile cache of its own (module.enableCompileCache is
 * Node 22). V8's cached data for a script skips that parse and carries every function the run
 * compiled, so each verb keeps its own cache, written after its first run: an `upgrade --check`
 * on the demo repos went from 365 to 329 ms of CPU. V8 rejects data that does not match the
 * source, its version or its flags (then the run compiles as before and writes fresh data);
 * a directory that cannot be written only means no cache.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liftoffOnly } from './liftoff.js';
import { Script } from 'node:vm';

// dist/bin/layer (src/cli/bin.sh) started Node without NODE_EXTRA_CA_CERTS, which Node reads
// only at startup: set again here, it is back for child processes, and src/net/http.ts reads the
// file itself for https connections.
const extraCa = process.env.LAYER_EXTRA_CA_CERTS;
if (extraCa !== undefined) {
  delete process.env.LAYER_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS ??= extraCa;
}

// Before anything is compiled: the flags are part of what V8 checks a cache against, and
// src/cli/main.ts sets the same one (liftoff.ts says why).
liftoffOnly();

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, 'layer-main.cjs');
const verb = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] ?? '') ? (process.argv[2] as string) : 'other';
// A run that only looks (a dry run, a check, help) compiles a fraction of what its verb's real
// run does, and data written by it left every later real run compiling the rest again: ~60 ms
// of an install whose cache came from an `install -n` (the e2e bench warms up with one). So the
// two kinds keep separate caches.
const LOOKING = new Set(['-n', '--dry-run', '--check', '--preview', '--download-only', '-h', '--help']);
const kind = process.argv.slice(3).some((a) => LOOKING.has(a)) ? '.look' : '';
const cacheFile = join(here, '.code-cache', `${verb}${kind}.bin`);

let cached: Buffer | undefined;
try {
  cached = readFileSync(cacheFile);
} catch {
  cached = undefined;
}
// The bundle's `#!` line is not JavaScript inside the wrapper (kept as a comment: same lines).
const source = readFileSync(main, 'utf8').replace(/^#!/, '//');
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: main,
  // No importModuleDynamically: Node 20 drops it for a script made from cached data, so the
  // bundle holds no import() (scripts/bundle.mjs turns them into require()s and checks).
  ...(cached ? { cachedData: cached } : {}),
});
if (cached === undefined || script.cachedDataRejected === true) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      rmSync(tmp, { force: true });
    }
  });
}
const run = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
const mod = { exports: {} };
run(mod.exports, createRequire(main), mod, main, here);
