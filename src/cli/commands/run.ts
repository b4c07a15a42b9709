/**
 * `layer run [--deployment D] [--net] [--bind SRC:DST]... [--ephemeral] -- CMD [ARG...]`: a
 * command inside a deployment's tree (engine/run.ts has the sandbox); its exit status and
 * output are passed through.
 */
import { resolve } from 'node:path';
// engine/run.js directly, not the engine index: a run must not pay for loading repos/compose.
import { runInDeployment, selectDeployment } from '../../engine/run.js';
import { LayerError } from '../../errors.js';
import { Sysroot } from '../../sysroot/index.js';
import { bool, COMMON, parseArgs, str, type OptionSpec } from '../args.js';
import { sysrootOf } from '../output.js';

export const usage = `layer run [--sysroot DIR] [--deployment N|ID|pending|booted|rollback] [--net] [--bind SRC:DST]... [--ephemeral] -- CMD [ARG...]
  Run CMD inside a deployment's tree (default: the default deployment, index 0) with bubblewrap:
  /usr and the rest of the tree read-only, the deployment's own /etc (writable, as on the booted
  host), the OS's shared /var (--ephemeral: a throwaway /etc copy and an empty /var), fresh
  /proc /dev /tmp /run, no network unless --net. --bind SRC:DST binds a host path read-write
  (repeatable). Exit status, stdout and stderr are CMD's; a signal N is 128+N.`;

export const RUN_OPTIONS: Record<string, OptionSpec> = { deployment: { value: true }, net: {}, ephemeral: {}, bind: { value: true } };

/**
 * Options end at `--` or at the first argument that is not an option, so `layer run sh -c X`
 * works and CMD's own options are never taken for ours. `--bind` may be repeated.
 */
export function splitCommand(
  argv: readonly string[],
  specs: Record<string, OptionSpec>,
): { options: string[]; command: string[]; binds: string[] } {
  const all = { ...COMMON, ...specs };
  const options: string[] = [];
  const binds: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return { options, command: argv.slice(i + 1), binds };
    if (!a.startsWith('-')) return { options, command: argv.slice(i), binds };
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] ?? '' : '';
    const takesValue = all[name]?.value === true && !a.includes('=');
    const value = takesValue ? argv[++i] : undefined;
    if (name === 'bind') {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : value;
      if (v === undefined) throw new LayerError('LAYER_USAGE', 'layer run: --bind needs a value SRC:DST');
      binds.push(v);
      continue;
    }
    options.push(a, ...(value === undefined ? [] : [value]));
  }
  return { options, command: [], binds };
}

/** `SRC:DST` → absolute host source and sandbox destination. */
export function parseBind(spec: string): { src: string; dst: string } {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || colon === spec.length - 1) throw new LayerError('LAYER_USAGE', `--bind takes SRC:DST, not '${spec}'`);
  return { src: resolve(spec.slice(0, colon)), dst: spec.slice(colon + 1) };
}

export async function run(argv: string[]): Promise<number> {
  const { options, command, binds } = splitCommand(argv, RUN_OPTIONS);
  const p = parseArgs('run', options, RUN_OPTIONS);
  if (command.length === 0) throw new LayerError('LAYER_USAGE', 'layer run: no command given', { hint: usage });
  const s = Sysroot.open(sysrootOf(p));
  const d = selectDeployment(s, str(p, 'deployment'));
  const r = await runInDeployment(d.path, command, {
    net: bool(p, 'net'), ephemeral: bool(p, 'ephemeral'), stdio: 'inherit', binds: binds.map(parseBind),
  });
  return r.status;
}
