/**
 * An OSTree commit as an OCI image (`layer export --oci`, `layer compose --oci`) in the layout
 * bootc and rpm-ostree's ostree-native containers use (ostree-ext's "chunked" encapsulation;
 * the tar entries are ostree-tar.ts's):
 *
 * - layer 0, the ostree layer: the root directory, the repo structure, the `.commit` object,
 *   its `.commitmeta` when it has one (signatures), the root `.dirmeta`, then the tree walked
 *   depth first (each `.dirtree`, each new `.dirmeta`, each directory entry), `var/tmp` when
 *   the tree has /var but not /var/tmp, then the content objects no package owns, each with
 *   its hardlinks;
 * - layers 1..n, one per package chunk (from the commit's rpmdb): the repo structure, then the
 *   chunk's content objects, each with its hardlinks, and the layer annotation
 *   `ostree.components` (the packages, comma-separated). Over MAX_CHUNKS packages, the ones
 *   with the fewest objects share the last chunk;
 * - labels (and the same manifest annotations): `ostree.commit`, `ostree.final-diffid` (the
 *   diff_id of the last chunk layer: bootc reads every layer up to it as ostree objects),
 *   `containers.bootc=1`, `version` and `org.opencontainers.image.version`; the architecture
 *   from the packages (bootc refuses an image of another architecture than the host's).
 *
 * An update that changes one package changes its chunk and layer 0 (it holds the commit); the
 * other layers keep their digests. A content object shared by files of several packages goes
 * to the first of them by name. Reproducible: fixed entry order (tree order, then checksums),
 * mtime 0, numeric owners, fixed gzip settings, `created` = the commit's timestamp.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFilePaths } from '../rpm/files.js';
import { openRpmdb, RPMDB_DIRS } from '../rpmdb/index.js';
import { decodeCommit, decodeDirMeta, decodeDirTree, type Checksum, type DirMeta } from '../store/index.js';
import type { CommitReader } from './commit-reader.js';
import { LayerBlobWriter, MEDIA, writeIndex, writeJsonBlob, type Descriptor, type ImageConfig } from './layout.js';
import { OstreeTarWriter, isStructureDir, tarPath } from './ostree-tar.js';
import { TAR_END } from './tar.js';

/** Most package chunks of one image; layer 0 comes on top (ostree-ext's MAX_CHUNKS, 64). */
export const MAX_CHUNKS = 64;
export { OBJECTS_DIR } from './ostree-tar.js';
/** The name of layer 0 in results and history. */
export const OSTREE_LAYER = 'the OSTree commit and unowned files';
/** The layer annotation naming a chunk's packages (ostree-ext's CONTENT_ANNOTATION). */
export const COMPONENTS = 'ostree.components';

export interface ExportOciOptions {
  /** The OCI layout directory (created or added to). */
  dir: string;
  /** The `org.opencontainers.image.ref.name` of the manifest (default `latest`). */
  tag?: string;
  /** config.architecture (default: from the packages' arch, else the host's). */
  architecture?: string;
}

export interface ExportOciResult {
  commit: Checksum;
  manifestDigest: string;
  configDigest: string;
  /** One per layer, layer 0 first: what it holds, its digest and diff_id. */
  layers: Array<{ name: string; digest: string; diffId: string; size: number; entries: number }>;
  tag: string;
  architecture: string;
}

/** Layer 0's structure, in order: metadata objects and directory entries. */
type Step = { kind: 'object'; csum: string; suffix: 'commit' | 'commitmeta' | 'dirtree' | 'dirmeta'; bytes: Buffer } | { kind: 'dir'; path: string; meta: DirMeta };

interface Walked {
  steps: Step[];
  /** Content checksum → its tree paths (tree order). */
  files: Map<Checksum, string[]>;
  version?: string;
  timestamp: bigint;
  subject: string;
}

