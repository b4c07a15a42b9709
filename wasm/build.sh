#!/usr/bin/env bash
# Reproducible build of libsolv 0.7.23 (+ expat for its XML readers) to WebAssembly
# from Debian bookworm's source packages, plus layer's own C shim (wasm/shim.c).
#
#   bash wasm/build.sh           fetch sources if needed, build, write wasm/libsolv.{wasm,cjs}
#                                and wasm/PROVENANCE.json
#   bash wasm/build.sh --check   rebuild into a temp dir; fail if the outputs differ from
#                                the committed ones
#   bash wasm/build.sh --fetch   only obtain + verify the sources in wasm/src (used by tests
#                                that replay libsolv's own testcases)
#
# Needs: dpkg-dev (apt-get source), emscripten + node-acorn (Debian's emcc 3.1.6),
# root for the deb-src entry. Sources land in wasm/src/ (gitignored), never vendored.
#
# Why emcc directly and not CMake: libsolv's CMake probes (qsort_r, linker scripts)
# misfire under emscripten; the source list and defines below mirror what Debian's
# `debian/rules` enables, restricted to what the shim and testcases need.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

LIBSOLV_VERSION=0.7.23-1+deb12u1
EXPAT_VERSION=2.5.0-1+deb12u2
# sha256 of the exact Debian source files (verified after download).
declare -A SHA256=(
  [libsolv_0.7.23-1+deb12u1.dsc]=4689e8d2d84cd8152c4f485830b7b7455e42dd491e6d63fdad77f7bf021e6f3f
  [libsolv_0.7.23.orig.tar.gz]=0286155964373c6cc3802d025750786c3ee79608d5cb884598e110e3918bb2fe
  [libsolv_0.7.23-1+deb12u1.debian.tar.xz]=644d8eb0dce42fc119610597420ff1b74d33bf9bbd656c26de3a819004392a2c
  [expat_2.5.0-1+deb12u2.dsc]=6fc87dbd01f49999ed368cfb37c08d35e41348dda2281d60642f3aa14cb77e32
  [expat_2.5.0.orig.tar.gz]=ab00ee05c7067fd10a35c5d2a4922ebba746ddd50ff83b79c828da17bbdf1757
  [expat_2.5.0-1+deb12u2.debian.tar.xz]=7e29f5db5067e55193540089ed0f3ec9676704cf79dcea81a9bfb9f49435ae53
)

mode=build
case "${1:-}" in
  --check) mode=check ;;
  --fetch) mode=fetch ;;
  "") ;;
  *) echo "usage: $0 [--check|--fetch]" >&2; exit 2 ;;
esac

die() { echo "wasm/build.sh: $*" >&2; exit 1; }

# ---------- sources ----------

ensure_deb_src() {
  command -v dpkg-source >/dev/null || die "dpkg-source missing: apt-get install -y dpkg-dev"
  local f=/etc/apt/sources.list.d/layer-src.sources
  if ! apt-cache showsrc libsolv 2>/dev/null | grep -q "^Version: ${LIBSOLV_VERSION}\$"; then
    if [ ! -e "$f" ]; then
      [ "$(id -u)" = 0 ] || die "need root to add $f (deb-src for bookworm)"
      # Same mirror, suites and keyring as the system's debian.sources, source packages only.
      cat >"$f" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    apt-get update -qq
  fi
}

verify() {
  local file=$1 want=${SHA256[$1]} got
  got=$(sha256sum "src/$file" | cut -d' ' -f1)
  [ "$got" = "$want" ] || die "sha256 mismatch for $file: got $got, want $want"
}

