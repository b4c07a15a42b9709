/**
 * Step verify: open every package (lead, signature header, header digests: src/rpm refuses a
 * package whose header does not match its digests) and hand them to the context's verifier —
 * the package-signature policy (gpgcheck) plugs in here. The payload digest is checked while
 * the payload is read by import. A package taken from the store (stored.ts) is checked from
 * the headers its import stored: the same policy, the same errors.
 */
import { withContext } from '../../errors.js';
import { openRpm } from '../../rpm/index.js';
import { LOCAL_REPO } from '../plan.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

export async function verify(s: ApplyState): Promise<void> {
  for (const step of s.installs) {
    // Taken from the store (stored.ts): its headers are open already, its file is not needed.
    if (s.rpms.has(step.nevra)) continue;
    const path = need(s.paths, step.nevra, 'downloaded file');
    try {
      s.rpms.set(step.nevra, await openRpm(path));
    } catch (err) {
      throw withContext(`package ${step.nevra} (${path})`, err);
    }
  }
  if (!s.ctx.verify) return;
  await s.ctx.verify(
    s.installs.map((step) => {
      const rpm = need(s.rpms, step.nevra, 'opened package');
      return { rpm, path: s.paths.get(step.nevra) ?? rpm.path, repo: step.repo, local: step.repo === LOCAL_REPO };
    }),
    s.ctx.report,
  );
}
