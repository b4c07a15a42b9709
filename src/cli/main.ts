#!/usr/bin/env node
/**
 * The `layer` command: dispatch to one thin command module, map errors to exit statuses.
 *
 * Exit statuses: 0 success; 77 nothing changed (only with --unchanged-exit-77); 1 an error
 * (LayerError: one line `error: <message> [CODE]` on stderr, then `hint:` when there is one;
 * also "Aborted." when the confirmation question is answered no);
 * 2 a usage error; 3 the sysroot is locked by another transaction; 70 an internal error (a bug).
 */
import { liftoffOnly } from './liftoff.js';
import { asLayerError, LayerError } from '../errors.js';
import { releaseAllScratch } from '../compose/scratch.js';

// Before the solver's wasm is compiled (liftoff.ts says why).
liftoffOnly();

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  init: () => import('./commands/init.js'),
  install: () => import('./commands/install.js'),
  uninstall: () => import('./commands/uninstall.js'),
  override: () => import('./commands/override.js'),
  rollback: () => import('./commands/rollback.js'),
  status: () => import('./commands/status.js'),
  db: () => import('./commands/db.js'),
  cleanup: () => import('./commands/cleanup.js'),
  fsck: () => import('./commands/fsck.js'),
  pin: () => import('./commands/pin.js'),
  config: () => import('./commands/config.js'),
  'refresh-md': () => import('./commands/refresh-md.js'),
  'boot-pending': () => import('./commands/boot-pending.js'),
  run: () => import('./commands/run.js'),
  'health-check': () => import('./commands/health-check.js'),
  why: () => import('./commands/why.js'),
  report: () => import('./commands/report.js'),
  upgrade: () => import('./commands/upgrade.js'),
  deploy: () => import('./commands/deploy.js'),
  rebase: () => import('./commands/rebase.js'),
  compose: () => import('./commands/compose.js'),
  export: () => import('./commands/export.js'),
};

const HELP = `usage: layer COMMAND [options]

Commands:
  init          compose a base from packages (or take an ostree commit, or pull one over HTTP) and deploy it
  install       layer packages (names, provides, file paths, local .rpm files)
  uninstall     remove layered packages
  override      override remove PKG... | override reset PKG...|--all (base packages left out)
  rollback      make the rollback deployment the default (again to undo)
  status        show deployments (-v: packages, repos, pins; -b: booted only; --json: rpm-ostree's field names)
  db            db list [DEPLOYMENT] | db diff [FROM [TO]]
  cleanup       remove unreferenced deployments and objects (-p: the pending, -r: the rollback deployments)
  fsck          check the store and deployments (--repair: re-import what is lost)
  pin           pin a deployment so retention and cleanup keep it (--unpin to undo)
  config        config get|set|list: the sysroot's settings (retention)
  refresh-md    fetch fresh repo metadata
  boot-pending  mark the default deployment booted (stand-in for a reboot on a directory sysroot)
  run           run a command inside a deployment's tree (bubblewrap; read-only /usr, no network unless --net)
  health-check  run a deployment's /etc/layer/health.d checks (required ones failing: exit 1)
  why           why a package is in a deployment: requested, the dependency chain, or the base
  report        report.json + report.html comparing two deployments (what upgrade --report writes)
  upgrade       a newer base with the layered packages re-solved on it (--check, --preview: metadata only)
  deploy        a given commit of the base's ref (checksum or version=V), pinned; --unpin to follow the ref
  rebase        another OSTree ref as the base, layered packages carried
  compose       compose a base from a recipe into an archive OSTree repo (served over HTTP to a fleet)
  export        an OSTree commit as an OCI image (--oci DIR|oci-archive:FILE), layers split by package

Every command takes --sysroot DIR (default /) and --json. See layer COMMAND --help.
`;

/** Exit status of an error: see the module comment (74 is sysexits' EX_IOERR). */
export function exitStatus(err: unknown): number {
  const e = asLayerError(err);
  if (e.code === 'LAYER_USAGE') return 2;
  if (e.code === 'LAYER_LOCKED') return 3;
  if (e.code === 'LAYER_IO') return 74;
  if (e.code === 'LAYER_INTERNAL') return 70;
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) throw new LayerError('LAYER_USAGE', `unknown command '${name}'`, { hint: 'see layer --help' });
  const cmd = await load();
  // After `--` the arguments are another program's (`layer run -- ls --help`).
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(cmd.usage + '\n');
    return 0;
  }
  return cmd.run(rest);
}

// An interrupted run removes its scratch trees (and unmounts a scriptlet overlay) at once,
// instead of leaving them for the next transaction; the lock file goes with the process.
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    releaseAllScratch();
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Interrupted' : 'Terminated'}: nothing was changed by the unfinished transaction.\n`);
    process.exit(status);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = asLayerError(err);
    // A stack trace is for developers: LAYER_DEBUG=1 shows it, for any error.
    const debug = process.env.LAYER_DEBUG === '1' && err instanceof Error ? `\n${err.stack ?? ''}` : '';
    process.stderr.write(`error: ${e.message.replace(/\n/g, ' ')} [${e.code}]\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (debug) process.stderr.write(`${debug.trim()}\n`);
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.data ? { data: e.data } : {}) } }) + '\n');
    process.exitCode = exitStatus(err);
  },
);
