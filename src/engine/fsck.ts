/**
 * `layer fsck [--repair]`: the store's own fsck (every object re-hashed, missing ones found),
 * every deployment checked against its commit (each file of the commit present in the tree;
 * /etc and /var are the host's to change), and with `--repair` the packages that own missing or
 * corrupt content objects imported again from the package cache, the kept local packages, or a
 * local (file://) repo of a deployment, whose packages are used where they lie and never copied
 * into the cache: content addressing writes exactly the objects that were lost, so every commit
 * that uses them is whole again.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayerError } from '../errors.js';
import { importRpm, PKG_KEYS } from '../import/index.js';
import type { Report } from '../report.js';
import { readRepoConfigs } from '../repos/index.js';
import { commitMetadata, type Checksum, type FsckProblem } from '../store/index.js';
import { Sysroot, type LockWaitOptions } from '../sysroot/index.js';
import { hostArch } from './repos.js';

export interface FsckReport {
  /** Objects the store re-hashed. */
  objects: number;
  problems: FsckProblem[];
  /** Files of a deployment's commit that its tree lacks (first few per deployment). */
  deployments: { id: string; missing: string[] }[];
  /** Packages imported again (`--repair`), with the objects they brought back. */
  repaired: { package: string; from: string; objects: number }[];
  /** Bad objects no cached package owns (`--repair` could not fix them). */
  unrepaired: Checksum[];
}

const SKIP = /^(usr\/etc|etc|var)(\/|$)/;

function checkDeployments(s: Sysroot): FsckReport['deployments'] {
  const out: FsckReport['deployments'] = [];
  for (const d of s.deployments()) {
    const missing: string[] = [];
    for (const paths of s.store.contentOf(d.checksum).values()) {
      for (const p of paths) {
        if (SKIP.test(p) || lstatSync(join(d.path, p), { throwIfNoEntry: false })) continue;
        missing.push(`/${p}`);
      }
    }
    if (missing.length > 0) out.push({ id: d.id, missing: missing.sort().slice(0, 20) });
  }
  return out;
}

/** Every cached `.rpm` (downloads, kept local packages, then the deployments' local repos), by file name. */
async function cachedPackages(s: Sysroot): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = (dir: string, depth: number) => {
    if (!existsSync(dir) || depth > 3) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p, depth + 1);
      else if (e.name.endsWith('.rpm') && !out.has(e.name)) out.set(e.name, p);
    }
  };
  visit(join(s.stateDir, 'cache', 'packages'), 0);
  visit(join(s.stateDir, 'local-rpms'), 0);
  for (const dir of await localRepoDirs(s)) visit(dir, 0);
  return out;
}

/** The directories of the file:// repos configured in any deployment's /etc/yum.repos.d. */
async function localRepoDirs(s: Sysroot): Promise<string[]> {
  const dirs = new Set<string>();
  for (const d of s.deployments()) {
    const configs = await readRepoConfigs(join(d.path, 'etc/yum.repos.d'), { arch: hostArch() }).catch(() => []);
    for (const url of configs.flatMap((c) => c.baseurls)) {
      if (!url.startsWith('file:')) continue;
      try {
        dirs.add(fileURLToPath(url));
      } catch {
        // Not a local path (file://host/...): nothing to read here.
      }
    }
  }
  return [...dirs];
}

async function repair(s: Sysroot, bad: Set<Checksum>, report: Report): Promise<Pick<FsckReport, 'repaired' | 'unrepaired'>> {
  const repaired: FsckReport['repaired'] = [];
  const cache = await cachedPackages(s);
  const fixed = new Set<Checksum>();
  for (const csum of bad) rmSync(s.store.objectPath(csum, 'file'), { force: true });
  for (const [ref, commit] of s.store.listRefs()) {
    if (!ref.startsWith('layer/pkg/')) continue;
    const owned = [...s.store.contentOf(commit).keys()].filter((c) => bad.has(c) && !fixed.has(c));
    if (owned.length === 0) continue;
    const nevra = String(commitMetadata(s.store.readCommit(commit), PKG_KEYS.nevra)?.value ?? '');
    const file = cache.get(`${nevra}.rpm`) ?? [...cache.entries()].find(([n]) => n.startsWith(`${nevra.replace(/\.[^.]+$/, '')}`))?.[1];
    if (!file) {
      report.warn('fsck.no-package', `${nevra} owns ${owned.length} bad object(s) but is not in the package cache`, { package: nevra });
      continue;
    }
    await importRpm(s.store, file, { report, force: true });
    const back = owned.filter((c) => s.store.hasContent(c));
    for (const c of back) fixed.add(c);
    repaired.push({ package: nevra, from: file, objects: back.length });
  }
  return { repaired, unrepaired: [...bad].filter((c) => !fixed.has(c)) };
}

export async function fsck(path: string, command: string, opts: { repair?: boolean; wait?: LockWaitOptions; report: Report }): Promise<FsckReport> {
  const s = Sysroot.open(path);
  if (opts.repair) await s.lockWait(command, opts.wait ?? {});
  try {
    const store = s.store.fsck();
    const bad = new Set(store.problems.filter((p) => p.type === 'file' && p.kind !== 'invalid').map((p) => p.checksum));
    const fixes = opts.repair && bad.size > 0 ? await repair(s, bad, opts.report) : { repaired: [], unrepaired: [] };
    const after = opts.repair && bad.size > 0 ? s.store.fsck() : store;
    return { objects: after.objects, problems: after.problems, deployments: checkDeployments(s), ...fixes };
  } finally {
    if (opts.repair) s.release();
  }
}

/** The error for an unclean result (after any repair). */
export function fsckError(r: FsckReport): LayerError | undefined {
  const n = r.problems.length + r.deployments.length;
  if (n === 0) return undefined;
  return new LayerError('LAYER_STORE_CORRUPT', `${r.problems.length} bad object(s) in the store, ${r.deployments.length} deployment(s) missing files`, {
    hint: r.problems.length && r.unrepaired.length === 0 ? 'layer fsck --repair re-imports the packages that own them' : undefined,
    data: { problems: r.problems.slice(0, 50), deployments: r.deployments },
  });
}
