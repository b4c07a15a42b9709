/**
 * repos/: configure, fetch, verify, cache and load rpm-md metadata.
 *
 * Public surface (everything else in this folder is internal):
 * - `parsePrimary(input)` → PackageRecord[]: streaming primary.xml reader (bytes, string or
 *   async chunks); `PrimaryParser` is the push form. `depString` renders an `<rpm:entry>`.
 */
export { parsePrimary, PrimaryParser, depString, type XmlInput } from './primary.js';
