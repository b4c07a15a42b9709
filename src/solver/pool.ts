/**
 * Pool and Repo: the two wasm objects the engine holds. A Pool owns its libsolv pool (and
 * every repo in it) until `free()` / `using`; a Repo is a view that dies with its pool.
 * Everything here is synchronous once `loadSolver()` has resolved.
 *
 * With `snapshots` (snapshot.ts), building the pool may wait: while a saved snapshot starts
 * with the same operations, addRepo and setInstalled only record what they were asked; the
 * first use that needs the pool (a solve, a repo's size) puts the snapshot back instead of
 * loading. An operation no snapshot can stand for runs at once, so its errors surface where
 * they always did (a damaged `.solv` at addRepo).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { LayerError } from '../errors.js';
import { decodePackages, decodeResult } from './decode.js';
import { encodeFlags, encodeJobs, encodeRecords } from './encode.js';
import { allocBytes, allocString, generation, lib, moduleDigest, takeBytes, takeLog, takeString, withStrings, type LibsolvModule } from './native.js';
import { SnapshotStore, type SnapshotOptions } from './snapshot.js';
import type { Job, PackageRef, RepoOptions, RepoSource, SolveFlags, SolveResult } from './types.js';

export interface PoolOptions {
  /** Machine architecture as rpm names it (`x86_64`, `aarch64`); noarch is always accepted. */
  arch: string;
  /** Keep large prepared pools on disk and reuse them (see snapshot.ts). */
  snapshots?: SnapshotOptions;
}

/** A repo inside a pool. Freed with its pool; using it afterwards throws. */
export class Repo {
  readonly name: string;
  readonly #pool: Pool;
  readonly #index: number;

  /** @internal made by Pool.addRepo */
  constructor(pool: Pool, name: string, index: number) {
    this.#pool = pool;
    this.name = name;
    this.#index = index;
  }

