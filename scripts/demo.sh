#!/usr/bin/env bash
# The README's main job: a demo sysroot built from fixture repos served over HTTP on
# 127.0.0.1; an OS update repo appears: `layer upgrade --check`, `layer upgrade`,
# `layer boot-pending` (the seed's `rpm-ostree upgrade` + reboot); `layer install openssl`, status and package diff, `openssl version` run inside the
# new deployment (bubblewrap), then `layer rollback` and proof the default has no openssl.
# Runs scripts/setup.sh first (tools, npm deps, build), so it works from a fresh clone.
# Work dir: .cache/demo-run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.cache/demo-run
S=$WORK/sysroot
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
layer() { echo "\$ layer $*"; node "$ROOT/dist/cli/main.js" "$@"; }

# One command from a fresh clone: setup installs the Debian tools (as root), npm deps, and builds.
step "Setup (Debian tools, npm dependencies, build): scripts/setup.sh"
bash scripts/setup.sh

step "Fixture repos: real Debian binaries repackaged as RPMs (cached after the first run)"
FIX=$(npx tsx fixtures/demo/build.ts 2>/dev/null)
BASE_REPO=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).base)' "$FIX")
UPDATES_REPO=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).updates)' "$FIX")
OS_UPDATE_REPO=$(npx tsx fixtures/demo/os-update.ts 2>/dev/null)
echo "base:    $BASE_REPO"
echo "updates: $UPDATES_REPO"
echo "os update (served from the start, configured only when it 'appears'): $OS_UPDATE_REPO"

step "Serving them over HTTP on 127.0.0.1"
rm -rf "$WORK" && mkdir -p "$WORK/repos.d"
node -e '
  const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
  const roots = { base: process.argv[1], updates: process.argv[2], "os-updates": process.argv[4] };
  const srv = http.createServer((req, res) => {
    const [, repo, ...rest] = decodeURIComponent(new URL(req.url, "http://x").pathname).split("/");
    const root = roots[repo]; const file = root && path.join(root, ...rest);
    if (!file || !file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { "content-length": fs.statSync(file).size }); fs.createReadStream(file).pipe(res);
  });
  srv.listen(0, "127.0.0.1", () => { fs.writeFileSync(process.argv[3], String(srv.address().port)); });
' "$BASE_REPO" "$UPDATES_REPO" "$WORK/port" "$OS_UPDATE_REPO" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
cat > "$WORK/repos.d/demo.repo" <<REPO
[base]
name=Demo base (Debian bookworm binaries)
baseurl=http://127.0.0.1:$PORT/base
gpgcheck=0

[updates]
name=Demo updates (openssl)
baseurl=http://127.0.0.1:$PORT/updates
gpgcheck=0
REPO
echo "repos: http://127.0.0.1:$PORT/base, http://127.0.0.1:$PORT/updates"

step "layer init: compose a base (bash, coreutils, libc) and deploy it on a directory sysroot"
layer init -y --sysroot "$S" --osname demo --reposdir "$WORK/repos.d" filesystem setup demo-release bash coreutils libc-bin

step "An OS update repo appears (demo-release 1.1, with a security advisory)"
cat > "$WORK/repos.d/os-updates.repo" <<REPO
[os-updates]
name=Demo OS updates
baseurl=http://127.0.0.1:$PORT/os-updates
gpgcheck=0
metadata_expire=0
REPO
cat "$WORK/repos.d/os-updates.repo"

step "layer upgrade --check: metadata only, nothing downloaded or deployed"
layer upgrade --check --sysroot "$S" --reposdir "$WORK/repos.d"

step "layer upgrade: the base recomposed from its recipe against the new metadata"
layer upgrade --sysroot "$S" --reposdir "$WORK/repos.d"

step "layer boot-pending: the stand-in for the reboot"
layer boot-pending --sysroot "$S"
layer status --sysroot "$S" -b

step "layer install openssl: recomposed from the base, deployed as the new default"
layer install -y --sysroot "$S" openssl

step "layer status"
layer status --sysroot "$S"

step "layer db diff (booted -> pending)"
layer db diff --sysroot "$S"

NEW=$(node "$ROOT/dist/cli/main.js" status --sysroot "$S" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).deployments[0].path)')
step "openssl version, run inside the new deployment with bubblewrap"
node --input-type=module -e '
  const { runInSandbox } = await import(process.argv[1] + "/dist/compose/sandbox.js");
  const r = await runInSandbox(process.argv[2], { argv: ["/usr/bin/openssl", "version"], env: { PATH: "/usr/bin" } });
  process.stdout.write(r.output);
  if (r.exitCode !== 0) { console.error("openssl exited " + r.exitCode); process.exit(1); }
' "$ROOT" "$NEW"

step "layer rollback: the base is the default again (only boot entries change)"
layer rollback --sysroot "$S"
DEF=$(node "$ROOT/dist/cli/main.js" status --sysroot "$S" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).deployments[0].path)')
layer status --sysroot "$S"
if [ -e "$DEF/usr/bin/openssl" ] || node "$ROOT/dist/cli/main.js" db list --sysroot "$S" 0 | grep -q openssl; then
  echo "demo: FAILED: the default deployment still has openssl" >&2; exit 1
fi
echo "The default deployment has no openssl: $DEF/usr/bin/openssl does not exist, and db list shows no openssl."

step "Done. Sysroot left in $S (layer rollback again to return to openssl)."
