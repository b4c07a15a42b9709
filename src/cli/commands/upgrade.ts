/**
 * `layer upgrade [--check|--preview]`: a newer base (a recipe recomposed against fresh
 * metadata, or the newest commit of an OSTree ref) with the layered requests re-solved on it.
 * The engine is engine/upgrade.ts; this parses, runs and renders.
 */
import { resolve } from 'node:path';
import { runUpgrade, type UpgradeResult } from '../../engine/index.js';
import { lockfileUse } from '../lockfile.js';
import { formatLockWait } from '../../sysroot/index.js';
import { bool, parseArgs, str, type Parsed } from '../args.js';
import { cliReport, EXIT_UNCHANGED, resultJson, seconds, TRANSACTION_FLAGS } from '../common.js';
import { lockTimeout } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';
import { diffText, resultText } from '../render.js';
import { advisoryDetails, availableText, restrictionText } from '../render-upgrade.js';
import { checksError, checksJson, checksText, EXIT_CHECKS_FAILED, GATE_FLAGS, takeSmoke, upgradeGate, upgradeReport } from '../upgrade-gate.js';

export const usage = `layer upgrade [--sysroot DIR] [--reposdir DIR] [--check|--preview] [--unchanged-exit-77]
              [-C|--cache-only] [--download-only] [--allow-downgrade] [--version V]
              [--install PKG[,PKG...]] [--uninstall PKG[,PKG...]] [--json]
              [--security] [--advisory ID[,ID...]]...
              [--smoke CMD]... [--health-check] [--check-timeout SECONDS] [--report DIR]
  Move to a newer base: a recipe base (layer init PKG...) is composed again from its recipe
  against fresh metadata; an OSTree-ref base (--from-ostree) takes the ref's newest commit.
  The layered packages are solved again on the new base. A new deployment is made only when
  the result differs from the current one ("No upgrade available.": exit 0, or 77 with
  --unchanged-exit-77).
  --check            metadata only: print the AvailableUpdate block (or "No updates available.",
                     exit 77); nothing is downloaded or deployed; the result is cached for status
  --preview          --check plus every package change
  --allow-downgrade  accept a base commit older than the current one
  --version V        the version metadata of the composed commits (default YYYYMMDD.N)
  --install, --uninstall  also change the layered requests in the same transaction
  --security         only what applicable security advisories require (as dnf upgrade --security:
                     a package moves only to a version at least as new as an advisory lists);
                     an OSTree-ref base still moves to the ref's newest commit, whole: there
                     it restricts the layered packages
  --advisory ID      the same for the named advisories (repeatable, or a comma list)
  --smoke CMD        (repeatable) a shell command line run with sh -c in the new deployment
                     before it becomes the default
  --health-check     run the new deployment's /etc/layer/health.d checks before that too;
                     a failing smoke command or required check: the new deployment is held
                     (not the default; layer cleanup removes it; a recipe base's ref stays), exit 4
  --check-timeout S  time limit per smoke command and health check (default 60)
  --report DIR       write DIR/report.json and DIR/report.html (see README "Nightly upgrade testing")`;

const FLAGS = {
  ...TRANSACTION_FLAGS, ...GATE_FLAGS,
  check: {}, preview: {}, 'allow-downgrade': {}, version: { value: true }, install: { value: true }, uninstall: { value: true },
  security: {}, advisory: { value: true, repeat: true },
};

