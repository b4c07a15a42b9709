// Builds the `layer` bin (package.json "bin"): src/cli/main.ts and everything it imports as one
// CommonJS file, dist/bin/layer.cjs. Run by `npm run build` (scripts/setup.sh) and the e2e bench.
//
// Why a bundle: `node dist/cli/main.js` resolves, reads and links ~120 ES modules per command
// (~40 ms of a 150 ms dry run). Why CommonJS: Node 20 starts a .cjs entry ~5 ms sooner than an
// ES module, and native addons (better-sqlite3, fs-xattr) load without the ESM loader's
// CommonJS export scan. Measured figures: bench/e2e.bench.ts.
//
// Left out of the bundle: the native addons (they locate their .node binaries relative to
// themselves) and undici (loaded only when an http(s) transfer happens; see repos/fetch.ts).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${outdir}/layer.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'fs-xattr', 'undici'],
  // src/solver/native.ts finds wasm/ relative to import.meta.url; dist/bin/ is two levels below
  // the repo root like dist/solver/, so the same relative path holds. The directive comes first
  // so the whole file stays strict, as the ES modules it is made from are.
  banner: { js: `"use strict";\nconst __layerModuleUrl = require("node:url").pathToFileURL(__filename).href;` },
  define: { 'import.meta.url': '__layerModuleUrl' },
  logLevel: 'warning',
});
