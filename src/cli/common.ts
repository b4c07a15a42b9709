/** What every command shares: the sysroot path, output (text or --json), the transaction flags. */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { LayerError } from '../errors.js';
import { runTransaction, type Change, type ComposeStep, type EngineResult } from '../engine/index.js';
import { bool, str, type OptionSpec, type Parsed } from './args.js';
import { emit, sysrootOf } from './output.js';
import { CliReport, reportMode } from './report.js';
import { resultText, transactionTable } from './render.js';

/** Exit status when --unchanged-exit-77 is given and nothing changed. */
export const EXIT_UNCHANGED = 77;

export { emit, sysrootOf } from './output.js';

export const TRANSACTION_FLAGS: Record<string, OptionSpec> = {
  reposdir: { value: true },
  'dry-run': { short: 'n' },
  assumeyes: { short: 'y' },
  idempotent: {},
  'allow-inactive': {},
  'cache-only': { short: 'C' },
  'download-only': {},
  'unchanged-exit-77': {},
  'replace-files': {},
  'ignore-weak-deps': {},
  arch: { value: true },
};

/** Build the request from flags, run the engine, render, and pick the exit status. */
export async function runChange(p: Parsed, change: Change, command: string): Promise<number> {
  const json = bool(p, 'json');
  const report = new CliReport(reportMode(json));
  const sysroot = sysrootOf(p);
  const reposdir = str(p, 'reposdir');
  const arch = str(p, 'arch');
  let asked = false;
  const result: EngineResult = await runTransaction({
    sysroot, change, command, report,
    ...(reposdir ? { reposdir: resolve(reposdir) } : {}),
    ...(arch ? { arch } : {}),
    options: {
      dryRun: bool(p, 'dry-run'), downloadOnly: bool(p, 'download-only'), cacheOnly: bool(p, 'cache-only'),
      idempotent: bool(p, 'idempotent'), allowInactive: bool(p, 'allow-inactive'),
      replaceFiles: bool(p, 'replace-files'), ignoreWeakDeps: bool(p, 'ignore-weak-deps'),
    },
    confirm: confirmer(p, () => (asked = true)),
  });
  emit(p, resultJson(result), () => resultText(result, sysroot, { tableShown: asked }));
  return result.outcome === 'unchanged' && bool(p, 'unchanged-exit-77') ? EXIT_UNCHANGED : 0;
}

/**
 * Asked after the transaction is shown, before the new deployment becomes the default: only
 * on an interactive terminal without -y (scripts and CI are never blocked).
 */
function confirmer(p: Parsed, onAsk: () => void): ((steps: ComposeStep[]) => Promise<boolean>) | undefined {
  if (bool(p, 'assumeyes') || bool(p, 'json') || bool(p, 'dry-run') || !process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  return async (steps) => {
    onAsk();
    process.stdout.write(transactionTable(steps));
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const answer = await rl.question('Deploy this? [y/N] ');
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

export function resultJson(r: EngineResult): object {
  return {
    outcome: r.outcome,
    transaction: r.steps.map((s) => ({ kind: s.kind, reason: s.reason, nevra: s.nevra, name: s.name, repo: s.repo, ...(s.replaces ? { replaces: s.replaces } : {}), 'download-size': s.downloadSize, 'install-size': s.installSize })),
    'already-provided': r.alreadyProvided,
    ...(r.commit ? { commit: r.commit } : {}),
    ...(r.deployment ? { deployment: { id: r.deployment.id, osname: r.deployment.osname, path: r.deployment.path } } : {}),
    ...(r.diff ? { diff: r.diff } : {}),
    ...(r.etc ? { etc: r.etc } : {}),
    ...(r.removedDeployments ? { 'removed-deployments': r.removedDeployments } : {}),
    timings: r.timings,
  };
}

export function needPackages(cmd: string, pkgs: string[]): void {
  if (pkgs.length === 0) throw new LayerError('LAYER_USAGE', `layer ${cmd}: no packages given`, { hint: `usage: layer ${cmd} PKG...` });
}
