/** Date-based commit versions (issue 12): rpm-ostree's YYYYMMDD.N. */
import { describe, expect, it } from 'vitest';
import { nextVersion } from '../../src/engine/version.js';

describe('nextVersion', () => {
  const day = new Date('2026-11-30T13:00:00Z');
  it('the first compose of a day is .0; the next ones count up; another day starts again', () => {
    expect(nextVersion(undefined, day)).toBe('20261130.0');
    expect(nextVersion('20261130.0', day)).toBe('20261130.1');
    expect(nextVersion('20261130.9', day)).toBe('20261130.10');
    expect(nextVersion('20261129.4', day)).toBe('20261130.0');
  });
  it('a version the user set (not date-based) is followed by the date-based one', () => {
    expect(nextVersion('2.1', day)).toBe('20261130.0');
    expect(nextVersion('20261130', day)).toBe('20261130.0');
  });
});
