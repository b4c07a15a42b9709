/**
 * `layer config get KEY`, `layer config set KEY VALUE`, `layer config list`: the sysroot's
 * settings in `ostree/layer/config.json` (src/sysroot/config.ts). `get`/`list` are reads and take
 * no lock; `set` waits for the lock like any writer.
 */
import { configSet } from '../../engine/admin.js';
import { LayerError } from '../../errors.js';
import { CONFIG_KEYS, checkConfigKey, readConfig, Sysroot, type SysrootConfig } from '../../sysroot/index.js';
import { parseArgs } from '../args.js';
import { LOCK_TIMEOUT_OPTION, lockWaitOptions } from '../lock-wait.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer config get KEY [--sysroot DIR] [--json]
layer config set KEY VALUE [--sysroot DIR] [--json] [--lock-timeout SECONDS]
layer config list [--sysroot DIR] [--json]
  Settings of the sysroot (stored in ostree/layer/config.json):
${Object.entries(CONFIG_KEYS).map(([k, s]) => `    ${k}: ${s.doc}`).join('\n')}`;

function key(name: string | undefined): keyof SysrootConfig {
  if (name === undefined) throw new LayerError('LAYER_USAGE', 'layer config: name a setting', { hint: usage });
  return checkConfigKey(name);
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(`config ${sub ?? ''}`.trim(), rest, sub === 'set' ? LOCK_TIMEOUT_OPTION : {});
  const path = sysrootOf(p);
  if (sub === 'get' || sub === 'list') {
    const config = readConfig(Sysroot.open(path).stateDir);
    if (sub === 'list') {
      emit(p, config, () => Object.entries(config).map(([k, v]) => `${k}=${String(v)}\n`).join(''));
      return 0;
    }
    if (p.positionals.length !== 1) throw new LayerError('LAYER_USAGE', 'layer config get: name one setting', { hint: usage });
    const k = key(p.positionals[0]);
    emit(p, { [k]: config[k] }, () => `${String(config[k])}\n`);
    return 0;
  }
  if (sub === 'set') {
    if (p.positionals.length !== 2) throw new LayerError('LAYER_USAGE', 'layer config set: give a setting and a value', { hint: usage });
    const k = key(p.positionals[0]);
    const config = await configSet(path, `layer config ${argv.join(' ')}`, k, p.positionals[1]!, lockWaitOptions(p));
    emit(p, { [k]: config[k] }, () => `${k}=${String(config[k])}\n`);
    return 0;
  }
  throw new LayerError('LAYER_USAGE', `layer config: unknown subcommand '${sub ?? ''}'`, { hint: usage });
}
