/** What every command shares: the sysroot path, output (text or --json), the transaction flags. */
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Interface } from 'node:readline';
import { LayerError } from '../errors.js';
import { runTransaction, type Change, type EngineRequest, type EngineResult, type Plan } from '../engine/index.js';
import { formatLockWait } from '../sysroot/index.js';
import { lockTimeout } from './lock-wait.js';
import { LOCKFILE_FLAGS, lockfileUse } from './lockfile.js';
import { formatKeyImport, type ImportedKey } from '../trust/index.js';
import { escapeControl } from '../util/escape.js';
import { bool, str, type OptionSpec, type Parsed } from './args.js';
import { emit, sysrootOf } from './output.js';
import { CliReport, reportMode } from './report.js';
import { planText, resultText } from './render.js';

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
  'lock-timeout': { value: true },
  'scriptlet-timeout': { value: true },
  events: { value: true },
  'localpkg-gpgcheck': {},
  best: {},
  nobest: {},
  'installonly-limit': { value: true },
  'skip-broken': {},
  'exclude-from-weak': { value: true },
  ...LOCKFILE_FLAGS,
};

/** A whole number of seconds from an option, or undefined when it is not given. */
export function seconds(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new LayerError('LAYER_USAGE', `--${name} takes a whole number of seconds, not '${v}'`);
  return Number(v);
}

/** The report of a command: terminal view, plus the JSON-lines event stream when asked for. */
export function cliReport(p: Parsed): CliReport {
  const events = str(p, 'events') ?? process.env.LAYER_EVENTS;
  return new CliReport(reportMode(bool(p, 'json')), events ? resolve(events) : undefined);
}

/** Build the request from flags, run the engine, render, and pick the exit status. */
/** `run`: the engine entry point (runTransaction; `layer deploy` passes runDeploy). */
export async function runChange(
  p: Parsed, change: Change, command: string, run: (req: EngineRequest) => Promise<EngineResult> = runTransaction,
): Promise<number> {
  const json = bool(p, 'json');
  const report = cliReport(p);
  const sysroot = sysrootOf(p);
  const reposdir = str(p, 'reposdir');
  const arch = str(p, 'arch');
  let shown = false;
  const lockfile = lockfileUse(p);
  let result: EngineResult;
  try {
    result = await run({
      sysroot, change, command, report, ...lockfile.request,
      ...(reposdir ? { reposdir: resolve(reposdir) } : {}),
      ...(arch ? { arch } : {}),
      options: {
        dryRun: bool(p, 'dry-run'), downloadOnly: bool(p, 'download-only'), cacheOnly: bool(p, 'cache-only'),
        idempotent: bool(p, 'idempotent'), allowInactive: bool(p, 'allow-inactive'),
        replaceFiles: bool(p, 'replace-files'), ignoreWeakDeps: bool(p, 'ignore-weak-deps'),
        ...optional('lockTimeout', lockTimeout(p)), ...optional('scriptletTimeout', seconds(p, 'scriptlet-timeout')),
        localGpgcheck: bool(p, 'localpkg-gpgcheck'), ...optional('best', bestOf(p)), skipBroken: bool(p, 'skip-broken'),
        ...optional('excludeFromWeak', str(p, 'exclude-from-weak')?.split(/[\s,]+/).filter(Boolean)), ...optional('installonlyLimit', installonlyLimit(p)),
      },
      confirm: json ? undefined : confirmer(p, () => (shown = true)),
      confirmKeyImport: keyImporter(p),
      // A second writer waits its turn (rpm-ostree's "Transaction in progress" is an error).
      onLockWait: (holder) => process.stderr.write(`${formatLockWait(holder)}\n`),
    });
  } finally {
    closeQuestions();
  }
  lockfile.finish(result);
  report.result(resultJson(result));
  emit(p, resultJson(result), () => resultText(result, sysroot, { tableShown: shown }));
  if (result.outcome === 'aborted') return EXIT_ABORTED;
  return result.outcome === 'unchanged' && bool(p, 'unchanged-exit-77') ? EXIT_UNCHANGED : 0;
}

/** Exit status when the user answers no (dnf's "Operation aborted." is 1 too). */
export const EXIT_ABORTED = 1;

/**
 * Shows the transaction right after the solve, before anything is downloaded or written, and
 * asks "Is this ok" only on an interactive stdin without -y: scripts, CI and pipes proceed
 * unasked, as rpm-ostree always does. --json never gets here (stdout is the JSON alone).
 */
/**
 * dnf's key import: the key's id, user id, fingerprint and source are shown (stderr with
 * --json, where stdout is the result alone) and, on an interactive terminal without -y,
 * "Is this ok [y/N]:" is asked; no answer is no, and the package that needed the key fails.
 */
function keyImporter(p: Parsed): (key: ImportedKey) => Promise<boolean> {
  const ask = !bool(p, 'assumeyes') && !bool(p, 'json') && process.stdin.isTTY === true;
  return async (key) => {
    (bool(p, 'json') ? process.stderr : process.stdout).write(`${escapeControl(formatKeyImport(key), { keepNewlines: true })}\n`);
    return ask ? yes(await question('Is this ok [y/N]: ')) : true;
  };
}

