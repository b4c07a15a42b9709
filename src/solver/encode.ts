/**
 * Plain records and jobs -> the shim's compact buffers: one call per repo and one per solve,
 * instead of one wasm call per dependency. The tag letters and numeric codes below are the
 * contract with wasm/shim.c (ly_repo_add_records, ly_solve); change both together.
 */
import { LayerError } from '../errors.js';
import { formatEvr } from '../nevra.js';
import type { Job, JobAction, PackageRecord, Selector, SolveFlags } from './types.js';

const encoder = new TextEncoder();

/** libsolv's evr string: `[epoch:]version[-release]`, epoch omitted when 0. */
export function evrOf(epoch: number, version: string, release: string): string {
  return formatEvr({ epoch, version, release });
}

function bad(what: string, repo: string, pkg: string): LayerError {
  return new LayerError('LAYER_SOLVER', `repo ${repo}: package ${pkg || '(unnamed)'}: ${what}`);
}

/** NUL, tab and newline are structural in the shim's formats; nothing legitimate carries them. */
const forbidden = /[\0\t\n]/;

/** Encode records as tag-prefixed NUL-terminated strings (see ly_repo_add_records). */
export function encodeRecords(repo: string, records: Iterable<PackageRecord>): Uint8Array {
  const parts: string[] = [];
  const push = (tag: string, value: string, pkg: string): void => {
    if (forbidden.test(value)) throw bad(`value ${JSON.stringify(value)} contains a NUL, tab or newline`, repo, pkg);
    parts.push(tag + value);
  };
  const deps = (tag: string, list: readonly string[] | undefined, pkg: string): void => {
    for (const d of list ?? []) {
      if (!d.trim()) throw bad('empty dependency string', repo, pkg);
      push(tag, d, pkg);
    }
  };
  for (const r of records) {
    const id = `${r.name}-${evrOf(r.epoch, r.version, r.release)}.${r.arch}`;
    if (!r.name || /\s/.test(r.name)) throw bad(`invalid package name ${JSON.stringify(r.name)}`, repo, r.name);
    if (!r.version || /\s/.test(r.version) || /\s/.test(r.release) || /\s/.test(r.arch) || !r.arch) {
      throw bad('version, release and arch must be non-empty and without spaces', repo, id);
    }
    if (!Number.isInteger(r.epoch) || r.epoch < 0) throw bad(`invalid epoch ${r.epoch}`, repo, id);
    push('P', r.name, id);
    push('V', evrOf(r.epoch, r.version, r.release), id);
    push('A', r.arch, id);
    deps('p', r.provides, id);
    deps('r', r.requires, id);
    deps('R', r.prerequires, id);
    deps('c', r.conflicts, id);
    deps('o', r.obsoletes, id);
    deps('m', r.recommends, id);
    deps('g', r.suggests, id);
    deps('s', r.supplements, id);
    deps('e', r.enhances, id);
    for (const f of r.files ?? []) {
      if (!f.startsWith('/')) throw bad(`file path ${JSON.stringify(f)} is not absolute`, repo, id);
      push('f', f, id);
    }
    if (r.summary !== undefined) push('U', r.summary, id);
    if (r.location !== undefined) push('L', r.location, id);
    if (r.downloadSize !== undefined) push('D', String(r.downloadSize), id);
    if (r.installSize !== undefined) push('I', String(r.installSize), id);
    if (r.checksum !== undefined) push('K', r.checksum, id);
    if (r.buildTime !== undefined) push('B', String(r.buildTime), id);
    if (r.sourceRpm !== undefined) push('Q', r.sourceRpm, id);
  }
  return encoder.encode(parts.length ? parts.join('\0') + '\0' : '');
}

const actionCode: Record<JobAction, number> = {
  install: 1,
  erase: 2,
  update: 3,
  distupgrade: 4,
  lock: 5,
  favor: 6,
  disfavor: 7,
  exclude: 8,
  multiversion: 9,
  'exclude-from-weak': 10,
};
export const actionName = Object.fromEntries(Object.entries(actionCode).map(([k, v]) => [v, k])) as Record<number, JobAction>;

const F_CLEANDEPS = 1;
const F_WEAK = 2;
const F_FORCEBEST = 4;

function selectorFields(s: Selector | undefined): [number, string, string] {
  if (!s) return [0, '', ''];
  switch (s.by) {
    case 'name':
      return [1, s.name, ''];
    case 'provides':
      return [2, s.dep, ''];
    case 'nevra':
      return [3, s.nevra, ''];
    case 'spec':
      return [s.obsoleters ? 6 : 4, s.spec, ''];
    case 'package':
      return [5, s.repo, s.nevra];
  }
}

/** Human form of a selector, for messages ("package foo does not exist"). */
export function selectorText(s: Selector | undefined): string {
  if (!s) return 'all packages';
  switch (s.by) {
    case 'name':
      return s.name;
    case 'provides':
      return s.dep;
    case 'nevra':
      return s.nevra;
    case 'spec':
      return s.spec;
    case 'package':
      return `${s.nevra} (from ${s.repo})`;
  }
}

/** Encode jobs as five NUL-terminated fields each (see ly_solve). */
export function encodeJobs(jobs: readonly Job[], flags: SolveFlags): Uint8Array {
  const parts: string[] = [];
  for (const job of jobs) {
    const code = actionCode[job.action];
    if (!code) throw new LayerError('LAYER_SOLVER', `unknown job action ${JSON.stringify(job.action)}`);
    if (!job.select && job.action !== 'update' && job.action !== 'distupgrade') {
      throw new LayerError('LAYER_SOLVER', `job ${job.action} needs a selector (only update/distupgrade may mean "all")`);
    }
    const [kind, a1, a2] = selectorFields(job.select);
    if (job.select && (!a1.trim() || forbidden.test(a1) || forbidden.test(a2))) {
      throw new LayerError('LAYER_NO_MATCH', `job ${job.action}: invalid selector ${JSON.stringify(selectorText(job.select))}`);
    }
    const jflags = (job.cleandeps ? F_CLEANDEPS : 0) | (job.weak ? F_WEAK : 0) | (flags.best ? F_FORCEBEST : 0);
    parts.push(String(code), String(jflags), String(kind), a1, a2);
  }
  return encoder.encode(parts.length ? parts.join('\0') + '\0' : '');
}

/** The shim's solver flag word (SF_* in wasm/shim.c). */
export function encodeFlags(flags: SolveFlags): number {
  return (flags.allowDowngrade ? 1 : 0) | (flags.allowUninstall ? 2 : 0) | (flags.allowVendorChange ? 4 : 0) | (flags.ignoreWeakDeps ? 8 : 0);
}
