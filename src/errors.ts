/**
 * Every user-facing failure is a LayerError with a stable code (documented in README's
 * "Error codes"), a one-line message, an optional hint, and a `cause` chain. Context is
 * added on the way up with `withContext`, the way OSTree prefixes its errors.
 */
export type ErrorCode =
  // repos
  | 'LAYER_REPO_CONFIG'
  | 'LAYER_REPO_UNREACHABLE'
  | 'LAYER_REPO_CHECKSUM'
  | 'LAYER_REPO_CORRUPT'
  | 'LAYER_REPO_OFFLINE'
  | 'LAYER_REPO_SIGNATURE'
  // solver
  | 'LAYER_SOLVER'
  | 'LAYER_UNSOLVABLE'
  | 'LAYER_NO_MATCH'
  // rpm
  | 'LAYER_RPM_FORMAT'
  | 'LAYER_RPM_DIGEST'
  | 'LAYER_RPM_SIGNATURE'
  | 'LAYER_GPG_KEY'
  | 'LAYER_UNSAFE_PATH'
  // store
  | 'LAYER_STORE'
  | 'LAYER_STORE_CORRUPT'
  | 'LAYER_FILE_CONFLICT'
  // rpmdb / compose / sysroot / cli
  | 'LAYER_RPMDB'
  | 'LAYER_SCRIPTLET'
  | 'LAYER_BASE_LOCKED'
  | 'LAYER_SYSROOT'
  // boot: kernel, initramfs or boot files of a tree (src/boot)
  | 'LAYER_BOOT'
  | 'LAYER_LOCKED'
  | 'LAYER_ALREADY_REQUESTED'
  | 'LAYER_NOT_REQUESTED'
  | 'LAYER_ALREADY_PROVIDED'
  // upgrade: the new base commit is older than the current one (--allow-downgrade permits it)
  | 'LAYER_DOWNGRADE'
  // run / health-check: the sandbox could not be set up, or a required health check failed
  | 'LAYER_RUN'
  | 'LAYER_HEALTH_CHECK'
  // --lockfile: unreadable, or something it pins is gone or differs
  | 'LAYER_LOCKFILE'
  // layer compose: the recipe file is unreadable or invalid
  | 'LAYER_RECIPE'
  // OCI images (layer export --oci, --from-oci): a malformed image, a blob that does not match its digest, skopeo failing
  | 'LAYER_OCI'
  // fleet signatures: a pulled commit or summary whose signature the remote requires is missing
  // or refused, a signing / verification key (gpg --sign-key, ed25519 key file) cannot be used
  | 'LAYER_COMMIT_SIGNATURE'
  | 'LAYER_SIGN_KEY'
  | 'LAYER_USAGE'
  // the operating system refused an operation (disk full, permissions, read-only, I/O error)
  | 'LAYER_IO'
  | 'LAYER_INTERNAL';

export class LayerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Structured facts about the failure (the specs that matched nothing, the problems), for callers and --json. */
  readonly data: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown; data?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LayerError';
    this.code = code;
    this.hint = opts.hint;
    this.data = opts.data;
  }
}

/**
 * errno codes that describe the machine, not a bug in layer: a full disk, permissions, a
 * read-only or failing filesystem, a missing user-given path. They become LAYER_IO.
 */
const IO_ERRNOS = new Set([
  'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST',
  'ENOTEMPTY', 'EMFILE', 'ENFILE', 'EFBIG', 'ENAMETOOLONG', 'ELOOP', 'EXDEV', 'EBUSY', 'ETXTBSY', 'ENOMEM',
]);

interface SystemErrorLike extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

function isSystemError(err: unknown): err is SystemErrorLike {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && IO_ERRNOS.has((err as unknown as { code: string }).code);
}

/** What the kernel said, for people: `ENOSPC: no space left on device` without Node's framing. */
function errnoText(err: SystemErrorLike): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return `${err.code} (${m ? m[1] : err.message})`;
}

/**
 * A LayerError of code LAYER_IO for a Node system error (operation, path and errno named), or
 * undefined when `err` is not one. `op` overrides the syscall name ("writing the rpmdb").
 */
export function ioError(err: unknown, op?: string): LayerError | undefined {
  if (err instanceof LayerError || !isSystemError(err)) return undefined;
  const what = op ?? err.syscall ?? 'i/o';
  const where = err.path ? ` ${err.path}${err.dest ? ` -> ${err.dest}` : ''}` : '';
  const hint = err.code === 'ENOSPC' || err.code === 'EDQUOT'
    ? 'free some space (layer cleanup removes unused deployments and objects) and try again'
    : err.code === 'EACCES' || err.code === 'EPERM' ? 'run as root, or check the permissions of the path'
      : err.code === 'EROFS' ? 'the filesystem is mounted read-only' : undefined;
  return new LayerError('LAYER_IO', `${what}${where}: ${errnoText(err)}`, { cause: err, ...(hint ? { hint } : {}) });
}

/** Re-throw `err` with `context: ` prepended, keeping the code of a LayerError (a system error becomes LAYER_IO). */
export function withContext(context: string, err: unknown): LayerError {
  if (err instanceof LayerError) {
    const wrapped = new LayerError(err.code, `${context}: ${err.message}`, { hint: err.hint, cause: err });
    return wrapped;
  }
  const io = ioError(err);
  if (io) return new LayerError('LAYER_IO', `${context}: ${io.message}`, { cause: err, ...(io.hint ? { hint: io.hint } : {}) });
  const msg = err instanceof Error ? err.message : String(err);
  return new LayerError('LAYER_INTERNAL', `${context}: ${msg}`, { cause: err });
}

/** Any thrown value as a LayerError: LayerErrors as they are, system errors as LAYER_IO, the rest LAYER_INTERNAL. */
export function asLayerError(err: unknown): LayerError {
  if (err instanceof LayerError) return err;
  const io = ioError(err);
  if (io) return io;
  const msg = err instanceof Error ? err.message : String(err);
  return new LayerError('LAYER_INTERNAL', `internal error: ${msg}`, { cause: err });
}

/** A broken invariant: a bug in layer, never a user error. */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new LayerError('LAYER_INTERNAL', `assertion failed: ${what}`);
}
