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
  // solver
  | 'LAYER_SOLVER'
  | 'LAYER_UNSOLVABLE'
  | 'LAYER_NO_MATCH'
  // rpm
  | 'LAYER_RPM_FORMAT'
  | 'LAYER_RPM_DIGEST'
  | 'LAYER_RPM_SIGNATURE'
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
  | 'LAYER_LOCKED'
  | 'LAYER_ALREADY_REQUESTED'
  | 'LAYER_NOT_REQUESTED'
  | 'LAYER_ALREADY_PROVIDED'
  | 'LAYER_USAGE'
  | 'LAYER_INTERNAL';

export class LayerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LayerError';
    this.code = code;
    this.hint = opts.hint;
  }
}

/** Re-throw `err` with `context: ` prepended, keeping the code of a LayerError. */
export function withContext(context: string, err: unknown): LayerError {
  if (err instanceof LayerError) {
    const wrapped = new LayerError(err.code, `${context}: ${err.message}`, { hint: err.hint, cause: err });
    return wrapped;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new LayerError('LAYER_INTERNAL', `${context}: ${msg}`, { cause: err });
}

/** A broken invariant: a bug in layer, never a user error. */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new LayerError('LAYER_INTERNAL', `assertion failed: ${what}`);
}
