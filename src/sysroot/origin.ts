/**
 * `.origin` files: GKeyFile text in rpm-ostree's shape (formats.md §3): `[origin] baserefspec`,
 * `[packages] requested= / requested-local=`, `[overrides] remove= / replace-local=`
 * (and layer's `replace-from-repo=`). layer adds
 * `[origin] base-commit=` (the base is pinned, so recomposition is reproducible) and a `[layer]`
 * group for facts about the composed result (input digest, layered NEVRAs), and `[recipe]`
 * (packages=, repos=, and local= for the recipe's own `.rpm` files) for a base composed from packages.
 */
import { LayerError } from '../errors.js';
import { parseRepoReplacement, repoReplacementText, type LocalPackage } from '../request/index.js';
import { isChecksum, type Checksum } from '../store/index.js';
import type { Origin } from './types.js';

/** GKeyFile lists end every item with `;`. Items with `;` or newlines are rejected when writing. */
function list(items: readonly string[]): string {
  for (const i of items) {
    if (/[;\n\r]/.test(i)) throw new LayerError('LAYER_USAGE', `'${i}' cannot be recorded in an origin file (contains ';' or a newline)`);
  }
  return items.map((i) => `${i};`).join('');
}

function splitList(v: string | undefined): string[] {
  return (v ?? '').split(';').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function formatOrigin(o: Origin): string {
  // rpm-ostree records `layer deploy REV`'s pin as override-commit= (read back as the pin).
  const lines = ['[origin]', `baserefspec=${o.baseRef}`, `base-commit=${o.baseCommit}`, ...(o.pinned ? [`override-commit=${o.baseCommit}`] : []), ''];
  if (o.requested.length > 0 || o.requestedLocal.length > 0) {
    lines.push('[packages]');
    if (o.requested.length > 0) lines.push(`requested=${list(o.requested)}`);
    if (o.requestedLocal.length > 0) lines.push(`requested-local=${list(o.requestedLocal.map((l) => `${l.sha256}:${l.nevra}`))}`);
    lines.push('');
  }
  const replaced = o.replacedLocal ?? [];
  const fromRepo = o.replacedFromRepo ?? [];
  if (o.removed.length > 0 || replaced.length > 0 || fromRepo.length > 0) {
    lines.push('[overrides]');
    if (o.removed.length > 0) lines.push(`remove=${list(o.removed)}`);
    // rpm-ostree's key for base packages replaced by local files.
    if (replaced.length > 0) lines.push(`replace-local=${list(replaced.map((l) => `${l.sha256}:${l.nevra}`))}`);
    // layer's key for base packages replaced from a repo (`override replace --from repo=NAME`): REPO:NAME items.
    if (fromRepo.length > 0) lines.push(`replace-from-repo=${list(fromRepo.map(repoReplacementText))}`);
    lines.push('');
  }
  // A recipe base: what it was composed from, so it can be composed again (upgrade).
  if (o.recipe) {
    const local = o.recipe.local?.length ? [`local=${list(o.recipe.local.map((l) => `${l.sha256}:${l.nevra}`))}`] : [];
    lines.push('[recipe]', `packages=${list(o.recipe.packages)}`, `repos=${list(o.recipe.repos)}`, ...local, '');
  }
  const extra: string[] = [];
  if (o.inputDigest) extra.push(`input-digest=${o.inputDigest}`);
  if (o.layered && o.layered.length > 0) extra.push(`layered=${list(o.layered)}`);
  if (o.inactive && o.inactive.length > 0) extra.push(`inactive=${list(o.inactive)}`);
  if (extra.length > 0) lines.push('[layer]', ...extra, '');
  return lines.join('\n');
}

/** A list of `<sha256>:<nevra>` items (local packages by content); `key` and `file` name it in errors. */
function localItems(value: string | undefined, key: string, file: string): LocalPackage[] {
  return splitList(value).map((s) => {
    const i = s.indexOf(':');
    if (i !== 64) throw new LayerError('LAYER_SYSROOT', `${file}: ${key} item '${s}' is not <sha256>:<nevra>`);
    return { sha256: s.slice(0, i), nevra: s.slice(i + 1) };
  });
}

/** Parse an origin file; `file` names it in errors. */
export function parseOrigin(text: string, file: string): Origin {
  const groups = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const g = /^\[([^\]]+)\]$/.exec(line);
    if (g) {
      current = new Map();
      groups.set(g[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) throw new LayerError('LAYER_SYSROOT', `${file}:${n + 1}: not a key file line: '${line}'`);
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const origin = groups.get('origin');
  const baseRef = origin?.get('baserefspec') ?? origin?.get('refspec');
  const baseCommit = origin?.get('base-commit') ?? origin?.get('override-commit');
  if (!baseRef || !baseCommit || !isChecksum(baseCommit)) {
    throw new LayerError('LAYER_SYSROOT', `${file}: [origin] needs baserefspec= and a 64-hex base-commit=`);
  }
  const pkgs = groups.get('packages');
  const layer = groups.get('layer');
  const o: Origin = {
    baseRef,
    baseCommit: baseCommit as Checksum,
    requested: splitList(pkgs?.get('requested')),
    requestedLocal: localItems(pkgs?.get('requested-local'), 'requested-local', file),
    removed: splitList(groups.get('overrides')?.get('remove')),
  };
  if (origin?.has('override-commit')) o.pinned = true;
  const replacedLocal = localItems(groups.get('overrides')?.get('replace-local'), 'replace-local', file);
  if (replacedLocal.length > 0) o.replacedLocal = replacedLocal;
  const fromRepo = splitList(groups.get('overrides')?.get('replace-from-repo')).map((s) => {
    const r = parseRepoReplacement(s);
    if (!r) throw new LayerError('LAYER_SYSROOT', `${file}: replace-from-repo item '${s}' is not <repo>:<name>`);
    return r;
  });
  if (fromRepo.length > 0) o.replacedFromRepo = fromRepo;
  const recipe = groups.get('recipe');
  if (recipe) {
    const local = localItems(recipe.get('local'), 'local', file);
    o.recipe = { packages: splitList(recipe.get('packages')), repos: splitList(recipe.get('repos')), ...(local.length ? { local } : {}) };
  }
  const digest = layer?.get('input-digest');
  if (digest) o.inputDigest = digest;
  const layered = splitList(layer?.get('layered'));
  if (layered.length > 0) o.layered = layered;
  const inactive = splitList(layer?.get('inactive'));
  if (inactive.length > 0) o.inactive = inactive;
  return o;
}