function walkCommit(reader: CommitReader, commit: Checksum): Walked {
  const commitBytes = reader.readMeta('commit', commit);
  const c = decodeCommit(commitBytes);
  const rootMeta = reader.readMeta('dirmeta', c.rootMeta);
  const steps: Step[] = [
    { kind: 'dir', path: './', meta: decodeDirMeta(rootMeta) },
    { kind: 'object', csum: commit, suffix: 'commit', bytes: commitBytes },
  ];
  // Detached metadata (signatures) right after the commit, as ostree-ext writes it.
  const detached = reader.readCommitMeta(commit);
  if (detached) steps.push({ kind: 'object', csum: commit, suffix: 'commitmeta', bytes: detached });
  steps.push({ kind: 'object', csum: c.rootMeta, suffix: 'dirmeta', bytes: rootMeta });
  const files = new Map<Checksum, string[]>();
  const seen = new Set<string>([`dirmeta ${c.rootMeta}`]);
  const once = (csum: string, suffix: 'dirtree' | 'dirmeta', read: () => Buffer): Buffer => {
    const bytes = read();
    if (!seen.has(`${suffix} ${csum}`)) steps.push({ kind: 'object', csum, suffix, bytes });
    seen.add(`${suffix} ${csum}`);
    return bytes;
  };
  let hasVar = false;
  let hasVarTmp = false;
  const visit = (prefix: string, tree: Checksum): void => {
    const t = decodeDirTree(once(tree, 'dirtree', () => reader.readMeta('dirtree', tree)));
    for (const [name, csum] of t.files) files.set(csum, [...(files.get(csum) ?? []), prefix + name]);
    for (const [name, sub, subMeta] of t.dirs) {
      const meta = decodeDirMeta(once(subMeta, 'dirmeta', () => reader.readMeta('dirmeta', subMeta)));
      const path = prefix + name;
      hasVar ||= path === 'var';
      hasVarTmp ||= path === 'var/tmp';
      if (!isStructureDir(path)) steps.push({ kind: 'dir', path: tarPath(path), meta });
      visit(`${path}/`, sub);
    }
  };
  visit('', c.rootTree);
  if (hasVar && !hasVarTmp) steps.push({ kind: 'dir', path: 'var/tmp', meta: { mode: 0o1777, uid: 0, gid: 0, xattrs: [] } });
  const v = c.metadata.find(([k]) => k === 'version')?.[1].value;
  return { steps, files, ...(typeof v === 'string' ? { version: v } : {}), timestamp: c.timestamp, subject: c.subject };
}

interface Owners {
  /** Tree path → owning package name. */
  paths: Map<string, string>;
  /** The packages' most common architecture (noarch left out), if any. */
  arch?: string;
}