# When bookworm's mirror has moved on to a newer revision, the pinned one is still on
# snapshot.debian.org (the date the system's debian.sources names); hashes are verified anyway.
SNAPSHOT=https://snapshot.debian.org/archive/debian/20250520T000000Z/pool/main
fetch_snapshot() { # pkg version pooldir
  local pkg=$1 ver=$2 pooldir=$3 f
  for f in "${pkg}_${ver}.dsc" "${pkg}_${ver%-*}.orig.tar.gz" "${pkg}_${ver}.debian.tar.xz"; do
    curl -fsSL --retry 2 -o "src/$f" "$SNAPSHOT/$pooldir/${f//+/%2B}" || return 1
  done
}

fetch_one() { # pkg version dir pooldir
  local pkg=$1 ver=$2 dir=$3 upver=${2%-*}
  if [ ! -f "src/$dir/.layer-extracted" ]; then
    ensure_deb_src
    mkdir -p src
    (cd src && rm -rf "$dir" && apt-get source -qq --download-only "$pkg=$ver" >/dev/null 2>&1) ||
      fetch_snapshot "$pkg" "$ver" "$4" ||
      die "apt-get source $pkg=$ver failed and snapshot.debian.org is unreachable (is deb-src configured? see $0)"
    for f in "${pkg}_${ver}.dsc" "${pkg}_${upver}.orig.tar.gz" "${pkg}_${ver}.debian.tar.xz"; do verify "$f"; done
    (cd src && dpkg-source --no-check -x "${pkg}_${ver}.dsc" "$dir" >/dev/null)
    touch "src/$dir/.layer-extracted"
  else
    for f in "${pkg}_${ver}.dsc" "${pkg}_${upver}.orig.tar.gz" "${pkg}_${ver}.debian.tar.xz"; do verify "$f"; done
  fi
}

fetch_one libsolv "$LIBSOLV_VERSION" libsolv libs/libsolv
fetch_one expat "$EXPAT_VERSION" expat e/expat
[ "$mode" = fetch ] && exit 0

# ---------- toolchain ----------

command -v emcc >/dev/null || die "emcc missing: apt-get install -y emscripten node-acorn"
export NODE_PATH=/usr/share/nodejs  # Debian's emcc optimizer needs node-acorn from here
export SOURCE_DATE_EPOCH=0
# sed reads to the end: `head -1` closed the pipe early and emcc (python) died of EPIPE
EMCC_VERSION=$(emcc --version | sed -n 1p)

obj=$(mktemp -d)
if [ "$mode" = check ]; then out=$obj/out; mkdir -p "$out"; else out=$here; fi
trap 'rm -rf "$obj"' EXIT

# Compile from a fresh extraction of the verified source packages (Debian patches applied),
# never from the working copy in wasm/src, which tests and people may poke at.
S=$obj/src
mkdir -p "$S"
(cd "$S" && dpkg-source --no-check -x "$here/src/libsolv_${LIBSOLV_VERSION}.dsc" libsolv >/dev/null &&
  dpkg-source --no-check -x "$here/src/expat_${EXPAT_VERSION}.dsc" expat >/dev/null) ||
  die "extracting the source packages failed"

# Generated headers (what CMake would configure): tiny, written here so the build is
# self-contained. Kept in the object dir so no absolute path leaks into outputs.
mkdir -p "$obj/gen"
sed -e 's/@VERSION@/0.7.23/; s/@LIBSOLV_MAJOR@/0/; s/@LIBSOLV_MINOR@/7/; s/@LIBSOLV_PATCH@/23/' \
    -e 's/^#cmakedefine \(LIBSOLV_FEATURE_COMPLEX_DEPS\|LIBSOLV_FEATURE_MULTI_SEMANTICS\|LIBSOLVEXT_FEATURE_RPMMD\|LIBSOLVEXT_FEATURE_HELIXREPO\)$/#define \1 1/' \
    -e 's/^#cmakedefine .*$//' "$S/libsolv/src/solvversion.h.in" >"$obj/gen/solvversion.h"
