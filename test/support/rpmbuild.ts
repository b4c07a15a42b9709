/**
 * Builds fixture RPMs with the real `rpmbuild` from a small TypeScript description, cached by
 * content hash so a fixture is built once per machine.
 *
 *   const path = await buildRpm({ name: 'one-fixed-dep', requires: ['libfoo >= 1.2'],
 *     files: [{ path: '/usr/bin/one', content: '#!/bin/sh\n', mode: 0o755 }] });
 *
 * Files are staged in SOURCES/stage (contents, modes, symlinks, hardlinks, mtimes) and copied
 * into the buildroot with `cp -a` by %install; owners, %config, %ghost, %doc and %caps come
 * from the generated %files list. Automatic dependency generation, brp scripts and debuginfo
 * are off, so a fixture holds exactly what it describes.
 *
 * Needs Debian's `rpm` package (rpmbuild). A missing tool throws with the install command.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, lutimes, mkdir, mkdtemp, readdir, rename, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bump when the generated spec changes meaning, to invalidate cached builds. */
const HELPER_VERSION = 3;

export type Compressor = 'gzip' | 'xz' | 'lzma' | 'zstd' | 'bzip2' | 'none';

/** rpm's `_binary_payload` io flags for each compressor (rpmio/rpmio.c: gzdio, xzdio, lzdio, zstdio, bzdio, ufdio). */
export const PAYLOAD_IO: Record<Compressor, string> = {
  gzip: 'w9.gzdio',
  xz: 'w6.xzdio',
  lzma: 'w6.lzdio',
  zstd: 'w19.zstdio',
  bzip2: 'w9.bzdio',
  none: 'w.ufdio',
};

export interface FixtureFile {
  /** Absolute path inside the package (`/usr/bin/hello`). */
  path: string;
  /** Default 'file'. */
  type?: 'file' | 'dir' | 'symlink';
  /** Regular file content (default empty). */
  content?: string | Uint8Array;
  /** Sparse file of this many bytes instead of `content` (large-file fixtures). */
  sparseSize?: number;
  /** Symlink target. */
  target?: string;
  /** Make this file a hardlink of another regular file of the fixture (same content/inode). */
  hardlinkOf?: string;
  /** Permission bits (default 0644 files, 0755 dirs). */
  mode?: number;
  user?: string;
  group?: string;
  /** %config, %config(noreplace), %config(missingok). */
  config?: boolean | 'noreplace' | 'missingok';
  ghost?: boolean;
  doc?: boolean;
  license?: boolean;
  /** cap_from_text form, e.g. `cap_net_raw=ep`. */
  caps?: string;
  /** Seconds since the epoch (default 1700000000). */
  mtime?: number;
}

export interface Scriptlet {
  body?: string;
  /** `-p <interpreter>`; with no body this is a program-only scriptlet (`%post -p /sbin/ldconfig`). */
  interpreter?: string;
}

export interface Trigger {
  kind: 'triggerin' | 'triggerun' | 'triggerpostun' | 'triggerprein' | 'filetriggerin' | 'filetriggerun' | 'filetriggerpostun' | 'transfiletriggerin' | 'transfiletriggerun' | 'transfiletriggerpostun';
  /** Package names (with optional version condition) or path prefixes for file triggers. */
  on: string;
  body: string;
  interpreter?: string;
  priority?: number;
}

export interface FixtureSpec {
  name: string;
  version?: string;
  release?: string;
  epoch?: number;
  /** Default 'noarch'; anything else is passed as `--target`. */
  arch?: string;
  summary?: string;
  license?: string;
  provides?: string[];
  requires?: string[];
  /** `Requires(pre):` entries; use `requiresFor` for other contexts. */
  prerequires?: string[];
  /** e.g. `{ post: ['coreutils'], posttrans: ['systemd'] }`. */
  requiresFor?: Partial<Record<'pre' | 'post' | 'preun' | 'postun' | 'pretrans' | 'posttrans' | 'interp', string[]>>;
  conflicts?: string[];
  obsoletes?: string[];
  recommends?: string[];
  suggests?: string[];
  supplements?: string[];
  enhances?: string[];
  files?: FixtureFile[];
  scripts?: Partial<Record<'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans' | 'verifyscript', string | Scriptlet>>;
  triggers?: Trigger[];
  /** Payload compressor (default gzip, Debian's rpm default). */
  compressor?: Compressor;
  /** Extra `--define` macros, e.g. `{ _binary_filedigest_algorithm: '2' }`. */
  defines?: Record<string, string>;
}