  /** @internal the C pointer, checked against the owning pool's lifetime */
  ptrFor(pool: Pool): number {
    if (pool !== this.#pool) throw new LayerError('LAYER_SOLVER', `repo ${this.name} belongs to another pool`);
    return this.#pool.repoPtr(this.#index, `repo ${this.name}`);
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

  /**
   * The repo as `.solv` bytes (libsolv repo_write), loadable with `{ kind: 'solv' }`. With
   * `solverOnly`, only what solving reads: no sizes, locations, checksums, texts (wasm/shim_repo.c).
   */
  writeSolv(opts: { solverOnly?: boolean } = {}): Uint8Array {
    const m = lib();
    const p = m._ly_repo_write(this.ptrFor(this.#pool), opts.solverOnly ? 1 : 0);
    if (!p) throw new LayerError('LAYER_SOLVER', `repo ${this.name}: writing .solv failed`);
    return takeBytes(m, p);
  }
}

/** Pools whose C pool exists: a snapshot may replace the heap only when there is none. */
let livePools = 0;

/**
 * Safety net only: a Pool dropped without free() is released when garbage-collected. Callers
 * must still free deterministically (free() / `using`); GC timing is not a memory budget.
 */
const leaked = new FinalizationRegistry<{ ptr: number; generation: number }>((held) => {
  livePools--;
  if (held.generation === generation()) lib()._ly_pool_free(held.ptr);
});

/** One recorded step of building a pool: its snapshot key, and how to run it. */
interface Op {
  key: string | undefined;
  run(m: LibsolvModule, pool: number): void;
}

export class Pool implements Disposable {
  #ptr = 0;
  #freed = false;
  readonly arch: string;
  readonly #repos = new Map<string, Repo>();
  readonly #repoPtrs: number[] = [];
  /** whatprovides must be rebuilt after repos or the installed repo change */
  #dirty = true;
  readonly #snapshots: SnapshotStore | undefined;
  /** Keys of every operation so far; undefined once one had no key (no snapshot then). */
  #keys: string[] | undefined;
  /** Operations recorded but not run yet (a snapshot may stand for them). */
  #pending: Op[] = [];
  /** The pool came from a snapshot, or was saved as one: nothing more to save. */
  #imaged = false;
  #restored = false;

  constructor(opts: PoolOptions) {
    if (!opts.arch || /\s/.test(opts.arch)) throw new LayerError('LAYER_SOLVER', `invalid pool arch ${JSON.stringify(opts.arch)}`);
    this.arch = opts.arch;
    if (opts.snapshots) {
      this.#snapshots = new SnapshotStore(opts.snapshots);
      this.#keys = [`pool arch=${opts.arch} wasm=${moduleDigest()}`];
    } else {
      this.#create(lib());
    }
  }

  /** @internal */
  checkAlive(what: string): number {
    this.#notFreed(what);
    this.#materialize();
    return this.#ptr;
  }

  /** @internal the C pointer of the repo added as number `index` */
  repoPtr(index: number, what: string): number {
    this.checkAlive(what);
    const ptr = this.#repoPtrs[index];
    if (ptr === undefined) throw new LayerError('LAYER_INTERNAL', `${what}: no such repo in the pool`);
    return ptr;
  }

  /** Whether the C pool was put back from a snapshot (false until something needed the pool). */
  get fromSnapshot(): boolean {
    return this.#restored;
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
    this.#notFreed(`adding repo ${name}`);
    if (!name || /[\0\t\n]/.test(name)) throw new LayerError('LAYER_SOLVER', `invalid repo name ${JSON.stringify(name)}`);
    if (this.#repos.has(name)) throw new LayerError('LAYER_SOLVER', `repo ${name} is already in the pool`);
    const prio = opts.priority ?? 0;
    // RepoOptions.subpriority is dnf's cost (lower preferred); libsolv prefers a higher one.
    const sub = -(opts.subpriority ?? 0);
    let count = 0;
    const records = source.kind === 'records' ? encodeRecords(name, counting(source.records, () => count++)) : undefined;
    const index = this.#repoPtrs.length;
    this.#repoPtrs.push(0);
    // A large repo given as records is a first read of its metadata: the engine's next command
    // reads the .solv written from it, so a snapshot keyed by these records would never be found.
    const keyable = this.#snapshots !== undefined && (records === undefined || count < this.#snapshots.minPackages);
    const op: Op = {
      key: keyable ? repoKey(name, source, records, prio, sub) : undefined,
      run: (m, pool) => {
        this.#repoPtrs[index] = addRepoNow(m, pool, name, source, records, prio, sub);
      },
    };
    try {
      this.#record(op);
    } catch (e) {
      this.#repoPtrs.pop();
      throw e;
    }
    const repo = new Repo(this, name, index);
    this.#repos.set(name, repo);
    this.#dirty = true;
    return repo;
  }

  /** Mark `repo` as the installed system (its packages are what is on disk). */
  setInstalled(repo: Repo): void {
    this.#notFreed('setInstalled');
    if (this.#repos.get(repo.name) !== repo) throw new LayerError('LAYER_SOLVER', `repo ${repo.name} belongs to another pool`);
    this.#record({ key: `installed ${repo.name}`, run: (m, pool) => m._ly_pool_set_installed(pool, repo.ptrFor(this)) });
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
    if (this.#freed) return;
    this.#freed = true;
    this.#pending = [];
    this.#repos.clear();
    if (!this.#ptr) return;
    leaked.unregister(this);
    livePools--;
    lib()._ly_pool_free(this.#ptr);
    this.#ptr = 0;
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #notFreed(what: string): void {
    if (this.#freed) throw new LayerError('LAYER_SOLVER', `${what}: used after its pool was freed`);
  }

  /** Run `op` now, or only record it while a snapshot may still stand for everything so far. */
  #record(op: Op): void {
    const keys = this.#keys && op.key !== undefined ? [...this.#keys, op.key] : undefined;
    if (!this.#ptr && keys && this.#snapshots?.hasPrefix(keys)) {
      this.#keys = keys;
      this.#pending.push(op);
      return;
    }
    this.#materialize();
    op.run(lib(), this.#ptr);
    this.#keys = keys;
  }

  /** Make the C pool real: from a snapshot of exactly the recorded operations, else by running them. */
  #materialize(): void {
    if (this.#ptr) return;
    const m = lib();
    const image = this.#keys && livePools === 0 ? this.#snapshots?.restore(m, this.#keys) : undefined;
    // The image stands for the recorded repos: the first ones added (a repo being added right
    // now, which no snapshot covers, is already counted in #repoPtrs and runs next).
    if (image && image.repos.length <= this.#repoPtrs.length) {
      this.#adopt(image.pool);
      this.#repoPtrs.splice(0, image.repos.length, ...image.repos);
      this.#pending = [];
      this.#dirty = false;
      this.#imaged = true;
      this.#restored = true;
      return;
    }
    this.#create(m);
    const pending = this.#pending;
    this.#pending = [];
    for (const op of pending) op.run(m, this.#ptr);
  }

  #create(m: LibsolvModule): void {
    this.#adopt(withStrings(m, [this.arch], (a) => m._ly_pool_create(a)));
  }

  #adopt(ptr: number): void {
    this.#ptr = ptr;
    livePools++;
    leaked.register(this, { ptr, generation: generation() }, this);
  }

  #prepare(m: LibsolvModule, pool: number): void {
    if (!this.#dirty) return;
    m._ly_pool_prepare(pool);
    this.#dirty = false;
    // The first prepared state of a large pool built from keyed operations is worth keeping.
    const snapshots = this.#snapshots;
    if (!snapshots || !this.#keys || this.#imaged || livePools !== 1) return;
    this.#imaged = true;
    const packages = this.#repoPtrs.reduce((n, r) => n + m._ly_repo_size(r), 0);
    if (packages < snapshots.minPackages) return;
    // A heap put back in another process cannot read pages through this one's descriptors
    // (wasm/shim.c ly_pool_disable_paging); a pool whose pages cannot all be read is not saved.
    if (!m._ly_pool_disable_paging(pool)) return;
    snapshots.save(m, this.#keys, { pool, repos: [...this.#repoPtrs] });
  }
}

/** The snapshot key of adding a repo: what it is called and exactly what it holds. */
function repoKey(name: string, source: RepoSource, records: Uint8Array | undefined, prio: number, sub: number): string | undefined {
  const head = `repo ${JSON.stringify(name)} prio=${prio} sub=${sub}`;
  switch (source.kind) {
    case 'records':
      return records && `${head} records=${sha256(records)}`;
    case 'solv':
      return `${head} solv=${sha256(source.bytes)}`;
    case 'solv-file': {
      // The caches are written once under content-addressed names and replaced by rename, so
      // the file's identity stands for its bytes without reading 10 MB to hash them.
      let st;
      try {
        st = statSync(source.path, { bigint: true });
      } catch {
        return undefined;
      }
      return `${head} solv-file=${JSON.stringify(source.path)} dev=${st.dev} ino=${st.ino} size=${st.size} mtime=${st.mtimeNs} ctime=${st.ctimeNs}`;
    }
    default:
      return undefined;
  }
}

function* counting<T>(items: Iterable<T>, each: () => void): Iterable<T> {
  for (const item of items) {
    each();
    yield item;
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** repo_add_* in the wasm; throws a LayerError naming the repo when libsolv refuses the data. */
function addRepoNow(
  m: LibsolvModule, pool: number, name: string, source: RepoSource, records: Uint8Array | undefined, prio: number, sub: number,
): number {
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
        const buf = records ?? encodeRecords(name, source.records);
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
        const flPtr = fl ? bytes(fl) : 0;
        ptr = m._ly_repo_add_rpmmd(pool, namePtr, bytes(source.primary), source.primary.length, flPtr, fl?.length ?? 0, prio, sub);
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
  return ptr;
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
