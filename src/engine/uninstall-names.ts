/**
 * What `layer uninstall X` means, as dnf's `remove` reads it: X is a requested spec as typed, or
 * any spelling of a package a request resolved to — name, name.arch, N-V, N-V-R, N-V-R.A, the
 * epoch forms, globs in any part — and then the request that selected that package goes. A
 * package only a dependency is not removable on its own: the error says which request keeps it;
 * a base package says it is part of the base.
 */
import { LayerError } from '../errors.js';
import { parseNevra } from '../nevra.js';
import type { Request } from '../request/index.js';
import { globToRegExp, specForms } from '../repos/filter.js';
import type { Sysroot } from '../sysroot/index.js';
import { explainPackage } from './why.js';

/** The requested specs (or local package NEVRAs) `names` stand for; names matching nothing pass through as typed. */
export function resolveUninstallNames(sysroot: Sysroot, current: Request, names: readonly string[]): string[] {
  const deployment = sysroot.deployments()[0];
  const out: string[] = [];
  for (const typed of names) {
    const direct = current.requested.includes(typed) || current.requestedLocal.some((l) => l.nevra === typed);
    if (direct || !deployment) {
      out.push(typed);
      continue;
    }
    const re = globToRegExp(typed);
    const hits = (deployment.origin.layered ?? []).filter((n) => {
      const p = parseNevra(n);
      return p !== undefined && specForms(p).some((f) => re.test(f));
    });
    if (hits.length === 0) {
      out.push(typed);
      continue;
    }
    for (const nevra of hits) out.push(requestFor(sysroot, deployment, current, typed, nevra));
  }
  return [...new Set(out)];
}

function requestFor(sysroot: Sysroot, deployment: NonNullable<ReturnType<Sysroot['deployments']>[number]>, current: Request, typed: string, nevra: string): string {
  const local = current.requestedLocal.find((l) => l.nevra === nevra);
  if (local) return local.nevra;
  const [why] = explainPackage(sysroot, deployment, nevra);
  if (why?.reason === 'requested' && why.requestedAs !== undefined && current.requested.includes(why.requestedAs)) return why.requestedAs;
  if (why?.reason === 'dependency' && why.requestedAs !== undefined) {
    const chain = why.steps.map((s) => s.nevra).join(' → ');
    throw new LayerError('LAYER_NOT_REQUESTED', `'${typed}' (${nevra}) is not requested: the request '${why.requestedAs}' keeps it (${chain})`, {
      hint: `uninstall ${why.requestedAs} to remove it with its dependencies`,
    });
  }
  throw new LayerError('LAYER_NOT_REQUESTED', `'${typed}' (${nevra}) is not a layered request`, { hint: `layer why ${nameOfTyped(nevra)} tells where it comes from` });
}

function nameOfTyped(nevra: string): string {
  return parseNevra(nevra)?.name ?? nevra;
}