const list = (p: Parsed, name: string): string[] => (str(p, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export async function run(argv: string[]): Promise<number> {
  const { smoke, rest } = takeSmoke(argv);
  const p = parseArgs('upgrade', rest, FLAGS);
  const check = bool(p, 'check') || bool(p, 'preview');
  const gate = upgradeGate(p, smoke, check);
  const sysroot = sysrootOf(p);
  const reposdir = str(p, 'reposdir');
  const arch = str(p, 'arch');
  const version = str(p, 'version');
  const timeout = lockTimeout(p);
  const scriptletTimeout = seconds(p, 'scriptlet-timeout');
  const report = cliReport(p);
  const lock = lockfileUse(p);
  const r = await runUpgrade({
    ...lock.request,
    sysroot, command: `layer upgrade ${argv.join(' ')}`, report, check,
    install: list(p, 'install'), uninstall: list(p, 'uninstall'),
    advisories: { security: bool(p, 'security'), ids: list(p, 'advisory') },
    ...(reposdir ? { reposdir: resolve(reposdir) } : {}), ...(arch ? { arch } : {}),
    options: {
      downloadOnly: bool(p, 'download-only'), cacheOnly: bool(p, 'cache-only'), idempotent: bool(p, 'idempotent'),
      allowInactive: bool(p, 'allow-inactive'), replaceFiles: bool(p, 'replace-files'), ignoreWeakDeps: bool(p, 'ignore-weak-deps'),
      allowDowngrade: bool(p, 'allow-downgrade'), localGpgcheck: bool(p, 'localpkg-gpgcheck'),
      ...(version ? { version } : {}), ...(timeout !== undefined ? { lockTimeout: timeout } : {}),
      ...(scriptletTimeout !== undefined ? { scriptletTimeout } : {}),
    },
    onLockWait: (holder) => process.stderr.write(`${formatLockWait(holder)}\n`),
    ...(gate.gate ? { gate: gate.gate } : {}),
  });
  // Also when nothing changed or for --check: the lockfile of what the upgrade planned (nightly runs record it).
  if (r.outcome !== 'pinned') lock.finish(r.result ?? { outcome: 'unchanged' });
  const checks = gate.checks();
  const written = await upgradeReport(p, r, { sysroot, command: `layer upgrade ${argv.join(' ')}`, ...(reposdir ? { reposdir: resolve(reposdir) } : {}), ...(checks ? { checks } : {}) });
  const json = { ...upgradeJson(r), ...checksJson(checks), ...(written ? { report: written.html, 'report-ms': written.ms } : {}) };
  report.result(json);
  emit(p, json, () => upgradeText(r, sysroot, { check, preview: bool(p, 'preview') }) + (checks ? checksText(checks, r.result?.held ? r.result.deployment : undefined) : ''));
  if (checks?.failed) {
    process.stderr.write(checksError(checks));
    return EXIT_CHECKS_FAILED;
  }
  const exit77 = check || bool(p, 'unchanged-exit-77');
  return (r.outcome === 'unchanged' || r.outcome === 'pinned') && exit77 ? EXIT_UNCHANGED : 0;
}

function upgradeJson(r: UpgradeResult): Record<string, unknown> {
  return {
    outcome: r.outcome,
    'base-kind': r.baseKind,
    base: r.base,
    'rpm-diff': r.diff,
    ...(r.cachedUpdate ? { 'cached-update': r.cachedUpdate } : {}),
    restriction: r.restriction ?? null,
    ...(r.result ? { transaction: resultJson(r.result) } : {}),
    ...(r.result?.held ? { held: true } : {}),
  };
}

function upgradeText(r: UpgradeResult, sysroot: string, o: { check: boolean; preview: boolean }): string {
  if (r.outcome === 'unchanged') return o.check ? 'No updates available.\n' : 'No upgrade available.\n';
  if (r.outcome === 'pinned') return 'Pinned to commit; no upgrade available (layer deploy --unpin follows the ref again).\n';
  if (r.outcome === 'available') {
    const advisories = r.cachedUpdate?.advisories ?? [];
    const block = availableText({
      changed: r.base.changed, version: r.base.version, checksum: r.base.to, timestamp: r.base.timestamp,
      diff: r.diff, advisories, restriction: r.restriction ?? null,
    });
    return block + imageNote(r) + (o.preview ? `\n${indent(advisoryDetails(advisories))}${indent(diffText(r.diff))}` : '');
  }
  if (r.outcome === 'downloaded') return 'Packages downloaded and imported; no deployment was made.\n';
  if (!r.result) return diffText(r.diff);
  if (r.result.held) return imageNote(r) + diffText(r.diff);
  // The package diff, the new deployment, and the next step, as install prints them.
  return imageNote(r) + resultText({ ...r.result, diff: r.diff }, sysroot, { tableShown: true });
}

/**
 * An OSTree-ref base moved under --security/--advisory: say that the image was taken whole
 * and only the layered packages were restricted (README "Upgrades").
 */
function imageNote(r: UpgradeResult): string {
  if (r.restriction?.scope !== 'layered' || !r.base.changed) return '';
  return `Note: the base moved to its ref's newest commit whole (an image's packages are its publisher's); `
    + `the advisory restriction (${restrictionText(r.restriction)}) applied to the layered packages.\n`;
}

function indent(text: string): string {
  return text.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}
