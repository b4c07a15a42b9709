/**
 * What every sandboxed child process needs (scriptlets in compose/sandbox.ts, `layer run` in
 * engine/run.ts): its whole process group killed (a script may leave a daemon behind), output
 * kept to a bound (a chatty command must not grow memory without end), and one hint when bwrap
 * itself is missing.
 */

/** SIGKILL to the process group of `pid` (spawned with `detached: true`); a gone group is fine. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Collects output chunks, keeping the last `max` bytes (at least the newest chunk). */
export function boundedOutput(max: number): { push(b: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  return {
    push(b) {
      chunks.push(b);
      size += b.length;
      while (size > max && chunks.length > 1) {
        size -= chunks.shift()?.length ?? 0;
        dropped = true;
      }
    },
    text() {
      const out = Buffer.concat(chunks).toString('utf8');
      return dropped ? `[... earlier output dropped ...]\n${out}` : out;
    },
  };
}

/** The hint for a bwrap that could not be started. */
export function bwrapHint(err: NodeJS.ErrnoException): string | undefined {
  return err.code === 'ENOENT' ? 'install it: apt-get install bubblewrap (Debian) / dnf install bubblewrap' : undefined;
}
