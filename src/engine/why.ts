/**
 * `layer why PKG`: why a package is in a deployment, from what the deployment itself records:
 * its origin (the request: specs, local packages, the recipe of a recipe base, the layered
 * NEVRAs) and its rpmdb (every installed header's requires, recommends and supplements).
 *
 * - A requested package: "requested", with the spec that selected it.
 * - Another layered package: the shortest chain from a requested package to it, each step a
 *   `requires` (with pre-requires), `recommends` or `supplements` edge (a supplementing
 *   package is pulled by the package it supplements: the edge runs backwards).
 * - A base package: "in the base"; for a recipe base also the chain from a recipe package.
 *
 * Dependencies are matched by capability name (and file path), not by version range: the
 * tree's packages are what the solver already chose, so a name match is the provider it used.
 * Rich dependencies (`(a or b)`, `(a if b)`) count every package name before `if`/`unless` as
 * an alternative. Several providers of one capability are all followed; the first shortest
 * chain (requires before recommends before supplements) is the answer.
 *
 * Locking: none (a reader).
 */
import { COMPOSE_KEYS } from '../compose/types.js';
import { LayerError } from '../errors.js';
import { openRpmdb } from '../rpmdb/index.js';
import { headerRecord } from '../rpmdb/record.js';
import type { PackageRecord } from '../solver/types.js';
import { commitMetadata } from '../store/index.js';
import type { Deployment, Sysroot } from '../sysroot/index.js';

export type EdgeKind = 'requires' | 'recommends' | 'supplements';

/** One step of a chain: `from` pulled `nevra` in through `kind` on `dep`. */
export interface WhyStep {
  kind: EdgeKind;
  /** The dependency as the header spells it (for supplements: the supplementing package's). */
  dep: string;
  nevra: string;
}

export interface WhyAnswer {
  nevra: string;
  name: string;
  /** requested: asked for by name/provide/file/local file; dependency: pulled in by a chain; base: in the base tree. */
  reason: 'requested' | 'dependency' | 'base' | 'unexplained';
  /** The spec (or local file's NEVRA) that selected it, for `requested`; the chain's root's, otherwise. */
  requestedAs?: string;
  /** The chain's root package (a requested one, or a recipe package of the base). */
  root?: string;
  steps: WhyStep[];
}

interface Pkg {
  nevra: string;
  rec: PackageRecord;
}

/** The capability names a dependency string may be satisfied by (see the module comment on rich deps). */
export function depNames(dep: string): string[] {
  const d = dep.trim();
  if (!d.startsWith('(')) return [d.split(/\s+/)[0] ?? d];
  const cond = /\s(if|unless)\s/.exec(d);
  const head = cond ? d.slice(0, cond.index) : d;
  const tokens = head.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean);
  const names: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (['and', 'or', 'with', 'without', 'else'].includes(t)) continue;
    if (/^[<>=]+$/.test(t)) {
      i++; // the version after a comparison
      continue;
    }
    names.push(t);
  }
  return names;
}

class Index {
  private readonly byCap = new Map<string, Pkg[]>();

  constructor(readonly pkgs: Pkg[]) {
    for (const p of pkgs) {
      for (const cap of [p.rec.name, ...p.rec.provides.map((x) => x.split(/\s+/)[0] ?? x), ...p.rec.files]) this.add(cap, p);
    }
  }

  private add(cap: string, p: Pkg): void {
    const list = this.byCap.get(cap);
    if (!list) this.byCap.set(cap, [p]);
    else if (!list.includes(p)) list.push(p);
  }

  providers(dep: string): Pkg[] {
    return depNames(dep).flatMap((n) => this.byCap.get(n) ?? []);
  }

  /** Outgoing edges of `p`, requires first. */
  edges(p: Pkg): { kind: EdgeKind; dep: string; to: Pkg }[] {
    const out: { kind: EdgeKind; dep: string; to: Pkg }[] = [];
    for (const dep of [...p.rec.prerequires, ...p.rec.requires]) for (const to of this.providers(dep)) out.push({ kind: 'requires', dep, to });
    for (const dep of p.rec.recommends) for (const to of this.providers(dep)) out.push({ kind: 'recommends', dep, to });
    for (const { dep, by } of this.supplementedBy().get(p) ?? []) out.push({ kind: 'supplements', dep, to: by });
    return out.filter((e) => e.to !== p);
  }

  private reverse: Map<Pkg, { dep: string; by: Pkg }[]> | undefined;

  /** For each package, the packages whose Supplements it satisfies (computed once). */
  private supplementedBy(): Map<Pkg, { dep: string; by: Pkg }[]> {
    if (this.reverse) return this.reverse;
    const m = new Map<Pkg, { dep: string; by: Pkg }[]>();
    for (const q of this.pkgs) {
      for (const dep of q.rec.supplements) {
        for (const p of this.providers(dep)) m.set(p, [...(m.get(p) ?? []), { dep, by: q }]);
      }
    }
    this.reverse = m;
    return m;
  }

