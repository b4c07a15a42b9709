/**
 * The dnf options of a compose: the command line's, else dnf.conf's [main] (the deployment's
 * /etc/dnf/dnf.conf, as dnf reads it), else dnf's defaults. A flag given wins over the file,
 * as dnf's command-line options and --setopt win over dnf.conf.
 */
import type { ComposeOptions } from '../compose/index.js';
import { readDnfConf, type DnfMainConfig } from '../repos/index.js';
import type { Report } from '../report.js';
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

/** The `[main]` of the dnf.conf in `tree`, its malformed values warned about as dnf warns (and left at their defaults). */
export function readMainConf(tree: string | undefined, report: Report): DnfMainConfig {
  const main = readDnfConf(tree);
  for (const message of main.invalid) report.warn('dnf-conf.invalid', message, { message });
  return main;
}
