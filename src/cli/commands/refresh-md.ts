/** `layer refresh-md`: fetch fresh rpm-md metadata for the current deployment's repos. */
import { resolve } from 'node:path';
import { refreshMetadata } from '../../engine/index.js';
import { bool, parseArgs, str } from '../args.js';
import { emit, sysrootOf } from '../output.js';
import { CliReport, reportMode } from '../report.js';

export const usage = `layer refresh-md [--sysroot DIR] [--reposdir DIR] [-C|--cache-only] [--json]`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('refresh-md', argv, { reposdir: { value: true }, 'cache-only': { short: 'C' } });
  const reposdir = str(p, 'reposdir');
  const repos = await refreshMetadata({
    sysroot: sysrootOf(p), report: new CliReport(reportMode(bool(p, 'json'))), cacheOnly: bool(p, 'cache-only'),
    ...(reposdir ? { reposdir: resolve(reposdir) } : {}),
  });
  emit(p, { repos }, () => repos.map((r) => `${r.id}: ${r.status}\n`).join('') || 'No enabled repositories.\n');
  return 0;
}
