/**
 * `layer report FROM TO --out DIR [--reposdir DIR] [--lockfile FILE] [--json]`: the upgrade
 * report (src/nightly) of any two deployments: package changes, advisories the newer tree
 * fixes, new packages with why, size change. No checks ran, so the verdict is "unchecked";
 * `layer upgrade --report DIR` writes the same report with its checks and timings.
 */
import { resolve } from 'node:path';
import { selectDeployment } from '../../engine/run.js';
import { readLockfile } from '../../engine/lockfile.js';
import { LayerError } from '../../errors.js';
import { buildReport } from '../../nightly/report.js';
import { writeReport } from '../../nightly/write.js';
import { Sysroot } from '../../sysroot/index.js';
import { parseArgs, str } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer report FROM TO --out DIR [--sysroot DIR] [--reposdir DIR] [--lockfile FILE] [--json]
  Write DIR/report.json and DIR/report.html comparing deployment FROM with TO (each an index in
  boot order, an id, a checksum prefix, booted, pending or rollback): base and layered package
  changes, security advisories TO fixes (from the repos' updateinfo; --reposdir, default TO's
  /etc/yum.repos.d), new packages with why, size change; --lockfile FILE is shown in it.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('report', argv, { out: { value: true }, reposdir: { value: true }, lockfile: { value: true } });
  const out = str(p, 'out');
  const [fromSpec, toSpec] = p.positionals;
  if (fromSpec === undefined || toSpec === undefined || p.positionals.length > 2 || !out) {
    throw new LayerError('LAYER_USAGE', 'layer report: name two deployments and --out DIR', { hint: usage });
  }
  const s = Sysroot.open(sysrootOf(p));
  const from = selectDeployment(s, fromSpec);
  const to = selectDeployment(s, toSpec);
  const reposdir = str(p, 'reposdir');
  const lockfile = str(p, 'lockfile');
  const doc = await buildReport({
    sysroot: s, from, to, command: `layer report ${argv.join(' ')}`,
    ...(reposdir ? { reposdir: resolve(reposdir) } : {}), ...(lockfile ? { lockfile: readLockfile(resolve(lockfile)) } : {}),
  });
  const files = writeReport(resolve(out), doc);
  emit(p, { ...files, verdict: doc.verdict, summary: doc.summary }, () => `${doc.summary}\nWrote ${files.json} and ${files.html}\n`);
  return 0;
}
