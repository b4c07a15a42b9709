/**
 * Run one program inside a root tree with bubblewrap, the way rpm-ostree runs scriptlets:
 * the tree is `/`, nothing of the host is visible.
 *
 * Mounts (in bwrap order, later ones stack on earlier ones):
 *   - the tree, read-write, as `/` — scriptlets legitimately edit /etc and /usr of the
 *     NEW tree (useradd writes /etc/passwd, post scripts regenerate caches);
 *   - `/var` read-only: on an OSTree host /var is per-machine state that a deployment must
 *     not ship, so a scriptlet writing there is a packaging bug we want to see fail;
 *   - a fresh tmpfs on `/tmp` (and `/run`), a minimal `/dev` and a fresh `/proc`;
 *   - extra read-only binds the caller asks for (script files, shims), placed after the
 *     tmpfs so they land inside it and never create files in the tree.
 * Namespaces: net, pid, ipc, uts are unshared (no network: only a private loopback);
 * as root, capabilities are cut down to SCRIPT_CAPS (no mounting, no module loading);
 * `--die-with-parent` and `--new-session` keep the child from outliving us or reaching the
 * controlling terminal. The environment is cleared; only `env` is passed in.
 *
 * Time limit: bwrap runs as the leader of its own process group; on timeout the whole group
 * gets SIGKILL. bwrap's init is pid 1 of the sandbox's pid namespace, so everything the
 * script forked (even setsid'd or backgrounded) dies with it.
 *
 * Locking: none here; the caller owns the tree for the duration of the call.
 * What not to assume: bwrap creates a missing mount point (e.g. `/proc`) inside the tree.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { boundedOutput, bwrapHint, killGroup } from '../util/child.js';
import { now } from '../util/clock.js';

export interface SandboxRun {
  /** argv inside the sandbox; argv[0] is a path in the tree. */
  argv: string[];
  /** The whole environment of the child (bwrap --clearenv first). */
  env?: Record<string, string>;
  /** Bytes for the child's stdin (closed after writing); empty stdin otherwise. */
  stdin?: string | Uint8Array;
  /** Kill the whole sandbox after this long. Default 5 minutes. */
  timeoutMs?: number;
  /** Extra host files/dirs bound read-only into the sandbox: [host path, sandbox path]. */
  roBinds?: readonly (readonly [string, string])[];
  /** Keep at most this many bytes of output (the tail wins). Default 1 MiB. */
  maxOutput?: number;
}

export interface SandboxResult {
  /** Exit status, or null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** stdout and stderr interleaved in arrival order (what a user would have seen). */
  output: string;
  ms: number;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MAX_OUTPUT = 1 << 20;

/** Capabilities a scriptlet keeps when layer runs as root (what rpm's scripts need: chown, chmod, setcap, useradd). */
export const SCRIPT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_SETFCAP',
  'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_MKNOD', 'CAP_AUDIT_WRITE',
] as const;

/** The bwrap argv for running `run.argv` with `tree` as root. Exported for tests and debugging. */
export function bwrapArgs(tree: string, run: SandboxRun): string[] {
  const args = [
    '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts',
    '--die-with-parent', '--new-session',
    '--hostname', 'layer-scriptlet',
    '--bind', tree, '/',
  ];
  if (existsSync(join(tree, 'var'))) args.push('--ro-bind', join(tree, 'var'), '/var');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run');
  for (const [host, inside] of run.roBinds ?? []) args.push('--ro-bind', host, inside);
  // As root, keep only the capabilities package scripts legitimately use on files and
  // accounts; no CAP_SYS_ADMIN (mount), CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_NET_ADMIN, ...
  // Unprivileged bwrap already runs the child without capabilities.
  if (process.getuid?.() === 0) {
    args.push('--cap-drop', 'ALL');
    for (const cap of SCRIPT_CAPS) args.push('--cap-add', cap);
  }
  args.push('--chdir', '/', '--clearenv');
  for (const [k, v] of Object.entries(run.env ?? {})) args.push('--setenv', k, v);
  args.push('--', ...run.argv);
  return args;
}

/**
 * Run `run.argv` inside `tree` and collect its output. Resolves with the exit status even
 * when it is non-zero or the run timed out: judging the result is the caller's business.
 * Rejects only when bwrap itself cannot be started (LAYER_SCRIPTLET, naming the install).
 */
export function runInSandbox(tree: string, run: SandboxRun): Promise<SandboxResult> {
  const timeoutMs = run.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutput = run.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const t0 = now();
  return new Promise((resolve, reject) => {
    const child = spawn('bwrap', bwrapArgs(tree, run), { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = boundedOutput(maxOutput);
    child.stdout.on('data', out.push);
    child.stderr.on('data', out.push);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new LayerError('LAYER_SCRIPTLET', `cannot start bubblewrap (bwrap): ${err.message}`, {
          hint: bwrapHint(err),
          cause: err,
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A script may have left a daemon behind in our process group; never leave strays.
      killGroup(child.pid);
      resolve({ exitCode: code, signal, timedOut, output: out.text(), ms: now() - t0 });
    });
    // stdin: EPIPE when the child never reads it is fine.
    child.stdin.on('error', () => {});
    child.stdin.end(run.stdin ?? '');
  });
}
