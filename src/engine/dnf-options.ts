/**
 * The dnf options of a compose: the command line's, else dnf.conf's [main] (the deployment's
 * /etc/dnf/dnf.conf, as dnf reads it), else dnf's defaults. A flag given wins over the file,
 * as dnf's command-line options and --setopt win over dnf.conf.
 */
import type { ComposeOptions } from '../compose/index.js';
import type { DnfMainConfig } from '../repos/index.js';
import type { EngineOptions } from './types.js';

export function dnfComposeOptions(o: EngineOptions, main: DnfMainConfig): ComposeOptions {
  const best = o.best ?? main.best;
  const limit = o.installonlyLimit ?? main.installonlyLimit;
  const notWeak = o.excludeFromWeak ?? main.excludeFromWeak;
  return {
    ...(best ? { best: true } : {}),
    ...(limit !== undefined ? { installonlyLimit: limit } : {}),
    ...(notWeak?.length ? { excludeFromWeak: notWeak } : {}),
    ...(main.installonlyPkgs.length ? { installonlyPkgs: main.installonlyPkgs } : {}),
  };
}
