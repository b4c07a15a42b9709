/**
 * `layer run`: a command inside a deployment's tree, as the deployment would run it booted,
 * with bubblewrap. What the demo's `openssl version` step did by hand; health checks
 * (health.ts) and the upgrade's smoke commands run through here too.
 *
 * The sandbox mirrors a booted OSTree system (README "Booting": what the initramfs sets up):
 *   - `/` is a tmpfs made read-only at the end; every top-level entry of the tree is bound
 *     into it read-only (directories), or recreated (symlinks such as `bin -> usr/bin`). So
 *     `/usr` and the rest of the tree are read-only, and mount points the tree lacks (`/var`,
 *     `/tmp`, `/run`, a `--bind` destination) are made in the tmpfs, never in the deployment
 *     directory, whose files are hardlinks into the object store.
 *   - `/etc` is the deployment's own, writable, as on the booted host: a change persists and
 *     is carried into the next deployment by the /etc merge. With `ephemeral` it is a
 *     throwaway copy instead.
 *   - `/var` is the stateroot's shared `ostree/deploy/<os>/var`, writable (what every
 *     deployment of the OS sees); with `ephemeral` an empty tmpfs.
 *   - fresh `/proc`, minimal `/dev`, tmpfs `/tmp` and `/run` (with `/run/ostree-booted`
 *     absent: this is not a boot).
 *   - no network (`--unshare-net`: only a private loopback) unless `net`; pid, ipc and uts
 *     namespaces are private; as root, capabilities are cut down to the scriptlets' set (no
 *     CAP_SYS_ADMIN: the command must not be able to remount `/usr` writable and change the
 *     store's objects through their hardlinks).
 *
 * Exit status: the command's; killed by signal N is 128+N, as a shell reports it. When the
 * command never started (bubblewrap could not set the sandbox up, or the command cannot be
 * executed) the result is a LAYER_RUN error: bwrap's `--json-status-fd` reports `exit-code`
 * only for a command that ran, which is how the two are told apart.
 *
 * Locking: none. A run is a reader; a concurrent `cleanup` that removes the deployment being
 * run is the caller's concern (as for `db list`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SCRIPT_CAPS } from '../compose/sandbox.js';
import { LayerError } from '../errors.js';
import { boundedOutput, bwrapHint, killGroup } from '../util/child.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';
import { walkTree } from '../util/tree-path.js';
import { now } from '../util/clock.js';

export interface RunOptions {
  /** Share the host's network (default: none, only a private loopback). */
  net?: boolean;
  /** Host paths bound read-write into the sandbox: `src` on the host at `dst` inside. */
  binds?: readonly { src: string; dst: string }[];
  /** A throwaway `/var` (tmpfs) and `/etc` (a copy): nothing the command does survives it. */
  ephemeral?: boolean;
  /**
   * 'inherit': the command shares our stdin, stdout and stderr (`layer run`).
   * 'collect': stdin is empty, stdout and stderr are collected interleaved (health checks).
   */
  stdio?: 'inherit' | 'collect';
  /** Kill the sandbox (every process in it) after this long. Default: no limit. */
  timeoutMs?: number;
  /** With 'collect', keep at most this many bytes of output (the tail wins). Default 1 MiB. */
  maxOutput?: number;
  /** Extra environment variables (on top of PATH, HOME, TERM, LANG). */
  env?: Record<string, string>;
  /** The shared /var to bind; default: `../../var` of a deployment directory, when it exists. */
  varDir?: string;
}

export interface RunResult {
  /** What a shell would report: the exit code, or 128+N when killed by signal N. */
  status: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, with stdio 'collect'; '' with 'inherit'. */
  output: string;
  ms: number;
}

const DEFAULT_MAX_OUTPUT = 1 << 20;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Mount points the sandbox provides itself; the tree's (empty) directories of these names are not used. */
const PROVIDED = new Set(['etc', 'var', 'proc', 'dev', 'tmp', 'run']);

/**
 * The deployment a `--deployment` option names: `booted`, `pending`, `rollback`, an index in
 * boot order, an id or a checksum prefix; default (undefined) the default deployment (index 0,
 * what the next boot starts). LAYER_USAGE when there is no such deployment.
 */
export function selectDeployment(sysroot: Sysroot, spec: string | undefined): Deployment {
  const st = sysroot.status();
  const role = (d: Deployment | undefined, what: string): Deployment => {
    if (!d) throw new LayerError('LAYER_USAGE', `${sysroot.path} has no ${what} deployment`, { hint: 'see layer status' });
    return d;
  };
  if (spec === undefined) return role(st.deployments[0], 'default');
  if (spec === 'booted') return role(st.booted, 'booted');
  if (spec === 'pending') return role(st.pending, 'pending');
  if (spec === 'rollback') return role(st.rollback, 'rollback');
  return sysroot.find(spec);
}

/** `ostree/deploy/<os>/var` of a deployment directory `ostree/deploy/<os>/deploy/<id>`, if there is one. */
export function sharedVarOf(deploymentPath: string): string | undefined {
  const v = join(dirname(dirname(deploymentPath)), 'var');
  return basename(dirname(deploymentPath)) === 'deploy' && existsSync(v) ? v : undefined;
}

/**
 * The host path of `name` as the sandbox's `execvp` would find it (PATH search for a bare
 * name; symlinks resolved inside the tree), or undefined. Checked before starting so that a
 * missing command is a clear error rather than bwrap's one-line execvp complaint.
 */
export function findCommand(tree: string, name: string): string | undefined {
  const candidates = name.includes('/') ? [name.startsWith('/') ? name : `/${name}`] : PATH.split(':').map((d) => `${d}/${name}`);
  for (const c of candidates) {
    const host = walkTree(tree, c, { mustExist: true });
    if (host && statSync(host).isFile()) return host;
  }
  return undefined;
}

