/**
 * The native oracle: libsolv's own tools (repo2solv, rpmmd2solv, testsolv from libsolv-tools)
 * run on the same rpm-md data the wasm solver gets. Results are cached on disk under
 * .cache/solver-parity/ keyed by the sha256 of everything that decides them (the .solv bytes,
 * the testcase text and the testsolv version), so re-running the parity suite costs only the
 * wasm side.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CACHE_DIR } from './datasets.js';

const INSTALL_HINT = 'apt-get install -y libsolv-tools (or: bash scripts/setup.sh)';

/** Throws a message naming the install command when a libsolv tool is missing. */
export function requireTool(tool: 'testsolv' | 'repo2solv' | 'rpmmd2solv'): string {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) throw new Error(`native oracle tool "${tool}" is not installed; run: ${INSTALL_HINT}`);
  return path;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes via temp file + rename so a killed test run never leaves a truncated cache entry. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * `.solv` for an rpm-md repo directory, made by `repo2solv -F` (reads repomd.xml, primary and,
 * with -F, filelists: the same files the wasm side parses). Cached by the repomd.xml sha.
 */
export function solvForRepoDir(repoDir: string): string {
  const repomd = readFileSync(join(repoDir, 'repodata', 'repomd.xml'));
  const out = join(CACHE_DIR, 'solv', `${sha256(repomd)}.solv`);
  if (existsSync(out)) return out;
  requireTool('repo2solv');
  const bytes = execFileSync('repo2solv', ['-F', repoDir], { maxBuffer: 1 << 30 });
  writeAtomic(out, bytes);
  return out;
}

/** `.solv` for a bare primary.xml (decompressed bytes), made by `rpmmd2solv` from stdin. */
export function solvForPrimary(primaryXml: Uint8Array): string {
  const out = join(CACHE_DIR, 'solv', `primary-${sha256(primaryXml)}.solv`);
  if (existsSync(out)) return out;
  requireTool('rpmmd2solv');
  const bytes = execFileSync('rpmmd2solv', [], { input: primaryXml, maxBuffer: 1 << 30 });
  writeAtomic(out, bytes);
  return out;
}

export interface NativeRepo {
  name: string;
  solvPath: string;
}

export interface NativeCase {
  /** Repos offered for installation, in pool order. */
  available: NativeRepo[];
  /** The installed system's repo, if any (testcase `system x86_64 rpm <name>`). */
  installed?: NativeRepo;
  /** Package names, one `job install name X` each. */
  install: string[];
}

/** What testsolv decided, reduced to what the parity tests compare. */
export type NativeResult =
  | { ok: true; incoming: string[]; outgoing: string[] }
  | { ok: false; problemCount: number; problems: string[] };

/** Where testcase files live; testsolv resolves `repo` file names relative to this. */
export const TESTCASE_DIR = join(CACHE_DIR, 'testcases');

/**
 * The testcase text for a case (libsolv's testcase format: `repo <name> <prio> solv <file>`,
 * `system <arch> <disttype> [<installed repo>]`, `job install name <name>`). testsolv always
 * joins repo file names onto the testcase's directory, even absolute ones, so they are written
 * relative to `dir`.
 */
export function testcaseText(c: NativeCase, dir = TESTCASE_DIR): string {
  const lines: string[] = [];
  const file = (r: NativeRepo): string => relative(dir, r.solvPath);
  if (c.installed) lines.push(`repo ${c.installed.name} 0 solv ${file(c.installed)}`);
  for (const r of c.available) lines.push(`repo ${r.name} 0 solv ${file(r)}`);
  lines.push(c.installed ? `system x86_64 rpm ${c.installed.name}` : 'system x86_64 rpm');
  for (const n of c.install) lines.push(`job install name ${n}`);
  return lines.join('\n') + '\n';
}

let testsolvVersion: string | undefined;
let runCounter = 0;

function cacheKey(c: NativeCase, text: string): string {
  testsolvVersion ??= execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libsolv-tools'], { encoding: 'utf8' });
  const h = createHash('sha256').update(testsolvVersion).update(text);
  // The paths already embed content shas; hash the bytes anyway so a hand-edited cache cannot lie.
  for (const r of [...c.available, ...(c.installed ? [c.installed] : [])]) h.update(fileSha(r.solvPath));
  return h.digest('hex');
}

const fileShas = new Map<string, { key: string; sha: string }>();

/** sha256 of a file, remembered per path while its size and mtime stay the same. */
function fileSha(path: string): string {
  const st = statSync(path);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = fileShas.get(path);
  if (hit?.key === key) return hit.sha;
  const sha = sha256(readFileSync(path));
  fileShas.set(path, { key, sha });
  return sha;
}

/**
 * Parses `testsolv -r` output. A transaction is lines `<kind> <nevra>@<repo> [<nevra>@<repo>...]`;
 * failures are `problem <hash> info <text>` (one per problem) plus `solution` lines.
 * Packages from the installed repo are "outgoing", everything else "incoming".
 */
export function parseTestsolvResult(out: string, installedRepo: string | undefined): NativeResult {
  const problems: string[] = [];
  const incoming: string[] = [];
  const outgoing: string[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const words = line.split(' ');
    if (words[0] === 'problem') {
      if (words[2] === 'info') problems.push(words.slice(3).join(' '));
      continue;
    }
    for (const w of words.slice(1)) {
      const at = w.lastIndexOf('@');
      if (at < 0) throw new Error(`testsolv: cannot read result line "${line}"`);
      (w.slice(at + 1) === installedRepo ? outgoing : incoming).push(w.slice(0, at));
    }
  }
  if (problems.length) return { ok: false, problemCount: problems.length, problems };
  return { ok: true, incoming: [...new Set(incoming)].sort(), outgoing: [...new Set(outgoing)].sort() };
}

/**
 * Runs testsolv once (no cache); returns raw stdout. Used by the benchmark too.
 * The testcase goes to a file private to this call (other test processes share the cache dir),
 * and any stderr output fails the run: testsolv exits 0 and prints only to stderr when it
 * cannot open the testcase or a repo, which would otherwise read as "nothing to do".
 */
export function runTestsolv(text: string, opts: { dir?: string } = {}): string {
  requireTool('testsolv');
  const dir = opts.dir ?? TESTCASE_DIR;
  const file = join(dir, `${sha256(text).slice(0, 16)}-${process.pid}-${++runCounter}.t`);
  writeAtomic(file, text);
  try {
    const r = spawnSync('testsolv', ['-r', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error || r.signal || r.status !== 0 || r.stderr.trim()) {
      throw new Error(`testsolv -r ${file} failed (status ${r.status}, signal ${r.signal}): ${r.stderr || r.error?.message}`);
    }
    return r.stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

/** The native answer for a case, from cache when the inputs have not changed. */
export function solveNative(c: NativeCase): NativeResult {
  const text = testcaseText(c);
  const cacheFile = join(CACHE_DIR, 'native', `${cacheKey(c, text)}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as NativeResult;
  const result = parseTestsolvResult(runTestsolv(text), c.installed?.name);
  writeAtomic(cacheFile, JSON.stringify(result));
  return result;
}