/** --installonly-limit N (dnf's installonly_limit): 0 or at least 2. */
function installonlyLimit(p: Parsed): number | undefined {
  const v = str(p, 'installonly-limit');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || v === '1') throw new LayerError('LAYER_USAGE', `--installonly-limit takes 0 (no limit) or a number of at least 2, not '${v}'`);
  return Number(v);
}

/** --best / --nobest; neither: dnf.conf's best=, else dnf's default best=False. */
function bestOf(p: Parsed): boolean | undefined {
  if (bool(p, 'best') && bool(p, 'nobest')) throw new LayerError('LAYER_USAGE', '--best and --nobest contradict each other');
  return bool(p, 'best') ? true : bool(p, 'nobest') ? false : undefined;
}

function optional<K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, V>);
}

function confirmer(p: Parsed, onShow: () => void): (plan: Plan) => Promise<boolean> {
  const ask = !bool(p, 'assumeyes') && process.stdin.isTTY === true;
  return async (plan) => {
    onShow();
    // A blank line apart from what follows: the question, or the download progress.
    process.stdout.write(planText(plan) + '\n');
    if (!ask) return true;
    return yes(await question('Is this ok [y/N]: '));
  };
}

/**
 * One line reader for the whole command: a transaction may ask twice (the transaction, then a
 * key import), and a reader per question would swallow the answers typed ahead with the first
 * (readline reads what the terminal has, not one line). Closed when the command is done.
 * node:readline is loaded only when a question is asked: `-y`, `--json` and dry runs never
 * pay for it (0.5 MB of RSS, a millisecond).
 */
interface LineReader {
  rl: Interface;
  /** Lines typed before anyone asked. */
  lines: string[];
  /** Questions waiting for a line. */
  waiting: ((line: string) => void)[];
  closed: boolean;
}

let reader: LineReader | undefined;

function lineReader(): LineReader {
  if (reader) return reader;
  const { createInterface } = createRequire(import.meta.url)('node:readline') as typeof import('node:readline');
  const r: LineReader = { rl: createInterface({ input: process.stdin, output: process.stdout }), lines: [], waiting: [], closed: false };
  r.rl.on('line', (line: string) => {
    const w = r.waiting.shift();
    if (w) w(line);
    else r.lines.push(line);
  });
  r.rl.once('close', () => {
    r.closed = true;
    for (const w of r.waiting.splice(0)) w('');
  });
  reader = r;
  return r;
}

/** Close the terminal reader (else the process waits for more input). */
export function closeQuestions(): void {
  reader?.rl.close();
  reader = undefined;
}

/** One line from the terminal; end of input (Ctrl-D) is an empty answer, so "no". */
async function question(prompt: string): Promise<string> {
  const r = lineReader();
  process.stdout.write(prompt);
  const typed = r.lines.shift();
  if (typed !== undefined) return typed;
  if (r.closed) return '';
  return new Promise<string>((done) => r.waiting.push(done));
}

function yes(answer: string): boolean {
  return /^y(es)?$/i.test(answer.trim());
}

export function resultJson(r: EngineResult): Record<string, unknown> {
  return {
    outcome: r.outcome,
    transaction: r.steps.map((s) => ({
      action: s.action, kind: LEGACY_KIND[s.action], reason: s.reason, nevra: s.nevra, name: s.name,
      epoch: s.epoch, version: s.version, release: s.release, arch: s.arch, repo: s.repo,
      ...(s.replaces ? { replaces: s.replaces } : {}), ...(s.obsoletedBy ? { 'obsoleted-by': s.obsoletedBy } : {}),
      ...(s.insteadOf ? { 'instead-of': s.insteadOf } : {}),
      'download-size': s.downloadSize, 'install-size': s.installSize,
    })),
    'already-provided': r.alreadyProvided,
    ...(r.plan ? { 'input-digest': r.plan.inputDigest } : {}),
    ...(r.commit ? { commit: r.commit } : {}),
    ...(r.deployment ? { deployment: { id: r.deployment.id, osname: r.deployment.osname, path: r.deployment.path } } : {}),
    ...(r.diff ? { diff: r.diff } : {}),
    ...(r.etc ? { etc: r.etc } : {}),
    ...(r.removedDeployments ? { 'removed-deployments': r.removedDeployments } : {}),
    timings: r.timings,
    scriptlets: r.scriptlets,
    warnings: r.warnings,
  };
}

/** The solver's word for each action, as `--json` named it before actions existed. */
const LEGACY_KIND: Record<EngineResult['steps'][number]['action'], string> = {
  install: 'install', upgrade: 'upgrade', downgrade: 'downgrade', reinstall: 'reinstall', remove: 'erase', obsolete: 'obsoleted',
};

export function needPackages(cmd: string, pkgs: string[]): void {
  if (pkgs.length === 0) throw new LayerError('LAYER_USAGE', `layer ${cmd}: no packages given`, { hint: `usage: layer ${cmd} PKG...` });
}