/** The bwrap arguments for a run in `tree` (without the command). Exported for tests and debugging. */
export function runArgs(tree: string, opts: RunOptions & { etcDir: string }): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session', '--hostname', 'layer-run'];
  if (!opts.net) args.push('--unshare-net');
  args.push('--tmpfs', '/');
  for (const name of readdirSync(tree).sort()) {
    if (PROVIDED.has(name)) continue;
    const host = join(tree, name);
    const st = lstatSync(host);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(host), `/${name}`);
    else if (st.isDirectory() || st.isFile()) args.push('--ro-bind', host, `/${name}`);
  }
  args.push('--bind', opts.etcDir, '/etc');
  const varDir = opts.ephemeral ? undefined : opts.varDir;
  if (varDir) args.push('--bind', varDir, '/var');
  else args.push('--tmpfs', '/var');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run');
  for (const b of opts.binds ?? []) args.push('--bind', b.src, b.dst);
  // Last: the tmpfs root itself read-only (not recursive: /etc, /var, /tmp stay writable).
  args.push('--remount-ro', '/');
  if (process.getuid?.() === 0) {
    args.push('--cap-drop', 'ALL');
    for (const cap of SCRIPT_CAPS) args.push('--cap-add', cap);
  }
  const env: Record<string, string> = {
    PATH, HOME: process.getuid?.() === 0 ? '/root' : '/', LANG: 'C.UTF-8',
    ...(process.env.TERM ? { TERM: process.env.TERM } : {}), ...opts.env,
  };
  args.push('--chdir', '/', '--clearenv');
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  return args;
}

/**
 * Run `argv` inside the deployment tree at `deploymentPath` (see the module comment for the
 * sandbox). Resolves with the command's status whatever it is; rejects with LAYER_RUN when the
 * command is not in the tree or the sandbox could not be set up, LAYER_USAGE for a bad bind.
 */
export async function runInDeployment(deploymentPath: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const cmd = argv[0];
  if (cmd === undefined) throw new LayerError('LAYER_USAGE', 'no command given', { hint: 'layer run [OPTIONS] -- CMD [ARG...]' });
  if (!existsSync(join(deploymentPath, 'usr'))) throw new LayerError('LAYER_SYSROOT', `${deploymentPath} is not a deployment tree (no /usr)`);
  if (!findCommand(deploymentPath, cmd)) {
    throw new LayerError('LAYER_RUN', `${cmd}: command not found in deployment ${basename(deploymentPath)}`, { hint: 'is the package that ships it installed there? see layer db list' });
  }
  for (const b of opts.binds ?? []) {
    if (!b.dst.startsWith('/')) throw new LayerError('LAYER_USAGE', `--bind ${b.src}:${b.dst}: the destination must be an absolute path`);
    if (!existsSync(b.src)) throw new LayerError('LAYER_USAGE', `--bind ${b.src}:${b.dst}: ${b.src} does not exist`);
  }
  // A throwaway /etc is a copy (cp -a keeps owners, modes and links), removed afterwards.
  const scratch = opts.ephemeral ? mkdtempSync(join(tmpdir(), 'layer-run-')) : undefined;
  // An interrupted `layer run` exits from its signal handler (cli/main.ts): remove the copy then too.
  const removeScratch = (): void => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  if (scratch) process.once('exit', removeScratch);
  try {
    let etcDir = join(deploymentPath, 'etc');
    if (scratch) {
      execFileSync('cp', ['-a', '--', etcDir, join(scratch, 'etc')]);
      etcDir = join(scratch, 'etc');
    }
    const varDir = opts.varDir ?? sharedVarOf(deploymentPath);
    const args = runArgs(deploymentPath, { ...opts, etcDir, ...(varDir ? { varDir } : {}) });
    return await spawnSandbox(args, argv, opts);
  } finally {
    removeScratch();
    process.removeListener('exit', removeScratch);
  }
}

function spawnSandbox(args: string[], argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  const collect = opts.stdio === 'collect';
  const maxOutput = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const t0 = now();
  return new Promise((resolve, reject) => {
    // fd 3: bwrap's JSON status ("exit-code" appears only when the command ran).
    const child = spawn('bwrap', ['--json-status-fd', '3', ...args, '--', ...argv], {
      detached: true,
      stdio: [collect ? 'pipe' : 'inherit', collect ? 'pipe' : 'inherit', collect ? 'pipe' : 'inherit', 'pipe'],
    });
    const out = boundedOutput(maxOutput);
    child.stdout?.on('data', out.push);
    child.stderr?.on('data', out.push);
    child.stdin?.on('error', () => {});
    child.stdin?.end();
    let status = '';
    const statusPipe = child.stdio[3];
    statusPipe?.on('data', (b: Buffer) => (status += b.toString('utf8')));
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new LayerError('LAYER_RUN', `cannot start bubblewrap (bwrap): ${err.message}`, {
        hint: bwrapHint(err),
        cause: err,
      }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid);
      const output = out.text();
      const ms = now() - t0;
      const ran = /"exit-code"/.test(status);
      if (!ran && !timedOut) {
        // bwrap said why on stderr (the terminal with 'inherit', `output` with 'collect').
        const why = collect ? `: ${output.trim().split('\n').pop() ?? ''}` : ' (bwrap said why above)';
        reject(new LayerError('LAYER_RUN', `${argv[0] ?? ''} could not be started in the sandbox${why}`));
        return;
      }
      const shellStatus = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1);
      resolve({ status: shellStatus, exitCode: code, signal, timedOut, output, ms });
    });
  });
}

