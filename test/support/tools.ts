/**
 * What every test file needs, once: fail (never skip) when a native tool or the shared data is
 * missing, naming the command that fixes it; temp directories; the ostree and rpm oracles.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throws (the test fails) when `cmd` is not on PATH, naming the Debian package to install. */
export function requireTool(cmd: string, pkg = cmd): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    throw new Error(`${cmd} is not installed: run \`apt-get install -y ${pkg}\` (or \`bash scripts/setup.sh\` as root)`);
  }
}

/** `path` under ../shared, or a failure saying the shared data is absent. */
export function requireShared(path: string): string {
  if (!existsSync(path)) throw new Error(`missing shared data: ${path} (the read-only ../shared checkout beside the repo)`);
  return path;
}

/** A new temp directory `layer-<area>-<tag>-XXXXXX` (under LAYER_TEST_TMP when set). */
export function tempDir(area: string, tag: string): string {
  return mkdtempSync(join(process.env.LAYER_TEST_TMP ?? tmpdir(), `layer-${area}-${tag}-`));
}

/** `ostree --repo=REPO ARGS…` (stdout); throws with ostree's message on failure. */
export function ostree(repo: string, ...args: string[]): string {
  requireTool('ostree');
  return execFileSync('ostree', [`--repo=${repo}`, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** `ostree fsck` of a repo (stdout); throws with its output when the repo is not clean. */
export function ostreeFsck(repo: string): string {
  requireTool('ostree');
  return execFileSync('ostree', [`--repo=${repo}`, 'fsck'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Debian's rpm on tree `root` with the image's dbpath (never Debian's own ~/.rpmdb). */
export function rpmIn(root: string, args: string[]): { stdout: string; stderr: string; status: number } {
  requireTool('rpm');
  const r = spawnSync('rpm', ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}
