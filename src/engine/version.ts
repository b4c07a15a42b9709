/**
 * The `version` metadata of composed commits (what `status` shows), as rpm-ostree's composes
 * have it: a layered commit carries its base's version; a base composed from a recipe gets the
 * version the user set (`--version`) or a date-based one, `YYYYMMDD.N`, N counting the
 * composes of that day (rpm-ostree's `automatic-version-prefix` with a date prefix).
 */
import { sourceDateEpoch } from '../compose/apply/rpmdb.js';
import { commitMetadata, type Checksum, type Store } from '../store/index.js';

/** A commit's `version` metadata; undefined when it has none or is not in the store. */
export function commitVersion(store: Store, commit: Checksum | null | undefined): string | undefined {
  if (!commit || !store.hasObject(commit, 'commit')) return undefined;
  const v = commitMetadata(store.readCommit(commit), 'version')?.value;
  return typeof v === 'string' ? v : undefined;
}

/** Today's date-based version after `previous`: `YYYYMMDD.0`, or N+1 when previous is from today. */
export function nextVersion(previous: string | undefined, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const m = previous === undefined ? null : /^(\d{8})\.(\d+)$/.exec(previous);
  return m && m[1] === day ? `${day}.${Number(m[2]) + 1}` : `${day}.0`;
}

/**
 * The version of a commit composed on `base` (null: a recipe base composed from nothing):
 * the user's, else the base's own, else the next date-based version after `previous` (the
 * current deployment's commit).
 */
export function versionFor(
  store: Store, base: Checksum | null, previous: Checksum | undefined, override?: string,
): string {
  // SOURCE_DATE_EPOCH (reproducible builds, lockfiles) fixes the date as it fixes every timestamp.
  const epoch = sourceDateEpoch();
  const now = epoch !== undefined ? new Date(epoch * 1000) : undefined;
  return override ?? commitVersion(store, base) ?? nextVersion(commitVersion(store, previous), now);
}
