/**
 * Install-time scriptlets of layered packages, run inside the NEW tree with bubblewrap
 * (see sandbox.ts for the mounts and limits).
 *
 * Which scriptlets run — the same choice rpm-ostree makes, for the same reasons:
 *   - `%pre`, `%post`, `%posttrans` and `%transfiletriggerin` run: they set up what the
 *     package needs in the tree it lands in (users, caches, config).
 *   - `%pretrans` does not: it exists to prepare the *running* system before rpm touches it
 *     (e.g. turning a directory into a symlink). A layered deployment is composed offline
 *     next to the running system, which is never modified, so there is nothing to prepare.
 *   - `%verifyscript` belongs to `rpm -V`, not to installation.
 *   - Uninstall scriptlets (`%preun`, `%postun`, `%preuntrans`, `%postuntrans`, uninstall
 *     triggers) do not: removing a layered package means composing a new tree without it
 *     from the base commit, so there is no old install to tear down, and the previous
 *     deployment stays intact for rollback.
 * A failing scriptlet of any kind that runs aborts the compose (rpm only warns about
 * %post failures; an image must not silently ship a half-configured package).
 *
 * Lua (`<lua>`) scriptlets run inside rpm's own embedded interpreter, which layer does not
 * have; they are rejected unless listed in an allow-list of known-safe-to-skip scripts.
 * Other interpreters (`/usr/bin/python3`, `/usr/bin/perl`) run when the tree has them.
 *
 * Invocation follows rpm (lib/rpmscript.c): the body is written to a file that is passed to
 * the interpreter (after the interpreter's own arguments), followed by `$1` — the number of
 * instances of the package after the operation (1: install; 2 would be an upgrade). A
 * scriptlet with no body (`%post -p /sbin/ldconfig`) runs the interpreter alone. PATH is
 * rpm's `%_install_script_path`; RPM_INSTALL_PREFIX / RPM_INSTALL_PREFIXn are set for
 * relocatable packages.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { runInSandbox, type SandboxResult } from './sandbox.js';
import { resolveInTree } from './sandbox-paths.js';
import { SHIM_DIR, SHIMMED, SHIM_SCRIPTS } from './users-shims.js';
import type { RpmScriptlet } from '../rpm/index.js';

/**
 * One scriptlet: `RpmScriptlet` from src/rpm (openRpm(path).scriptlets) is accepted as is;
 * tests may build the subset by hand.
 */
export type Scriptlet = Pick<RpmScriptlet, 'kind' | 'body' | 'interpreter'> &
  Partial<Pick<RpmScriptlet, 'args' | 'flags' | 'conditions' | 'priority'>>;

export interface ScriptletPackage {
  name: string;
  /** For messages: `ngircd-22-2.fc22.x86_64`. */
  nevra: string;
  /** RPMTAG_PREFIXES of a relocatable package (never relocated here). */
  prefixes?: readonly string[];
}

/** A Lua scriptlet that may be skipped: package name + scriptlet kind, with the reason. */
export interface LuaSkip {
  name: string;
  kind: string;
  why: string;
}

/**
 * Lua scriptlets known to be safe to skip in an offline compose. Kept short on purpose:
 * every entry states why the work it does is not needed or is done elsewhere.
 */
export const DEFAULT_LUA_SKIPS: readonly LuaSkip[] = [
  {
    name: 'glibc',
    kind: 'post',
    why: "Fedora glibc's Lua %post reruns ldconfig (and iconvconfig for gconv modules); runTransactionScriptlets runs the tree's ldconfig once at the end",
  },
];