/** Who owns what, from the commit's rpmdb (no rpmdb: nobody). */
function readOwners(reader: CommitReader, files: Map<Checksum, string[]>): Owners {
  const byPath = new Map<string, Checksum>();
  for (const [csum, paths] of files) for (const p of paths) byPath.set(p, csum);
  const db = RPMDB_DIRS.map((d) => byPath.get(`${d}/rpmdb.sqlite`)).find((c) => c !== undefined);
  const out: Owners = { paths: new Map() };
  if (db === undefined) return out;
  const tmp = mkdtempSync(join(tmpdir(), 'layer-oci-rpmdb-'));
  try {
    writeFileSync(join(tmp, 'rpmdb.sqlite'), reader.readContent(db).content);
    const rpmdb = openRpmdb(join(tmp, 'rpmdb.sqlite'));
    try {
      const arches = new Map<string, number>();
      const pkgs = [...rpmdb.packages()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const p of pkgs) {
        if (p.arch !== 'noarch') arches.set(p.arch, (arches.get(p.arch) ?? 0) + 1);
        for (const abs of readFilePaths(p.header, p.nevra)) {
          // OSTree trees keep the packages' /etc as /usr/etc.
          const rel = abs.startsWith('/etc/') ? `usr${abs}` : abs.replace(/^\/+/, '');
          if (byPath.has(rel) && !out.paths.has(rel)) out.paths.set(rel, p.name);
        }
      }
      const top = [...arches].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
      if (top) out.arch = top[0];
    } finally {
      rpmdb.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

interface Chunk {
  name: string;
  packages: string[];
  /** Content checksum → paths, in checksum order. */
  objects: Array<[Checksum, string[]]>;
}

const byName = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Package chunks (at most MAX_CHUNKS) and the unowned objects layer 0 keeps. */
function planChunks(files: Map<Checksum, string[]>, owners: Map<string, string>): { chunks: Chunk[]; rest: Array<[Checksum, string[]]> } {
  const byPkg = new Map<string, Array<[Checksum, string[]]>>();
  const rest: Array<[Checksum, string[]]> = [];
  for (const [csum, paths] of [...files].sort(([a], [b]) => byName(a, b))) {
    const pkgs = paths.map((p) => owners.get(p)).filter((p): p is string => p !== undefined).sort(byName);
    const entry: [Checksum, string[]] = [csum, [...paths].sort(byName)];
    const pkg = pkgs[0];
    if (pkg === undefined) rest.push(entry);
    else byPkg.set(pkg, [...(byPkg.get(pkg) ?? []), entry]);
  }
  let chunks: Chunk[] = [...byPkg].sort(([a], [b]) => byName(a, b)).map(([name, objects]) => ({ name, packages: [name], objects }));
  if (chunks.length > MAX_CHUNKS) {
    const bySize = [...chunks].sort((a, b) => b.objects.length - a.objects.length || byName(a.name, b.name));
    const keep = new Set(bySize.slice(0, MAX_CHUNKS - 1).map((c) => c.name));
    const merged = chunks.filter((c) => !keep.has(c.name));
    const objects = merged.flatMap((c) => c.objects).sort(([a], [b]) => byName(a, b));
    chunks = [...chunks.filter((c) => keep.has(c.name)), { name: `${merged.length} components`, packages: merged.map((c) => c.name), objects }];
  }
  return { chunks, rest };
}

type Written = { desc: Descriptor; diffId: string; entries: number };

async function writeObjects(t: OstreeTarWriter, reader: CommitReader, objects: Array<[Checksum, string[]]>): Promise<number> {
  let n = 0;
  for (const [csum, paths] of objects) {
    const { meta, content } = reader.readContent(csum);
    await t.content(csum, meta, content, paths);
    n += 2 + paths.length;
  }
  return n;
}

async function writeOstreeLayer(dir: string, reader: CommitReader, walked: Walked, rest: Array<[Checksum, string[]]>): Promise<Written> {
  const w = new LayerBlobWriter(dir);
  const t = new OstreeTarWriter(w);
  const [root, ...steps] = walked.steps;
  if (root?.kind === 'dir') await t.dir(root.path, root.meta);
  await t.repoStructure();
  for (const s of steps) {
    if (s.kind === 'dir') await t.dir(s.path, s.meta);
    else await t.metaObject(s.csum, s.suffix, s.bytes);
  }
  const entries = walked.steps.length + (await writeObjects(t, reader, rest));
  await w.write(TAR_END);
  return { ...(await w.finish()), entries };
}

async function writeChunkLayer(dir: string, reader: CommitReader, chunk: Chunk): Promise<Written> {
  const w = new LayerBlobWriter(dir);
  const t = new OstreeTarWriter(w);
  await t.repoStructure();
  const entries = await writeObjects(t, reader, chunk.objects);
  await w.write(TAR_END);
  const r = await w.finish();
  return { desc: { ...r.desc, annotations: { [COMPONENTS]: [...chunk.packages].sort(byName).join(',') } }, diffId: r.diffId, entries };
}

/** Node's process.arch → the OCI / Go architecture name. */
function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** An RPM arch → the OCI / Go architecture name. */
function ociArch(rpmArch: string): string {
  return ({ x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', i686: '386' } as Record<string, string>)[rpmArch] ?? rpmArch;
}

/** Export commit `rev` of the repo `reader` reads as an OCI image into `opts.dir`. */
export async function exportOci(reader: CommitReader, rev: string, opts: ExportOciOptions): Promise<ExportOciResult> {
  const commit = reader.resolve(rev);
  const walked = walkCommit(reader, commit);
  const owners = readOwners(reader, walked.files);
  const { chunks, rest } = planChunks(walked.files, owners.paths);
  const layers: ExportOciResult['layers'] = [];
  const written: Written[] = [];
  const add = (name: string, r: Written) => {
    written.push(r);
    layers.push({ name, digest: r.desc.digest, diffId: r.diffId, size: r.desc.size, entries: r.entries });
  };
  add(OSTREE_LAYER, await writeOstreeLayer(opts.dir, reader, walked, rest));
  for (const c of chunks) add(c.name, await writeChunkLayer(opts.dir, reader, c));
  const architecture = opts.architecture ?? (owners.arch !== undefined ? ociArch(owners.arch) : hostArch());
  return writeManifest({ ...opts, architecture }, commit, walked, written, layers);
}

type Layers = ExportOciResult['layers'];

type Opts = ExportOciOptions & { architecture: string };

function writeManifest(opts: Opts, commit: Checksum, walked: Walked, written: Written[], layers: Layers): ExportOciResult {
  const created = new Date(Number(walked.timestamp) * 1000).toISOString().replace('.000Z', 'Z');
  const labels: Record<string, string> = { 'containers.bootc': '1', 'ostree.commit': commit, 'ostree.final-diffid': written[written.length - 1]?.diffId ?? '' };
  if (walked.version !== undefined) Object.assign(labels, { 'org.opencontainers.image.version': walked.version, version: walked.version });
  const described = (name: string, i: number) => (i === 0 ? walked.subject || `ostree export of commit ${commit}` : name);
  const config: ImageConfig = {
    created, architecture: opts.architecture, os: 'linux',
    config: { Labels: labels },
    rootfs: { type: 'layers', diff_ids: written.map((w) => w.diffId) },
    history: layers.map((l, i) => ({ created, created_by: described(l.name, i) })),
  };
  const configDesc = writeJsonBlob(opts.dir, MEDIA.config, config);
  const layerDescs = written.map((w) => w.desc);
  const manifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers: layerDescs, annotations: labels };
  const manifestDesc = writeJsonBlob(opts.dir, MEDIA.manifest, manifest);
  const tag = opts.tag ?? 'latest';
  writeIndex(opts.dir, manifestDesc, tag);
  return { commit, manifestDigest: manifestDesc.digest, configDigest: configDesc.digest, layers, tag, architecture: opts.architecture };
}