cat >"$obj/gen/expat_config.h" <<'EOF'
#ifndef EXPAT_CONFIG_H
#define EXPAT_CONFIG_H 1
#define BYTEORDER 1234
#define HAVE_FCNTL_H 1
#define XML_DEV_URANDOM 1
#define HAVE_INTTYPES_H 1
#define HAVE_MEMORY_H 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define PACKAGE "expat"
#define PACKAGE_NAME "expat"
#define PACKAGE_VERSION "2.5.0"
#define STDC_HEADERS 1
#define XML_CONTEXT_BYTES 1024
#define XML_DTD 1
#define XML_NS 1
#endif
EOF

# solv_sort() -> our stable glibc-order qsort_r (wasm/msort.c). util.c only takes its direct
# qsort_r branch on glibc/newlib, so it alone is compiled with __NEWLIB__ (musl ignores it).
cat >"$obj/gen/qsort_r_decl.h" <<'EOF'
#include <stddef.h>
void qsort_r(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *, void *), void *arg);
EOF

# Debian builds libsolv with MULTI_SEMANTICS and DEBIAN; we keep both so testcases behave
# exactly like the native `testsolv` oracle (the shim switches pools to rpm semantics).
DEFS=(-DHAVE_QSORT_R=1 -DHAVE_STRCHRNUL=1 -DHAVE_FOPENCOOKIE=1 -DLIBSOLV_INTERNAL=1 -D_FILE_OFFSET_BITS=64
      -DDEBIAN=1 -DMULTI_SEMANTICS=1 -DENABLE_COMPLEX_DEPS=1
      -DENABLE_RPMMD=1 -DENABLE_HELIXREPO=1 -DENABLE_COMPS=1)
CFLAGS=(-O3 -flto -mbulk-memory -g0 -ffile-prefix-map="$here"=. -ffile-prefix-map="$obj"=.)
LIBSOLV_SRCS=(util bitmap poolarch poolvendor poolid strpool dirpool solver solverdebug repo_solv
  repo_write evr pool queue repo repodata repopage policy solvable transaction order rules
  problems linkedpkg cplxdeps chksum md5 sha1 sha2 solvversion selection fileprovides diskusage
  suse solver_util cleandeps userinstalled filelistfilter decision)
EXT_SRCS=(testcase repo_testcase solv_xfopen pool_parserpmrichdep solv_xmlparser repo_rpmmd
  repo_repomdxml repo_helix repodata_diskusage)
EXPAT_SRCS=(xmlparse xmlrole xmltok)
SHIM_SRCS=(shim shim_repo shim_solve shim_testcase)  # ours, in wasm/
LDFLAGS=(-O3 -flto -mbulk-memory -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=16MB
  -sENVIRONMENT=node -sMODULARIZE=1 -sEXPORT_NAME=createLibsolv -sNODERAWFS=1
  -sEXIT_RUNTIME=0 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 -sFILESYSTEM=1 -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8
  -sEXPORTED_FUNCTIONS=_malloc,_free)

jobs=$(nproc 2>/dev/null || echo 2)
objs=()
{
  for f in "${EXPAT_SRCS[@]}"; do
    echo "$S/expat/expat/lib/$f.c $obj/expat_$f.o -DHAVE_EXPAT_CONFIG_H=1 -I$obj/gen -I$S/expat/expat/lib"
  done
  for f in "${LIBSOLV_SRCS[@]}"; do
    # (no trailing blank: xargs -L would join the next line)
    extra=""; [ "$f" = util ] && extra=" -D__NEWLIB__=1 -include $obj/gen/qsort_r_decl.h"
    echo "$S/libsolv/src/$f.c $obj/solv_$f.o -I$obj/gen -I$S/libsolv/src$extra"
  done
  for f in "${EXT_SRCS[@]}"; do
    echo "$S/libsolv/ext/$f.c $obj/ext_$f.o -I$obj/gen -I$S/libsolv/src -I$S/libsolv/ext -I$S/expat/expat/lib"
  done
  for f in "${SHIM_SRCS[@]}"; do
    echo "$f.c $obj/$f.o -I$obj/gen -I$S/libsolv/src -I$S/libsolv/ext"
  done
  echo "msort.c $obj/msort.o"
} >"$obj/units"
export CFLAGS_STR="${CFLAGS[*]}" DEFS_STR="${DEFS[*]}"
# shellcheck disable=SC2016
xargs -P "$jobs" -L 1 bash -c 'emcc $CFLAGS_STR $DEFS_STR ${@:3} -c "$1" -o "$2"' _ <"$obj/units"
while read -r _ o _; do objs+=("$o"); done <"$obj/units"

