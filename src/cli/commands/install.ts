/** `layer install PKG...`: names, provides, file paths, or local `.rpm` files. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayerError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, needPackages, runChange } from '../common.js';

export const usage = `layer install [--sysroot DIR] [--reposdir DIR] [-n|--dry-run] [-y] [--idempotent] [--allow-inactive]
              [-C|--cache-only] [--download-only] [--unchanged-exit-77] [--json] PKG|FILE.rpm...
  Layer packages on the current deployment: a new deployment is composed from the base with
  every requested package and becomes the default for the next boot.
  The transaction is shown first; on an interactive terminal, asks "Is this ok [y/N]:" unless -y.`;

/**
 * A local package argument as a path: `./x.rpm`, `/abs/x.rpm`, or a `file://` URL (scheme in
 * any case, as dnf accepts); undefined for a package spec. As in dnf, an argument ending in
 * `.rpm` is a file: one that does not exist is LAYER_USAGE (dnf: "Can not load RPM file"),
 * not a spec that matches no package.
 */
export function localRpmPath(arg: string): string | undefined {
  let path = arg;
  if (/^file:\/\//i.test(arg)) {
    try {
      path = fileURLToPath(`file://${arg.slice(7)}`);
    } catch {
      throw new LayerError('LAYER_USAGE', `'${arg}' is not a usable file:// URL`, { hint: 'use file:///absolute/path/to/package.rpm' });
    }
    if (!existsSync(path)) throw new LayerError('LAYER_USAGE', `local package ${path} (from ${arg}) does not exist`);
  }
  if (!path.endsWith('.rpm')) return undefined;
  if (!existsSync(path)) throw new LayerError('LAYER_USAGE', `local package ${path} does not exist`, { hint: 'give the path of an .rpm file (or a file:// URL)' });
  return resolve(path);
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('install', argv, TRANSACTION_FLAGS);
  needPackages('install', p.positionals);
  const { names, local } = splitLocalRpms(p.positionals);
  return runChange(p, { kind: 'install', packages: names, localRpms: local }, `layer install ${argv.join(' ')}`);
}

/** Command-line package arguments: specs, and local `.rpm` files (as absolute paths). */
export function splitLocalRpms(args: readonly string[]): { names: string[]; local: string[] } {
  const names: string[] = [];
  const local: string[] = [];
  for (const a of args) {
    const path = localRpmPath(a);
    if (path === undefined) names.push(a);
    else local.push(path);
  }
  return { names, local };
}