export interface BuildOptions {
  /** Where built packages are cached (default `$TMPDIR/layer-rpmbuild-cache`). */
  cacheDir?: string;
}

export function defaultCacheDir(): string {
  return process.env.LAYER_RPMBUILD_CACHE ?? join(tmpdir(), 'layer-rpmbuild-cache');
}

/** Builds (or reuses) the package; returns the path of the `.rpm`. */
export async function buildRpm(spec: FixtureSpec, opts: BuildOptions = {}): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: HELPER_VERSION, spec }, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))
    .digest('hex')
    .slice(0, 24);
  const cache = opts.cacheDir ?? defaultCacheDir();
  const outDir = join(cache, `${spec.name}-${key}`);
  const done = join(outDir, 'package.rpm');
  if (existsSync(done)) return done;
  await mkdir(cache, { recursive: true });
  const top = await mkdtemp(join(cache, `.build-${spec.name}-`));
  try {
    await stage(spec, join(top, 'SOURCES', 'stage'));
    const specPath = join(top, 'SPECS', `${spec.name}.spec`);
    await mkdir(dirname(specPath), { recursive: true });
    await writeFile(specPath, specText(spec));
    const args = ['-bb', '--quiet', '--define', `_topdir ${top}`,
      '--define', `_binary_payload ${PAYLOAD_IO[spec.compressor ?? 'gzip']}`,
      '--define', 'debug_package %{nil}', '--define', '__os_install_post %{nil}',
      '--define', '_build_id_links none', '--define', '_dbpath ' + join(top, 'db')];
    for (const [k, v] of Object.entries(spec.defines ?? {})) args.push('--define', `${k} ${v}`);
    if (spec.arch && spec.arch !== 'noarch') args.push('--target', spec.arch);
    args.push(specPath);
    try {
      await run('rpmbuild', args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('rpmbuild not found: run `apt-get install -y rpm` (or `bash scripts/setup.sh`)');
      throw new Error(`rpmbuild failed for fixture ${spec.name}: ${e.stderr ?? e.message}\n--- spec ---\n${specText(spec)}`);
    }
    const rpm = await findRpm(join(top, 'RPMS'));
    const staging = `${outDir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(staging, { recursive: true });
    await rename(rpm, join(staging, 'package.rpm'));
    try {
      await rename(staging, outDir);
    } catch {
      // Another worker built the same fixture first; theirs is identical in meaning.
      await rm(staging, { recursive: true, force: true });
    }
    return done;
  } finally {
    await rm(top, { recursive: true, force: true });
  }
}

async function findRpm(dir: string): Promise<string> {
  for (const sub of await readdir(dir)) {
    for (const f of await readdir(join(dir, sub))) if (f.endsWith('.rpm')) return join(dir, sub, f);
  }
  throw new Error(`rpmbuild produced no package under ${dir}`);
}

async function stage(spec: FixtureSpec, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const files = spec.files ?? [];
  const later: FixtureFile[] = [];
  for (const f of files) {
    const p = join(root, f.path);
    await mkdir(dirname(p), { recursive: true });
    const type = f.type ?? 'file';
    if (type === 'dir') await mkdir(p, { recursive: true });
    else if (type === 'symlink') await symlink(f.target ?? '', p);
    else if (f.hardlinkOf) later.push(f);
    else if (f.sparseSize !== undefined) {
      await writeFile(p, '');
      await truncate(p, f.sparseSize);
    } else await writeFile(p, f.content ?? '');
  }
  for (const f of later) await link(join(root, f.hardlinkOf as string), join(root, f.path));
  // Modes and mtimes last: directories first got their children.
  for (const f of [...files].reverse()) {
    const p = join(root, f.path);
    if ((f.type ?? 'file') === 'symlink') {
      await lutimes(p, f.mtime ?? 1700000000, f.mtime ?? 1700000000);
      continue;
    }
    await chmod(p, f.mode ?? ((f.type ?? 'file') === 'dir' ? 0o755 : 0o644));
    await utimes(p, f.mtime ?? 1700000000, f.mtime ?? 1700000000);
  }
}

const q = (p: string): string => `"${p.replace(/%/g, '%%')}"`;

function fileLine(f: FixtureFile): string {
  const type = f.type ?? 'file';
  const parts: string[] = [];
  const mode = type === 'symlink' ? '-' : (f.mode ?? (type === 'dir' ? 0o755 : 0o644)).toString(8).padStart(4, '0');
  parts.push(`%attr(${mode},${f.user ?? 'root'},${f.group ?? 'root'})`);
  if (type === 'dir') parts.push('%dir');
  if (f.config === true) parts.push('%config');
  else if (f.config) parts.push(`%config(${f.config})`);
  if (f.ghost) parts.push('%ghost');
  if (f.doc) parts.push('%doc');
  if (f.license) parts.push('%license');
  if (f.caps) parts.push(`%caps(${f.caps})`);
  parts.push(q(f.path));
  return parts.join(' ');
}

function scriptHeader(name: string, s: string | Scriptlet): string {
  const sc: Scriptlet = typeof s === 'string' ? { body: s } : s;
  return `%${name}${sc.interpreter ? ` -p ${sc.interpreter}` : ''}\n${sc.body ?? ''}\n`;
}

/** The generated spec file (exported so a failing build can be inspected). */
export function specText(spec: FixtureSpec): string {
  const L: string[] = [];
  L.push(`Name: ${spec.name}`, `Version: ${spec.version ?? '1.0'}`, `Release: ${spec.release ?? '1'}`);
  if (spec.epoch !== undefined) L.push(`Epoch: ${spec.epoch}`);
  L.push(`Summary: ${spec.summary ?? `fixture ${spec.name}`}`, `License: ${spec.license ?? 'MIT'}`, 'AutoReqProv: no');
  if (!spec.arch || spec.arch === 'noarch') L.push('BuildArch: noarch');
  const deps: [string, string[] | undefined][] = [
    ['Provides', spec.provides], ['Requires', spec.requires], ['Requires(pre)', spec.prerequires],
    ['Conflicts', spec.conflicts], ['Obsoletes', spec.obsoletes], ['Recommends', spec.recommends],
    ['Suggests', spec.suggests], ['Supplements', spec.supplements], ['Enhances', spec.enhances],
  ];
  for (const [ctx, list] of Object.entries(spec.requiresFor ?? {})) deps.push([`Requires(${ctx})`, list]);
  for (const [tag, list] of deps) for (const d of list ?? []) L.push(`${tag}: ${d}`);
  L.push('', '%description', `Test fixture ${spec.name}.`, '');
  L.push('%install', 'mkdir -p %{buildroot}', 'cp -a %{_sourcedir}/stage/. %{buildroot}/', '');
  for (const [name, s] of Object.entries(spec.scripts ?? {})) if (s !== undefined) L.push(scriptHeader(name, s));
  for (const t of spec.triggers ?? []) {
    const prio = t.priority !== undefined ? ` -P ${t.priority}` : '';
    L.push(`%${t.kind}${t.interpreter ? ` -p ${t.interpreter}` : ''}${prio} -- ${t.on}\n${t.body}\n`);
  }
  L.push('%files');
  for (const f of spec.files ?? []) L.push(fileLine(f));
  L.push('');
  return L.join('\n');
}