  /** The package a request spec selected: name, NEVRA, provide, file, then name-version prefix. */
  match(spec: string): Pkg[] {
    const byName = this.pkgs.filter((p) => p.rec.name === spec || p.nevra === spec);
    if (byName.length > 0) return byName;
    const byCap = this.byCap.get(spec);
    if (byCap) return byCap;
    return this.pkgs.filter((p) => p.nevra.startsWith(`${spec}-`) || p.nevra.startsWith(`${spec}.`));
  }
}

/** Shortest chain from any root to `target` through packages in `allowed`, or undefined. */
function chain(index: Index, roots: Pkg[], target: Pkg, allowed: Set<Pkg>): { root: Pkg; steps: WhyStep[] } | undefined {
  const parent = new Map<Pkg, { from: Pkg; kind: EdgeKind; dep: string } | null>();
  const queue: Pkg[] = [];
  for (const r of roots) {
    if (!parent.has(r)) {
      parent.set(r, null);
      queue.push(r);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i];
    if (!p) break;
    if (p === target) break;
    for (const e of index.edges(p)) {
      if (parent.has(e.to) || !allowed.has(e.to)) continue;
      parent.set(e.to, { from: p, kind: e.kind, dep: e.dep });
      queue.push(e.to);
    }
  }
  if (!parent.has(target)) return undefined;
  const steps: WhyStep[] = [];
  let at = target;
  for (let link = parent.get(at); link; link = parent.get(at)) {
    steps.unshift({ kind: link.kind, dep: link.dep, nevra: at.nevra });
    at = link.from;
  }
  return { root: at, steps };
}

/**
 * Why `spec` (a package name or NEVRA) is in deployment `d`: one answer per installed match
 * (several for install-only packages such as kernels). LAYER_NO_MATCH when it is not installed.
 */
export function explainPackage(sysroot: Sysroot, d: Deployment, spec: string): WhyAnswer[] {
  return explainPackages(sysroot, d, [spec])[0] ?? [];
}

/** explainPackage for several specs with one read of the rpmdb (the upgrade report asks for every new package). */
export function explainPackages(sysroot: Sysroot, d: Deployment, specs: readonly string[]): WhyAnswer[][] {
  const db = openRpmdb(d.path);
  let pkgs: Pkg[];
  try {
    pkgs = db.packages().filter((p) => p.name !== 'gpg-pubkey').map((p) => ({ nevra: p.nevra, rec: headerRecord(p.header) }));
  } finally {
    db.close();
  }
  const index = new Index(pkgs);
  const targetsOf = (spec: string): Pkg[] => {
    const targets = pkgs.filter((p) => p.rec.name === spec || p.nevra === spec);
    if (targets.length === 0) {
      throw new LayerError('LAYER_NO_MATCH', `${spec} is not installed in ${d.osname} ${d.id}`, { hint: `see layer db list ${d.index}` });
    }
    return targets;
  };
  const layered = new Set(layeredNevras(sysroot, d));
  // Request roots: each requested spec's package(s), each local package by NEVRA.
  const requestedAs = new Map<Pkg, string>();
  for (const s of d.origin.requested) {
    for (const p of index.match(s)) if (layered.has(p.nevra) && !requestedAs.has(p)) requestedAs.set(p, s);
  }
  for (const l of d.origin.requestedLocal) for (const p of pkgs.filter((x) => x.nevra === l.nevra)) requestedAs.set(p, l.nevra);
  const all = new Set(pkgs);
  const base = new Set(pkgs.filter((p) => !layered.has(p.nevra)));
  const recipeRoots = (d.origin.recipe?.packages ?? []).flatMap((s) => index.match(s).filter((p) => base.has(p)));
  const answer = (t: Pkg): WhyAnswer => {
    const head = { nevra: t.nevra, name: t.rec.name };
    const asked = requestedAs.get(t);
    if (asked !== undefined) return { ...head, reason: 'requested', requestedAs: asked, steps: [] };
    if (base.has(t)) {
      const c = chain(index, recipeRoots, t, base);
      const recipeSpec = c && (d.origin.recipe?.packages ?? []).find((s) => index.match(s).includes(c.root));
      return { ...head, reason: 'base', ...(c ? { root: c.root.nevra, steps: c.steps, ...(recipeSpec ? { requestedAs: recipeSpec } : {}) } : { steps: [] }) };
    }
    const c = chain(index, [...requestedAs.keys()], t, all);
    if (!c) return { ...head, reason: 'unexplained', steps: [] };
    return { ...head, reason: 'dependency', root: c.root.nevra, requestedAs: requestedAs.get(c.root) ?? '', steps: c.steps };
  };
  return specs.map((spec) => targetsOf(spec).map(answer));
}

/** The deployment's layered NEVRAs: its origin's record, else its commit's metadata; [] when nothing is requested. */
function layeredNevras(sysroot: Sysroot, d: Deployment): string[] {
  if (d.origin.layered) return d.origin.layered;
  if (d.origin.requested.length === 0 && d.origin.requestedLocal.length === 0) return [];
  const v = commitMetadata(sysroot.store.readCommit(d.checksum), COMPOSE_KEYS.layered)?.value;
  return Array.isArray(v) ? v.map(String) : [];
}
