/** Facts about dependencies that decide what metadata a load needs. */
import type { PackageRecord } from '../solver/types.js';
import { isPrimaryFile } from './filelists.js';

/** Whether some dependency names a file that primary's file subset cannot provide. */
export function needsFullFilelists(records: Iterable<PackageRecord>): boolean {
  for (const r of records) {
    for (const list of [r.requires, r.prerequires, r.conflicts, r.obsoletes, r.recommends, r.supplements]) {
      for (const d of list) if (d.charCodeAt(0) === 47 /* / */ && !isPrimaryFile(d.split(' ', 1)[0]!)) return true;
    }
  }
  return false;
}
