/**
 * A composition in its own process, for crash tests: `node --import tsx compose-child.ts JSON`
 * with { store, base, install, repos: { id: dir }, cacheDir }. Prints the commit on success.
 */
import { join } from 'node:path';
import { composeTree } from '../../../src/compose/index.js';
import { parseRepoFile, RepoSet } from '../../../src/repos/index.js';
import { silentReport } from '../../../src/report.js';
import { Store } from '../../../src/store/index.js';

const a = JSON.parse(process.argv[2]!) as { store: string; base: string; install: string[]; repos: Record<string, string>; cacheDir: string };
const body = Object.entries(a.repos).map(([id, d]) => `[${id}]\nbaseurl=file://${d}\ngpgcheck=0\n`).join('\n');
const repos = new RepoSet(parseRepoFile(body, 'child.repo', {}), { cacheDir: join(a.cacheDir, 'md') });
const r = await composeTree({
  store: Store.open(a.store, { fsync: false }), base: { commit: a.base }, install: a.install, localRpms: [], remove: [],
  repos, arch: 'x86_64', cacheDir: a.cacheDir, options: {}, report: silentReport,
});
await repos.close();
process.stdout.write(`${r.commit}\n`);
