#!/usr/bin/env bash
# One-time (idempotent) setup for a fresh Debian 12 machine: the native oracle tools the
# tests compare against, npm dependencies and the TypeScript build. Safe to run repeatedly;
# it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the engine's tests and benchmarks use as oracles / fixture makers.
APT_PKGS=(rpm rpm2cpio cpio createrepo-c ostree libsolv-tools dnf bubblewrap lz4 attr xz-utils zstd bzip2 python3 binutils emscripten node-acorn dpkg-dev gpg gpg-agent qemu-system-x86 busybox-static e2fsprogs time nginx skopeo umoci docker-registry chromium python3-jsonschema strace)
# Commands that prove each package is present (same order as APT_PKGS).
APT_CMDS=(rpm rpm2cpio cpio createrepo_c ostree testsolv dnf bwrap lz4 getfattr xz zstd bzip2 python3 objdump emcc emcc dpkg-source gpg gpg-agent qemu-system-x86_64 busybox mkfs.ext4 /usr/bin/time /usr/sbin/nginx skopeo umoci docker-registry /usr/bin/chromium /usr/bin/jsonschema strace)

missing=()
for i in "${!APT_CMDS[@]}"; do
  command -v "${APT_CMDS[$i]}" >/dev/null 2>&1 || missing+=("${APT_PKGS[$i]}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing tools; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# Fixture builders download Debian packages (apt-get download) and the deb63k scale repo is made
# from Debian's package index: both need apt's lists, which a fresh image may not have.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get update (no package lists yet)" >&2
    apt-get update -qq
  else
    echo "setup: apt has no package lists; run as root: apt-get update" >&2
    exit 1
  fi
fi

# npm dependencies: a clean install on a fresh clone; afterwards only when package-lock.json
# is newer than what npm last installed (npm keeps that record in node_modules/.package-lock.json).
# `npm ci` would wipe node_modules under anyone else using it, so it is kept for the first time.
if [ ! -d node_modules ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install (package-lock.json changed)" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

# dist/ by tsc (what the tests import and run), then the `layer` bin: one esbuild bundle in
# dist/bin/layer-main.cjs (one file instead of ~120 modules: ~50 ms less startup per command),
# run by the launcher dist/bin/layer.cjs through a V8 code cache (src/cli/launch.ts).
npm run --silent build
