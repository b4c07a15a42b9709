#!/bin/sh
# Nightly upgrade testing with layer: take the fleet's current image, try tomorrow's upgrade
# on it, run the workload's smoke tests and health checks inside the result BEFORE it becomes
# the default, and write a report people read (out/report.html, out/report.json).
# Copy it into your CI; see README "Nightly upgrade testing" for the exit codes of each step.
#
# Settings (environment):
#   LAYER          the layer command (default: layer)
#   SYSROOT        the test sysroot; restored from a CI cache, or created from the fleet image
#                  when absent (default: ./sysroot)
#   FLEET_REF      REPO:REF of the fleet's base image (an OSTree repo path), for the first init
#   FLEET_LOCKFILE optional: the fleet's lockfile, so the init composes exactly the fleet's hosts
#   LAYERED        packages the fleet layers on the base (space-separated), for the first init
#   OSNAME         (default: fleet)
#   REPOSDIR       repo files for the upgrade (default: the deployment's /etc/yum.repos.d)
#   SMOKE          smoke commands, one shell command line per line, run in the new deployment
#   OUT            where the report, lockfile and logs go (default: ./out); publish it
#   CHECK_TIMEOUT  seconds per smoke command / health check (default: 60)
#
# Exit status: 0 the upgrade passed, or nothing to test; 4 a smoke command or required health
# check failed (the new deployment is held, not the default); anything else: the step's own.
set -u

LAYER=${LAYER:-layer}
SYSROOT=${SYSROOT:-./sysroot}
OUT=${OUT:-./out}
OSNAME=${OSNAME:-fleet}
CHECK_TIMEOUT=${CHECK_TIMEOUT:-60}
mkdir -p "$OUT"

say() { printf 'nightly: %s\n' "$*" >&2; }

# The default deployment's id (the first "id" of `layer status --json`).
default_id() {
  $LAYER status --sysroot "$SYSROOT" --json | sed -n 's/^ *"id": "\(.*\)",$/\1/p' | head -n 1
}

# 1. The fleet's current image: a restored sysroot, or a new one from the fleet's base.
if [ ! -d "$SYSROOT/ostree/repo" ]; then
  : "${FLEET_REF:?set FLEET_REF=REPO:REF (or restore SYSROOT)}"
  say "init from $FLEET_REF"
  # shellcheck disable=SC2086 # LAYERED is a list of package names
  $LAYER init --sysroot "$SYSROOT" --osname "$OSNAME" --from-ostree "$FLEET_REF" \
    ${REPOSDIR:+--reposdir "$REPOSDIR"} ${FLEET_LOCKFILE:+--lockfile "$FLEET_LOCKFILE"} ${LAYERED:-} \
    >"$OUT/init.log" 2>&1 || { rc=$?; cat "$OUT/init.log" >&2; say "init failed (exit $rc)"; exit "$rc"; }
fi

# 2. Is there anything new? 77: nothing to test.
$LAYER upgrade --check --json --sysroot "$SYSROOT" ${REPOSDIR:+--reposdir "$REPOSDIR"} >"$OUT/check.json" 2>"$OUT/check.err"
rc=$?
if [ "$rc" -eq 77 ]; then
  say "no update available: nothing to test"
  exit 0
elif [ "$rc" -ne 0 ]; then
  cat "$OUT/check.err" >&2
  say "upgrade --check failed (exit $rc)"
  exit "$rc"
fi

# 3. What would change (kept in out/ for people).
$LAYER upgrade --preview --sysroot "$SYSROOT" ${REPOSDIR:+--reposdir "$REPOSDIR"} >"$OUT/preview.txt" 2>&1 \
  || { rc=$?; cat "$OUT/preview.txt" >&2; say "upgrade --preview failed (exit $rc)"; exit "$rc"; }

# 4. The upgrade, tested in the new deployment before it becomes the default.
before=$(default_id)
set -- --health-check --check-timeout "$CHECK_TIMEOUT"
if [ -n "${SMOKE:-}" ]; then
  # One --smoke per line of SMOKE.
  nl='
'
  old_ifs=$IFS; IFS=$nl
  for cmd in $SMOKE; do set -- "$@" --smoke "$cmd"; done
  IFS=$old_ifs
fi
$LAYER upgrade --sysroot "$SYSROOT" ${REPOSDIR:+--reposdir "$REPOSDIR"} "$@" \
  --report "$OUT" --lockfile-out "$OUT/lock.json" --json >"$OUT/upgrade.json" 2>"$OUT/upgrade.err"
rc=$?
cat "$OUT/upgrade.err" >&2
if [ "$rc" -eq 0 ]; then
  say "upgrade passed its checks: report in $OUT/report.html"
  exit 0
fi

# 5. Failed. The new deployment is held (not the default) when a check failed; should the
# default have moved anyway (a step after the promotion failed), roll back to the old one.
if [ "$(default_id)" != "$before" ]; then
  say "the default moved to a failed upgrade: rolling back"
  $LAYER rollback --sysroot "$SYSROOT" >&2 || say "rollback failed"
fi
failed=$(sed -n 's/^error: \(.*\) \[LAYER_[A-Z_]*\]$/\1/p' "$OUT/upgrade.err" | head -n 1)
say "FAILED (exit $rc): ${failed:-see $OUT/upgrade.err}; report in $OUT/report.html"
exit "$rc"