# CommonJS glue (renamed .cjs): Debian's 3.1.6 ES6 glue uses __dirname/require, which do not
# exist in Node ES modules. native.ts loads it with createRequire and hands it the wasm bytes.
emcc "${LDFLAGS[@]}" "${objs[@]}" -o "$out/libsolv.js"
mv "$out/libsolv.js" "$out/libsolv.cjs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ "$mode" = check ]; then
  ok=1
  for f in libsolv.wasm libsolv.cjs; do
    if [ "$(sha "$out/$f")" != "$(sha "$here/$f")" ]; then echo "wasm/build.sh --check: $f differs from the committed build" >&2; ok=0; fi
  done
  [ $ok = 1 ] || exit 1
  echo "wasm/build.sh --check: outputs identical ($(sha "$here/libsolv.wasm"))"
  exit 0
fi

# PROVENANCE.json: everything needed to reproduce and audit the committed outputs.
srcs=""; for k in "${!SHA256[@]}"; do srcs+="$k=${SHA256[$k]} "; done
EMCC_VERSION="$EMCC_VERSION" LSV="$LIBSOLV_VERSION" EXV="$EXPAT_VERSION" SRCS="$srcs" \
DEFS_L="${DEFS[*]}" CFLAGS_L="${CFLAGS[*]}" LDFLAGS_L="${LDFLAGS[*]}" \
U_EXPAT="${EXPAT_SRCS[*]}" U_SRC="${LIBSOLV_SRCS[*]}" U_EXT="${EXT_SRCS[*]}" U_SHIM="${SHIM_SRCS[*]}" HERE="$here" OBJ="$obj" node -e '
const fs = require("fs"), crypto = require("crypto"), e = process.env;
const sha = (f) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");
const words = (s) => s.trim().split(/\s+/);
const prov = {
  description: "libsolv + expat (Debian bookworm source packages) and layer shim compiled to wasm by wasm/build.sh",
  packages: { libsolv: e.LSV, expat: e.EXV },
  sourceSha256: Object.fromEntries(words(e.SRCS).map((kv) => kv.split("=")).sort()),
  emcc: e.EMCC_VERSION,
  defines: words(e.DEFS_L),
  cflags: words(e.CFLAGS_L).map((f) => f.split(e.HERE).join("<wasm>").split(e.OBJ).join("<objdir>")),
  ldflags: words(e.LDFLAGS_L),
  units: { expat: words(e.U_EXPAT), libsolvSrc: words(e.U_SRC), libsolvExt: words(e.U_EXT), shim: [...words(e.U_SHIM).map((f) => `wasm/${f}.c`), "wasm/shim.h", "wasm/msort.c"] },
  shimSha256: Object.fromEntries([...words(e.U_SHIM).map((f) => `${f}.c`), "shim.h", "msort.c"].map((f) => [f, sha(f)])),
  outputs: { "libsolv.wasm": sha("libsolv.wasm"), "libsolv.cjs": sha("libsolv.cjs") },
};
fs.writeFileSync("PROVENANCE.json", JSON.stringify(prov, null, 2) + "\n");
'
echo "wasm/build.sh: wrote libsolv.wasm ($(stat -c %s libsolv.wasm) bytes), libsolv.cjs, PROVENANCE.json"