/** The slots layer runs (`transfiletriggerin` = a `transfiletrigger` whose conditions are all "in"). */
export const RUN_KINDS = ['pre', 'post', 'posttrans', 'transfiletriggerin'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

const UNINSTALL = 'uninstall scriptlet: removal recomposes from the base, nothing to tear down';
const NOT_RUN: Readonly<Record<string, string>> = {
  pretrans: 'prepares the running system, which a layered compose never modifies',
  verify: 'belongs to rpm -V, not to installation',
  preun: UNINSTALL,
  postun: UNINSTALL,
  preuntrans: UNINSTALL,
  postuntrans: UNINSTALL,
  transfiletriggerun: UNINSTALL,
  trigger: "fires on other packages' transactions; layer does not evaluate package triggers",
  filetrigger: 'per-package file triggers are not evaluated; only %transfiletriggerin runs',
};

/** The rpm slot a scriptlet runs in: `transfiletrigger` splits into ...in / ...un by its conditions. */
export function slotOf(s: Pick<Scriptlet, 'kind' | 'conditions'>): string {
  if (s.kind !== 'transfiletrigger') return s.kind;
  const whens = new Set((s.conditions ?? []).map((c) => c.when));
  return whens.size === 1 && whens.has('in') ? 'transfiletriggerin' : whens.has('in') ? 'transfiletrigger(mixed)' : 'transfiletriggerun';
}

/** Why a slot is not run, or undefined when it is. */
export function skipReason(slot: string): string | undefined {
  if ((RUN_KINDS as readonly string[]).includes(slot)) return undefined;
  return NOT_RUN[slot] ?? `scriptlet slot %${slot} is not run by layer`;
}

/**
 * The files of a transaction a %transfiletriggerin fires for: those under any of its path
 * prefixes (the condition names), in the order given. Empty means: do not run it.
 */
export function transFileTriggerMatches(s: Pick<Scriptlet, 'conditions'>, paths: Iterable<string>): string[] {
  const prefixes = (s.conditions ?? []).filter((c) => c.when === 'in').map((c) => c.name);
  const out: string[] = [];
  for (const p of paths) if (prefixes.some((pre) => p.startsWith(pre))) out.push(p);
  return out;
}

/** rpm's default `%_install_script_path`. */
export const SCRIPT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const FLAG_EXPAND = 1;
const FLAG_QFORMAT = 2;

export interface RunScriptletOptions {
  report?: Report;
  /** Per-scriptlet time limit; default 5 minutes. */
  timeoutMs?: number;
  /** `$1`: instances of the package after the operation; default 1 (install). */
  instances?: number;
  /** Lua scriptlets allowed to be skipped; default DEFAULT_LUA_SKIPS. */
  luaSkips?: readonly LuaSkip[];
  /** For %transfiletriggerin: the matching file paths, fed on stdin one per line. */
  triggerFiles?: readonly string[];
}

export interface ScriptletOutcome {
  kind: string;
  /** 'ran' with output, or 'skipped' with the reason. */
  status: 'ran' | 'skipped';
  reason?: string;
  output: string;
  ms: number;
}

function fail(pkg: ScriptletPackage, kind: string, message: string, opts: { hint?: string; output?: string } = {}): LayerError {
  const out = opts.output?.trim() ? `\n--- output of %${kind}(${pkg.nevra}) ---\n${opts.output.trimEnd()}` : '';
  return new LayerError('LAYER_SCRIPTLET', `${pkg.nevra}: %${kind} scriptlet ${message}${out}`, { hint: opts.hint });
}

function interpreterArgv(s: Scriptlet): string[] {
  // rpm's default when a header has a body but no PROG tag.
  return [s.interpreter.trim() || '/bin/sh', ...(s.args ?? [])];
}

/**
 * Run one scriptlet of `pkg` inside `tree`. Returns what happened ('skipped' for kinds layer
 * does not run and allow-listed Lua); throws LAYER_SCRIPTLET when the scriptlet fails, times
 * out, is Lua not on the allow-list, or its interpreter is missing from the tree.
 */
export async function runScriptlet(
  tree: string,
  pkg: ScriptletPackage,
  scriptlet: Scriptlet,
  opts: RunScriptletOptions = {},
): Promise<ScriptletOutcome> {
  const report = opts.report ?? silentReport;
  const kind = slotOf(scriptlet);
  const skip = skipReason(kind);
  if (skip) {
    report.info('scriptlet.not-run', `${pkg.nevra}: not running %${kind}: ${skip}`);
    return { kind, status: 'skipped', reason: skip, output: '', ms: 0 };
  }
  const argv = interpreterArgv(scriptlet);
  const interp = argv[0]!;
  if (interp === '<lua>') {
    const allowed = (opts.luaSkips ?? DEFAULT_LUA_SKIPS).find((l) => l.name === pkg.name && l.kind === kind);
    if (!allowed) {
      throw fail(pkg, kind, 'is written in Lua (<lua>), which layer cannot run', {
        hint: `layer runs scriptlets with the tree's own interpreters; if skipping it is known to be safe, add { name: '${pkg.name}', kind: '${kind}', why: ... } to the Lua allow-list`,
      });
    }
    report.info('scriptlet.lua-skipped', `${pkg.nevra}: skipping Lua %${kind}: ${allowed.why}`);
    return { kind, status: 'skipped', reason: allowed.why, output: '', ms: 0 };
  }
  if ((scriptlet.flags ?? 0) & (FLAG_EXPAND | FLAG_QFORMAT)) {
    throw fail(pkg, kind, 'asks for install-time macro or queryformat expansion (rpm -e/-q scriptlet flags), which layer does not support');
  }
  if (!interp.startsWith('/')) throw fail(pkg, kind, `has a relative interpreter path ${JSON.stringify(interp)}`);
  if (!(await resolveInTree(tree, interp))) {
    throw fail(pkg, kind, `needs interpreter ${interp}, which the new tree does not have`, {
      hint: `add the package that provides ${interp} to the layered packages (or the base image)`,
    });
  }

  const work = await mkdtemp(join(tmpdir(), 'layer-scriptlet-'));
  try {
    const roBinds: [string, string][] = [];
    const inner = [...argv];
    if (scriptlet.body !== undefined && scriptlet.body !== '') {
      const file = join(work, 'script');
      await writeFile(file, scriptlet.body);
      const inside = `/tmp/layer-script.${kind}`;
      roBinds.push([file, inside]);
      inner.push(inside, String(opts.instances ?? 1));
    }
    let path = SCRIPT_PATH;
    // An interpreter run without a script (`%post -p /sbin/ldconfig`, layer's own ld.so cache
    // refresh) execs that program alone: only a script can call useradd and friends.
    const shims = scriptlet.body ? await missingAccountTools(tree) : [];
    if (shims.length > 0) {
      const dir = join(work, 'shims');
      await mkdir(dir, { mode: 0o755 });
      for (const cmd of shims) {
        await writeFile(join(dir, cmd), SHIM_SCRIPTS[cmd]!);
        await chmod(join(dir, cmd), 0o755);
      }
      roBinds.push([dir, SHIM_DIR]);
      path = `${SHIM_DIR}:${path}`;
      report.info('scriptlet.shims', `${pkg.nevra}: the new tree lacks ${shims.join(', ')}; using layer's fallback shims`);
    }
    const env: Record<string, string> = { PATH: path, HOME: '/root', LANG: 'C', TMPDIR: '/tmp' };
    (pkg.prefixes ?? []).forEach((p, i) => {
      if (i === 0) env.RPM_INSTALL_PREFIX = p;
      env[`RPM_INSTALL_PREFIX${i}`] = p;
    });
    const stdin = kind === 'transfiletriggerin' ? (opts.triggerFiles ?? []).map((f) => `${f}\n`).join('') : '';
    const res = await runInSandbox(tree, { argv: inner, env, stdin, roBinds, timeoutMs: opts.timeoutMs });
    return judge(pkg, kind, res, opts.timeoutMs, report);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The account tools (useradd, groupadd, getent) the tree lacks and the shims replace. */
export async function missingAccountTools(tree: string): Promise<string[]> {
  const missing: string[] = [];
  for (const [cmd, path] of SHIMMED) if (!(await resolveInTree(tree, path))) missing.push(cmd);
  return missing;
}

function judge(pkg: ScriptletPackage, kind: string, res: SandboxResult, timeoutMs: number | undefined, report: Report): ScriptletOutcome {
  if (res.timedOut) {
    throw fail(pkg, kind, `timed out after ${Math.round((timeoutMs ?? 300_000) / 1000)}s and was killed`, { output: res.output });
  }
  if (res.exitCode !== 0) {
    const how = res.exitCode === null ? `was killed by ${res.signal}` : `failed with exit status ${res.exitCode}`;
    throw fail(pkg, kind, how, { output: res.output });
  }
  report.record('scriptlet.ran', { package: pkg.nevra, kind, ms: Math.round(res.ms), output: res.output });
  if (res.output.trim()) report.info('scriptlet.output', `%${kind}(${pkg.nevra}): ${res.output.trimEnd()}`, { package: pkg.nevra, kind });
  return { kind, status: 'ran', output: res.output, ms: res.ms };
}

/**
 * Run every scriptlet of `pkg` for one slot (`pre`, `post` or `posttrans`), in header order.
 * Stops at the first failure (LAYER_SCRIPTLET).
 */
export async function runPackageScriptlets(
  tree: string,
  pkg: ScriptletPackage & { scriptlets: readonly Scriptlet[] },
  slot: Exclude<RunKind, 'transfiletriggerin'>,
  opts: RunScriptletOptions = {},
): Promise<ScriptletOutcome[]> {
  const out: ScriptletOutcome[] = [];
  for (const s of pkg.scriptlets) if (slotOf(s) === slot) out.push(await runScriptlet(tree, pkg, s, opts));
  return out;
}
