/**
 * Pool and Repo: the two wasm objects the engine holds. A Pool owns its libsolv pool (and
 * every repo in it) until `free()` / `using`; a Repo is a view that dies with its pool.
 * Everything here is synchronous once `loadSolver()` has resolved.
 */
import { LayerError } from '../errors.js';
import { decodePackages, decodeResult } from './decode.js';
import { encodeFlags, encodeJobs, encodeRecords } from './encode.js';
import { allocBytes, allocString, lib, takeBytes, takeLog, takeString, withStrings, type LibsolvModule } from './native.js';
import type { Job, PackageRef, RepoOptions, RepoSource, SolveFlags, SolveResult } from './types.js';

export interface PoolOptions {
  /** Machine architecture as rpm names it (`x86_64`, `aarch64`); noarch is always accepted. */
  arch: string;
}

/** A repo inside a pool. Freed with its pool; using it afterwards throws. */
export class Repo {
  readonly name: string;
  readonly #pool: Pool;
  readonly #ptr: number;

  /** @internal made by Pool.addRepo */
  constructor(pool: Pool, name: string, ptr: number) {
    this.#pool = pool;
    this.name = name;
    this.#ptr = ptr;
  }

  /** @internal the C pointer, checked against the owning pool's lifetime */
  ptrFor(pool: Pool): number {
    if (pool !== this.#pool) throw new LayerError('LAYER_SOLVER', `repo ${this.name} belongs to another pool`);
    this.#pool.checkAlive(`repo ${this.name}`);
    return this.#ptr;
  }

  /** Number of packages (solvables) in the repo. */
  get size(): number {
    return lib()._ly_repo_size(this.ptrFor(this.#pool));
  }

  /** The repo's packages, in libsolv's order (as added). */
  packages(): PackageRef[] {
    const m = lib();
    return decodePackages(takeString(m, m._ly_repo_list(this.ptrFor(this.#pool))));
  }

  /** The repo as `.solv` bytes (libsolv repo_write), loadable with `{ kind: 'solv' }`. */
  writeSolv(): Uint8Array {
    const m = lib();
    const p = m._ly_repo_write(this.ptrFor(this.#pool));
    if (!p) throw new LayerError('LAYER_SOLVER', `repo ${this.name}: writing .solv failed`);
    return takeBytes(m, p);
  }
}

/**
 * Safety net only: a Pool dropped without free() is released when garbage-collected. Callers
 * must still free deterministically (free() / `using`); GC timing is not a memory budget.
 */
const leaked = new FinalizationRegistry<number>((ptr) => {
  lib()._ly_pool_free(ptr);
});

export class Pool implements Disposable {
  #ptr: number;
  readonly arch: string;
  readonly #repos = new Map<string, Repo>();
  /** whatprovides must be rebuilt after repos or the installed repo change */
  #dirty = true;

  constructor(opts: PoolOptions) {
    const m = lib();
    if (!opts.arch || /\s/.test(opts.arch)) throw new LayerError('LAYER_SOLVER', `invalid pool arch ${JSON.stringify(opts.arch)}`);
    this.arch = opts.arch;
    this.#ptr = withStrings(m, [opts.arch], (a) => m._ly_pool_create(a));
    leaked.register(this, this.#ptr, this);
  }

  /** @internal */
  checkAlive(what: string): number {
    if (!this.#ptr) throw new LayerError('LAYER_SOLVER', `${what}: used after its pool was freed`);
    return this.#ptr;
  }

  get repos(): Repo[] {
    return [...this.#repos.values()];
  }

  /**
   * Add a repo from records, `.solv` bytes or rpm-md XML. Names must be unique in the pool
   * (`@System` is the conventional name of the installed repo). Bad input throws a LayerError
   * naming the repo and, where known, the package; the pool is left as it was.
   */
  addRepo(name: string, source: RepoSource, opts: RepoOptions = {}): Repo {
    const pool = this.checkAlive(`adding repo ${name}`);
    const m = lib();
    if (!name || /[\0\t\n]/.test(name)) throw new LayerError('LAYER_SOLVER', `invalid repo name ${JSON.stringify(name)}`);
    if (this.#repos.has(name)) throw new LayerError('LAYER_SOLVER', `repo ${name} is already in the pool`);
    const prio = opts.priority ?? 0;
    // RepoOptions.subpriority is dnf's cost (lower preferred); libsolv prefers a higher one.
    const sub = -(opts.subpriority ?? 0);
    let ptr: number;
    const temps: number[] = [];
    const bytes = (b: Uint8Array): number => {
      const p = allocBytes(m, b);
      temps.push(p);
      return p;
    };
    try {
      const namePtr = allocString(m, name);
      temps.push(namePtr);
      switch (source.kind) {
        case 'records': {
          const buf = encodeRecords(name, source.records);
          ptr = m._ly_repo_add_records(pool, namePtr, bytes(buf), buf.length, prio, sub);
          break;
        }
        case 'solv':
          ptr = m._ly_repo_add_solv(pool, namePtr, bytes(source.bytes), source.bytes.length, prio, sub);
          break;
        case 'solv-file': {
          const pathPtr = allocString(m, source.path);
          temps.push(pathPtr);
          ptr = m._ly_repo_add_solv_file(pool, namePtr, pathPtr, prio, sub);
          break;
        }
        case 'rpmmd': {
          const fl = source.filelists;
          ptr = m._ly_repo_add_rpmmd(pool, namePtr, bytes(source.primary), source.primary.length, fl ? bytes(fl) : 0, fl?.length ?? 0, prio, sub);
          break;
        }
        default:
          throw new LayerError('LAYER_SOLVER', `repo ${name}: unknown source kind ${JSON.stringify((source as { kind: unknown }).kind)}`);
      }
    } finally {
      for (const p of temps) m._ly_free(p);
    }
    if (!ptr) {
      const why = m.UTF8ToString(m._ly_pool_errstr(pool));
      const code = source.kind === 'records' ? 'LAYER_SOLVER' : 'LAYER_REPO_CORRUPT';
      throw new LayerError(code, `repo ${name}: cannot load ${source.kind} data: ${why}`);
    }
    const repo = new Repo(this, name, ptr);
    this.#repos.set(name, repo);
    this.#dirty = true;
    return repo;
  }

  /** Mark `repo` as the installed system (its packages are what is on disk). */
  setInstalled(repo: Repo): void {
    const pool = this.checkAlive('setInstalled');
    lib()._ly_pool_set_installed(pool, repo.ptrFor(this));
    this.#dirty = true;
  }

  /**
   * Solve `jobs` against the pool. Returns the transaction in rpm install order, or problems
   * as records (with libsolv's own sentences). A job whose selector matches nothing yields a
   * problem with `code: 'LAYER_NO_MATCH'` (erase/exclude of something absent is a no-op).
   */
  solve(jobs: readonly Job[], flags: SolveFlags = {}): SolveResult {
    const pool = this.checkAlive('solve');
    const m = lib();
    this.#prepare(m, pool);
    const buf = encodeJobs(jobs, flags);
    const p = allocBytes(m, buf);
    let out: number;
    try {
      out = m._ly_solve(pool, p, buf.length, encodeFlags(flags));
    } finally {
      m._ly_free(p);
    }
    return decodeResult(takeString(m, out));
  }

  /** libsolv's testsolv loop on a testcase file (see runTestcase). */
  runTestcase(path: string): TestcaseRun {
    this.checkAlive('runTestcase');
    return runTestcase(path);
  }

  /** Release the wasm memory of the pool and all its repos. Idempotent. */
  free(): void {
    if (!this.#ptr) return;
    leaked.unregister(this);
    lib()._ly_pool_free(this.#ptr);
    this.#ptr = 0;
    this.#repos.clear();
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #prepare(m: LibsolvModule, pool: number): void {
    if (!this.#dirty) return;
    m._ly_pool_prepare(pool);
    this.#dirty = false;
  }
}

export interface TestcaseRun {
  /** What `testsolv -r` prints on stdout. */
  result: string;
  /** What it prints on stderr (libsolv's errors, e.g. a repo file it could not open); '' if none. */
  log: string;
}

/**
 * Run a libsolv testcase file (`.t`) the way `testsolv -r <file>` does and return what it
 * prints: the solver result of every job block (with `test N:` headers for multi-job files).
 * Files referenced by the testcase are read relative to it from the real filesystem. Like
 * testsolv, errors inside a readable testcase land in `log`, not in an exception; a testcase
 * that testcase_read rejects outright throws.
 */
export function runTestcase(path: string): TestcaseRun {
  const m = lib();
  takeLog(m);
  const codePtr = m._ly_malloc(4);
  try {
    const out = withStrings(m, [path], (p) => m._ly_run_testcase(p, codePtr));
    const code = m.HEAP32[codePtr >> 2] ?? 0;
    const result = out ? takeString(m, out) : '';
    if (code === 2) throw new LayerError('LAYER_SOLVER', `testcase ${path}: cannot open file`);
    const log = takeLog(m);
    if (code !== 0) {
      const why = log.split('\n').join('; ') || 'testcase_read failed';
      throw new LayerError('LAYER_SOLVER', `testcase ${path}: ${why}${code === 77 ? ' (needs a libsolv feature not built)' : ''}`);
    }
    return { result, log };
  } finally {
    m._ly_free(codePtr);
  }
}
