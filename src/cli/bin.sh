#!/bin/sh
# The `layer` command (package.json "bin"; copied to dist/bin/layer by scripts/bundle.mjs): runs
# dist/bin/layer.cjs beside it with Node, after one change to the environment.
#
# Why a shell script and not layer.cjs itself: when NODE_EXTRA_CA_CERTS is set, Node reads that
# file and builds OpenSSL's root store before any JavaScript runs, whether or not the process
# ever opens a TLS connection. With Debian's 140-certificate bundle on the bench machine:
# `node -e 0` 140 ms with it, 40 ms without; `layer status` 195 -> 112 ms; an install ~30 ms
# (it sets OpenSSL up for hashing anyway). So the variable moves to LAYER_EXTRA_CA_CERTS here;
# src/cli/launch.ts puts it back for child processes, and src/net/ca.ts adds the file's
# certificates when the first https connection is made: they still count, only later.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  LAYER_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export LAYER_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
# The real path: npm installs the command as a symlink to this file. Called by its own path,
# the test is enough (no readlink process: ~1.5 ms of every command).
case $0 in */*) self=$0 ;; *) self=./$0 ;; esac
if [ -L "$self" ]; then self=$(readlink -f -- "$self") || exit 70; fi
# --liftoff-only: see src/cli/liftoff.ts (given here, Node need not load node:v8 to set it).
exec node --liftoff-only "${self%/*}/layer.cjs" "$@"
