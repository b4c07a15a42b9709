/**
 * The raw wasm module: loading it once, and the few helpers every caller needs to move
 * strings and bytes across the boundary. Nothing outside src/solver/ imports this file;
 * the C idioms (pointers, malloc/free, flag words) stop here and in pool.ts.
 *
 * The module is libsolv 0.7.23 + layer's shim (wasm/shim.c) built by wasm/build.sh and
 * committed as wasm/libsolv.{wasm,cjs}.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LayerError } from '../errors.js';

type Ptr = number;

/** The shim's exports (see wasm/shim.c for what each does). */
export interface LibsolvModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  UTF8ToString(ptr: Ptr, maxBytes?: number): string;
  _ly_malloc(n: number): Ptr;
  _ly_free(p: Ptr): void;
  _ly_last_len(): number;
  _ly_pool_create(arch: Ptr): Ptr;
  _ly_pool_free(pool: Ptr): void;
  _ly_pool_errstr(pool: Ptr): Ptr;
  _ly_pool_set_installed(pool: Ptr, repo: Ptr): void;
  _ly_pool_prepare(pool: Ptr): void;
  /** Every repo's paged data into the heap, its descriptors closed (before a snapshot is saved); 0 when a page could not be read. */
  _ly_pool_disable_paging(pool: Ptr): number;
  _ly_repo_add_records(pool: Ptr, name: Ptr, buf: Ptr, len: number, prio: number, subprio: number): Ptr;
  _ly_repo_add_solv(pool: Ptr, name: Ptr, buf: Ptr, len: number, prio: number, subprio: number): Ptr;
  _ly_repo_add_solv_file(pool: Ptr, name: Ptr, path: Ptr, prio: number, subprio: number): Ptr;
  _ly_repo_add_rpmmd(pool: Ptr, name: Ptr, primary: Ptr, plen: number, filelists: Ptr, flen: number, prio: number, subprio: number): Ptr;
  _ly_repo_size(repo: Ptr): number;
  _ly_repo_list(repo: Ptr): Ptr;
  _ly_repo_free(repo: Ptr): void;
  _ly_repo_write(repo: Ptr, solverOnly: number): Ptr;
  _ly_solve(pool: Ptr, jobs: Ptr, len: number, flags: number): Ptr;
  _ly_run_testcase(path: Ptr, exitcode: Ptr): Ptr;
  _ly_evrcmp(pool: Ptr, a: Ptr, b: Ptr): number;
  _ly_take_log(): Ptr;
}

const wasmDir = fileURLToPath(new URL('../../wasm/', import.meta.url));

let mod: LibsolvModule | undefined;
let loading: Promise<LibsolvModule> | undefined;
let digest = '';
/** Bumped each time the whole heap is replaced (snapshot.ts): pointers from before are void. */
let heapGeneration = 0;

/**
 * Instantiate the wasm module once; later calls return the same instance. Everything else in
 * the solver API is synchronous and requires this to have resolved.
 */
export function loadModule(): Promise<LibsolvModule> {
  if (mod) return Promise.resolve(mod);
  loading ??= (async () => {
    let wasmBinary: Buffer;
    let factory: (opts: object) => Promise<LibsolvModule>;
    try {
      wasmBinary = readFileSync(wasmDir + 'libsolv.wasm');
      factory = createRequire(import.meta.url)(wasmDir + 'libsolv.cjs') as typeof factory;
    } catch (cause) {
      throw new LayerError('LAYER_SOLVER', `cannot load the libsolv wasm module from ${wasmDir}`, {
        hint: 'run `bash wasm/build.sh` to rebuild wasm/libsolv.wasm and wasm/libsolv.cjs',
        cause,
      });
    }
    // wasmBinary given: the 3.1.6 glue skips fetch() (which fails on file paths under Node 20).
    // libsolv's own messages go to a log inside the shim (ly_take_log), never to stdout.
    const m = await withPlainCrypto(() => factory({ wasmBinary, print: () => {}, printErr: () => {} }));
    digest = createHash('sha256').update(wasmBinary).digest('hex');
    mod = m;
    return m;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/**
 * Run `start` (the glue's synchronous set-up) with a global `crypto` that only fills buffers.
 * The glue's file system asks the global for /dev/random's source, and Node's global `crypto`
 * is WebCrypto, loaded on first touch (0.66 MB of RSS and ~2 ms, measured) for a device
 * libsolv never reads. Node's own randomFillSync stands in; the global is put back at once.
 */
function withPlainCrypto<T>(start: () => T): T {
  const own = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  const plain = { getRandomValues: <A extends NodeJS.TypedArray>(a: A): A => randomFillSync(a) };
  Object.defineProperty(globalThis, 'crypto', { value: plain, configurable: true, writable: true });
  try {
    return start();
  } finally {
    if (own) Object.defineProperty(globalThis, 'crypto', own);
    else Reflect.deleteProperty(globalThis, 'crypto');
  }
}

/** The loaded module, or a LayerError telling the caller to await loadSolver() first. */
export function lib(): LibsolvModule {
  if (!mod) throw new LayerError('LAYER_SOLVER', 'libsolv is not loaded', { hint: 'await loadSolver() before using the solver API' });
  return mod;
}

/** sha256 of the loaded libsolv.wasm: a heap snapshot is only valid for the same binary. */
export function moduleDigest(): string {
  lib();
  return digest;
}

/** How many times the heap was replaced; pointers kept across a change are no longer valid. */
export function generation(): number {
  return heapGeneration;
}

/** @internal called by snapshot.ts after it replaced the heap. */
export function heapReplaced(): void {
  heapGeneration++;
}

/** Bytes of wasm linear memory currently reserved (grows, never shrinks). */
export function heapBytes(): number {
  return lib().HEAPU8.length;
}

/** Drain libsolv's message log (pool errors, e.g. why a testcase could not be read). */
export function takeLog(m: LibsolvModule): string {
  return takeString(m, m._ly_take_log()).trim();
}

const encoder = new TextEncoder();

/** Copy bytes into wasm memory; the caller frees the pointer with `m._ly_free`. */
export function allocBytes(m: LibsolvModule, bytes: Uint8Array): Ptr {
  const p = m._ly_malloc(bytes.length);
  m.HEAPU8.set(bytes, p);
  return p;
}

/** A NUL-terminated UTF-8 copy of `s` in wasm memory; free with `m._ly_free`. */
export function allocString(m: LibsolvModule, s: string): Ptr {
  const bytes = encoder.encode(s);
  const p = m._ly_malloc(bytes.length + 1);
  m.HEAPU8.set(bytes, p);
  m.HEAPU8[p + bytes.length] = 0;
  return p;
}

/** Run `fn` with temporary C strings, freeing them afterwards whatever happens. */
export function withStrings<T>(m: LibsolvModule, strings: string[], fn: (...ptrs: Ptr[]) => T): T {
  const ptrs = strings.map((s) => allocString(m, s));
  try {
    return fn(...ptrs);
  } finally {
    for (const p of ptrs) m._ly_free(p);
  }
}

/** Take ownership of a malloc'd C string returned by the shim: decode it and free it. */
export function takeString(m: LibsolvModule, p: Ptr): string {
  try {
    return m.UTF8ToString(p, m._ly_last_len());
  } finally {
    m._ly_free(p);
  }
}

/** Take ownership of a malloc'd byte buffer (length from ly_last_len): copy it out and free it. */
export function takeBytes(m: LibsolvModule, p: Ptr): Uint8Array {
  const len = m._ly_last_len();
  try {
    return m.HEAPU8.slice(p, p + len);
  } finally {
    m._ly_free(p);
  }
}
