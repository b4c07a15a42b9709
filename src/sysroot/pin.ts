/**
 * Pinned deployments, stored as OSTree stores them (`ostree admin pin`, libostree's
 * ostree_sysroot_deployment_set_pinned): `pinned=true` in the `[libostree-transient]` group of the
 * deployment's `.origin`. That group is state about this deployment, never an input: a new
 * deployment's origin is written fresh (origin.ts) and so never inherits the pin, as in OSTree.
 * Edited as text so every other line of the origin (groups layer does not know) stays as it is.
 */
const GROUP = 'libostree-transient';

/** GKeyFile booleans: `true`/`false`, and `1`/`0`. */
export function isPinned(originText: string): boolean {
  let inGroup = false;
  for (const raw of originText.split('\n')) {
    const line = raw.trim();
    const g = /^\[([^\]]+)\]$/.exec(line);
    if (g) {
      inGroup = g[1] === GROUP;
      continue;
    }
    const m = /^pinned\s*=\s*(\S*)$/.exec(line);
    if (inGroup && m) return m[1] === 'true' || m[1] === '1';
  }
  return false;
}

/** `originText` with the pin set or cleared; an emptied `[libostree-transient]` group is dropped. */
export function withPinned(originText: string, pinned: boolean): string {
  const out: string[] = [];
  let group: string[] | undefined; // lines of the transient group, held back and appended last
  let inGroup = false;
  for (const raw of originText.replace(/\n+$/, '').split('\n')) {
    const g = /^\[([^\]]+)\]$/.exec(raw.trim());
    if (g) inGroup = g[1] === GROUP;
    if (!inGroup) {
      out.push(raw);
      continue;
    }
    group ??= [];
    if (g || !/^pinned\s*=/.test(raw.trim())) group.push(raw);
  }
  const body = (group ?? []).filter((l) => !/^\[/.test(l.trim()) && l.trim() !== '');
  if (pinned) body.push('pinned=true');
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  if (body.length > 0) out.push('', `[${GROUP}]`, ...body);
  return out.join('\n') + '\n';
}
