// Builds the `layer` bin (package.json "bin"): src/cli/main.ts and everything it imports as one
// CommonJS file, dist/bin/layer-main.cjs; its launcher, dist/bin/layer.cjs (src/cli/launch.ts),
// which runs that bundle through a V8 code cache kept per verb in dist/bin/.code-cache/; and the
// command, dist/bin/layer (src/cli/bin.sh), which starts Node on the launcher. Run by
// `npm run build` (scripts/setup.sh) and the e2e bench.
//
// Why a bundle: `node dist/cli/main.js` resolves, reads and links ~120 ES modules per command
// (~40 ms of a 150 ms dry run). Why CommonJS: Node 20 starts a .cjs entry ~5 ms sooner than an
// ES module, and native addons (better-sqlite3, fs-xattr) load without the ESM loader's
// CommonJS export scan. Measured figures: bench/e2e.bench.ts.
//
// Left out of the bundle: undici (loaded only when an http(s) transfer happens; see
// net/http.ts). better-sqlite3's JavaScript is bundled, loaded on first use, and given its
// addon's path (src/rpmdb/driver.ts). fs-xattr is an ES module,
// which a CommonJS file can require() only from Node 20.19 (package.json allows 20.18.1): it is
// bundled, its addon loaded lazily (see below).
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * fs-xattr's index.js loads `./build/Release/xattr` relative to its own import.meta.url, at
 * import time. In the bundle the addon is located through Node's resolution of the installed
 * package, and loaded on first use: commands that never touch xattrs (dry runs, status) skip
 * the ~4 ms. Its exported functions only call `addon.<fn>(...)`, so a forwarding object is enough.
 */
const xattrAddon = {
  name: 'fs-xattr-addon',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]fs-xattr[\\/]index\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const from = "const addon = createRequire(import.meta.url)('./build/Release/xattr')";
      if (!src.includes(from)) throw new Error(`${args.path}: no "${from}" (fs-xattr changed its loader; update scripts/bundle.mjs)`);
      // The id in a variable: esbuild would otherwise try to bundle the require.resolve target.
      const lazy = [
        'const fsXattrId = "fs-xattr";',
        'let loadedAddon;',
        // The addon beside this checkout (node_modules two levels above dist/bin/) is found with one
        // stat; Node's resolution of the package (~2 ms) only when it is elsewhere.
        "const besideXattr = require('node:path').join(__dirname, '../../node_modules/fs-xattr/build/Release/xattr.node');",
        "const loadXattr = () => require('node:fs').existsSync(besideXattr) ? require(besideXattr) : createRequire(require.resolve(fsXattrId))('./build/Release/xattr');",
        "const addon = new Proxy({}, { get: (_, k) => (loadedAddon ??= loadXattr())[k] });",
      ].join('\n');
      return { contents: src.replace(from, lazy), loader: 'js' };
    });
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // src/solver/native.ts finds wasm/ relative to import.meta.url; dist/bin/ is two levels below
  // the repo root like dist/solver/, so the same relative path holds. The directive comes first
  // so the whole file stays strict, as the ES modules it is made from are.
  banner: { js: `"use strict";\nconst __layerModuleUrl = require("node:url").pathToFileURL(__filename).href;` },
  define: { 'import.meta.url': '__layerModuleUrl' },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: [`${root}src/cli/launch.ts`], outfile: `${outdir}/layer.cjs`, banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } });
await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${outdir}/layer-main.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['undici'],
  // import() becomes require() (in a promise): Node 20 loses a vm.Script's dynamic-import
  // callback when the script comes from V8 cached data, so every import() in a bundle run from
  // the code cache (src/cli/launch.ts) failed with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING: https
  // repos (undici) from a verb's second run on. Checked below: none is left.
  supported: { 'dynamic-import': false },
  plugins: [xattrAddon],
  // src/solver/native.ts finds wasm/ relative to import.meta.url; dist/bin/ is two levels below
  // the repo root like dist/solver/, so the same relative path holds. The directive comes first
  // so the whole file stays strict, as the ES modules it is made from are.
  banner: { js: `"use strict";\nconst __layerModuleUrl = require("node:url").pathToFileURL(__filename).href;` },
  define: { 'import.meta.url': '__layerModuleUrl' },
  logLevel: 'warning',
});
// esbuild escapes non-ASCII characters in strings, templates and regexes (charset 'ascii'), but
// the comments it keeps hold some (→, —, ≥). One of them makes V8 hold the whole source as a
// two-byte string, which the process keeps for lazy compilation: 1.75 MB of heap instead of
// 0.87 MB in every command (measured: heap snapshot of a dry run). So they become \uXXXX
// escapes, which would mean the same character in a string, template or regex too.
const mainFile = `${outdir}/layer-main.cjs`;
const text = readFileSync(mainFile, 'utf8');
writeFileSync(mainFile, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
if (/\bimport\(/.test(text.replace(/\/\/.*$/gm, ''))) throw new Error(`${mainFile}: an import() is left (see "dynamic-import" above)`);
chmodSync(`${outdir}/layer.cjs`, 0o755);
// The command itself: a shell script that starts Node without NODE_EXTRA_CA_CERTS (see there why).
copyFileSync(`${root}src/cli/bin.sh`, `${outdir}/layer`);
chmodSync(`${outdir}/layer`, 0o755);
