/** updateinfo.xml (issue 12): the parser and the "applies / fixed by" rule, on the upgrade fixtures' updateinfo. */
import { describe, expect, it } from 'vitest';
import { applicable, parseUpdateinfo, severityOf } from '../../src/repos/updateinfo.js';
import { UPDATEINFO } from '../support/upgrade-fixtures.js';

describe('updateinfo.xml', () => {
  const all = parseUpdateinfo(UPDATEINFO);

  it('reads id, type, severity, issued date, CVE references and packages', () => {
    expect(all.map((a) => a.id)).toEqual(['UP-2026-0001', 'UP-2026-0002', 'UP-2026-0003', 'UP-2026-0004', 'UP-2026-0005', 'UP-2026-0006', 'UP-2026-0007']);
    expect(all[0]).toEqual({
      id: 'UP-2026-0001', type: 'security', severity: 'Critical', title: 'UP-2026-0001: up-core update', issued: '2026-11-01 00:00:00',
      cves: ['CVE-2026-0001'], packages: [{ name: 'up-core', epoch: 0, version: '1.1', release: '1', arch: 'noarch' }],
    });
    expect(all[5]?.type).toBe('bugfix');
  });

  it('severities: the four known ones in any case, anything else unknown', () => {
    expect(['important', 'LOW', ' Moderate ', 'Critical', 'Urgent', 'None', ''].map(severityOf)).toEqual(['Important', 'Low', 'Moderate', 'Critical', 'unknown', 'unknown', 'unknown']);
    expect(all[4]?.severity).toBe('unknown');
  });

  it('applies when an installed package is older than a listed one; fixed when the new tree has it or newer', () => {
    const installed = [{ name: 'up-core', arch: 'noarch', evr: '1.0-1' }, { name: 'up-lib', arch: 'noarch', evr: '1.0-1' }];
    expect(applicable(all, installed).map((a) => a.id)).toEqual(['UP-2026-0001', 'UP-2026-0003', 'UP-2026-0005', 'UP-2026-0006']);
    // A new tree that keeps up-core 1.0 fixes nothing; 1.2 fixes what 1.1 does.
    expect(applicable(all, installed, installed)).toEqual([]);
    expect(applicable(all, installed, [{ name: 'up-core', arch: 'noarch', evr: '1.2-1' }]).map((a) => a.id)).toEqual(['UP-2026-0001', 'UP-2026-0003', 'UP-2026-0005', 'UP-2026-0006']);
    // Not installed at all: does not apply.
    expect(applicable(all, [{ name: 'up-tool', arch: 'x86_64', evr: '2.0-1' }])).toEqual([]);
  });

  it('malformed XML is LAYER_REPO_CORRUPT naming the file; a document of another kind too', () => {
    expect(() => parseUpdateinfo('<updates><update type="security"><id>x</update>', 'repo r: updateinfo.xml')).toThrow(/repo r: updateinfo.xml/);
    try {
      parseUpdateinfo('<metadata/>');
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('LAYER_REPO_CORRUPT');
    }
  });
});
