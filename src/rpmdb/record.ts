/**
 * An installed header as a solver record (the solver's "installed" repo): exactly src/rpm's
 * `headerToRecord`, the same function package files go through, so installed and available
 * packages spell dependencies identically. Files are the full installed list.
 */
import { headerToRecord, type RpmHeader, TAG } from '../rpm/index.js';
import type { PackageRecord } from '../solver/types.js';

/** The PackageRecord for an installed header. */
export function headerRecord(h: RpmHeader): PackageRecord {
  return headerToRecord(h, `installed header ${h.string(TAG.NAME) ?? '(no name)'}`);
}
