/**
 * An OSTree commit as an OCI image (`layer export --oci`), in the shape ostree-native / bootc
 * images have: the tree as plain rootfs content (any container tool unpacks it), the commit's
 * own metadata objects (commit, dirtree, dirmeta) under `sysroot/ostree/repo/objects/` so an
 * importer rebuilds the byte-identical commit, and the labels `ostree.commit`,
 * `ostree.final-diffid`, `containers.bootc` and `version` on the config.
 *
 * Layers are split by owning package (the commit's rpmdb): one layer per package holding its
 * files (and their parent directories), then a final layer with every directory, the files no
 * package owns (the rpmdb itself, generated files) and the OSTree objects. An update that
 * changes one package changes that package's layer and the final one; the others keep their
 * digests, so a registry and a client already holding them transfer nothing for them. Over
 * MAX_LAYERS packages, the packages with the fewest files share one layer.
 *
 * Reproducible: entries sorted by path, mtime 0, numeric owners only, gzip with fixed settings
 * (no name, mtime 0), JSON with a fixed key order and `created` = the commit's timestamp: the
 * same commit always gives the same digests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { readFilePaths } from '../rpm/files.js';
import { openRpmdb, RPMDB_DIRS } from '../rpmdb/index.js';
import { S_IFLNK, S_IFMT, decodeCommit, decodeDirMeta, decodeDirTree, type Checksum, type DirMeta } from '../store/index.js';
import type { CommitReader } from './commit-reader.js';
import { LayerBlobWriter, MEDIA, writeIndex, writeJsonBlob, type Descriptor, type ImageConfig } from './layout.js';
import { TAR_END, padding, tarHeader } from './tar.js';

/** Most layers of one image (ostree-rs-ext's default chunking limit is 64 too). */
export const MAX_LAYERS = 64;
/** Where the commit's metadata objects go in the final layer (the path ostree-native images use). */
export const OBJECTS_DIR = 'sysroot/ostree/repo/objects';

/** A tree directory or file, an OSTree object file, or a directory made only to hold the objects. */
type Node = { kind: 'dir'; meta: Checksum } | { kind: 'file'; csum: Checksum } | { kind: 'object'; bytes: Buffer } | { kind: 'plaindir' };

export interface ExportOciOptions {
  /** The OCI layout directory (created or added to). */
  dir: string;
  /** The `org.opencontainers.image.ref.name` of the manifest (default `latest`). */
  tag?: string;
  /** config.architecture (default amd64). */
  architecture?: string;
}

export interface ExportOciResult {
  commit: Checksum;
  manifestDigest: string;
  configDigest: string;
  /** One per layer: what it holds, its digest and diff_id. */
  layers: Array<{ name: string; digest: string; diffId: string; size: number; entries: number }>;
  tag: string;
}

/** Every node of the commit's tree by path ('' the root), and the metadata objects it is made of. */
interface Walked {
  nodes: Map<string, Node>;
  objects: Map<string, Buffer>;
  version?: string;
  timestamp: bigint;
}

function walkCommit(reader: CommitReader, commit: Checksum): Walked {
  const nodes = new Map<string, Node>();
  const objects = new Map<string, Buffer>();
  const commitBytes = reader.readMeta('commit', commit);
  const c = decodeCommit(commitBytes);
  objects.set(`${commit}.commit`, commitBytes);
  const visit = (prefix: string, tree: Checksum, meta: Checksum): void => {
    nodes.set(prefix, { kind: 'dir', meta });
    objects.set(`${meta}.dirmeta`, reader.readMeta('dirmeta', meta));
    const bytes = reader.readMeta('dirtree', tree);
    objects.set(`${tree}.dirtree`, bytes);
    const t = decodeDirTree(bytes);
    const at = (n: string) => (prefix ? `${prefix}/${n}` : n);
    for (const [name, csum] of t.files) nodes.set(at(name), { kind: 'file', csum });
    for (const [name, sub, subMeta] of t.dirs) visit(at(name), sub, subMeta);
  };
  visit('', c.rootTree, c.rootMeta);
  const v = c.metadata.find(([k]) => k === 'version')?.[1].value;
  return { nodes, objects, ...(typeof v === 'string' ? { version: v } : {}), timestamp: c.timestamp };
}

/** Tree path → owning package name, from the commit's rpmdb (none: an empty map). */
function owners(reader: CommitReader, nodes: Map<string, Node>): Map<string, string> {
  const out = new Map<string, string>();
  const dbNode = RPMDB_DIRS.map((d) => nodes.get(`${d}/rpmdb.sqlite`)).find((n) => n?.kind === 'file');
  if (!dbNode || dbNode.kind !== 'file') return out;
  const tmp = mkdtempSync(join(tmpdir(), 'layer-oci-rpmdb-'));
  try {
    writeFileSync(join(tmp, 'rpmdb.sqlite'), reader.readContent(dbNode.csum).content);
    const db = openRpmdb(join(tmp, 'rpmdb.sqlite'));
    try {
      const pkgs = [...db.packages()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const p of pkgs) {
        for (const abs of readFilePaths(p.header, p.nevra)) {
          // OSTree trees keep the packages' /etc as /usr/etc.
          const rel = abs.startsWith('/etc/') ? `usr${abs}` : abs.replace(/^\/+/, '');
          if (nodes.get(rel)?.kind === 'file' && !out.has(rel)) out.set(rel, p.name);
        }
      }
    } finally {
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** The layers' contents: package name → file paths, at most MAX_LAYERS - 1 groups, then the rest. */
function planLayers(nodes: Map<string, Node>, own: Map<string, string>): { groups: Array<[string, string[]]>; rest: string[] } {
  const byPkg = new Map<string, string[]>();
  const rest: string[] = [];
  for (const [path, n] of nodes) {
    if (n.kind !== 'file') continue;
    const pkg = own.get(path);
    if (pkg === undefined) rest.push(path);
    else byPkg.set(pkg, [...(byPkg.get(pkg) ?? []), path]);
  }
  let groups = [...byPkg].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (groups.length > MAX_LAYERS - 1) {
    const bySize = [...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const keep = new Set(bySize.slice(0, MAX_LAYERS - 2).map(([n]) => n));
    const merged = groups.filter(([n]) => !keep.has(n));
    groups = [...groups.filter(([n]) => keep.has(n)), [`${merged.length} smaller packages`, merged.flatMap(([, p]) => p)]];
  }
  return { groups, rest };
}

function parents(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Write one layer of `paths` (sorted; directories and files of the tree, or object entries). */
type Written = { desc: Descriptor; diffId: string };

async function writeLayer(dir: string, reader: CommitReader, nodes: Map<string, Node>, paths: string[]): Promise<Written> {
  const w = new LayerBlobWriter(dir);
  const metas = new Map<Checksum, DirMeta>();
  for (const path of paths) {
    const n = nodes.get(path);
    if (!n) throw new LayerError('LAYER_INTERNAL', `assertion failed: no node for ${path}`);
    if (n.kind === 'dir') {
      const m = metas.get(n.meta) ?? decodeDirMeta(reader.readMeta('dirmeta', n.meta));
      metas.set(n.meta, m);
      await w.write(tarHeader({ path, type: 'dir', mode: m.mode, uid: m.uid, gid: m.gid, size: 0, xattrs: m.xattrs }));
    } else if (n.kind === 'plaindir') {
      await w.write(tarHeader({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }));
    } else if (n.kind === 'object') {
      await w.write(tarHeader({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: n.bytes.length }));
      await w.write(n.bytes);
      await w.write(padding(n.bytes.length));
    } else {
      const { meta, content } = reader.readContent(n.csum);
      const link = (meta.mode & S_IFMT) === S_IFLNK;
      const common = { path, mode: meta.mode, uid: meta.uid, gid: meta.gid, xattrs: meta.xattrs };
      await w.write(tarHeader(link ? { ...common, type: 'symlink', size: 0, linkname: meta.target ?? '' } : { ...common, type: 'file', size: content.length }));
      if (!link) {
        await w.write(content);
        await w.write(padding(content.length));
      }
    }
  }
  await w.write(TAR_END);
  return w.finish();
}

/** Export commit `rev` of the repo `reader` reads as an OCI image into `opts.dir`. */
export async function exportOci(reader: CommitReader, rev: string, opts: ExportOciOptions): Promise<ExportOciResult> {
  const commit = reader.resolve(rev);
  const { nodes, objects, version, timestamp } = walkCommit(reader, commit);
  const { groups, rest } = planLayers(nodes, owners(reader, nodes));
  const layers: ExportOciResult['layers'] = [];
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  const add = async (name: string, paths: string[]) => {
    const sorted = [...new Set(paths)].filter((p) => p !== '').sort(byteOrder);
    const r = await writeLayer(opts.dir, reader, nodes, sorted);
    descs.push(r.desc);
    diffIds.push(r.diffId);
    layers.push({ name, digest: r.desc.digest, diffId: r.diffId, size: r.desc.size, entries: sorted.length });
  };
  for (const [name, files] of groups) await add(name, files.flatMap((f) => [...parents(f), f]));
  // The final layer: every directory, unowned files, and the OSTree objects (with their directories).
  const finalNodes = new Map(nodes);
  const finalPaths = [...nodes].filter(([, n]) => n.kind === 'dir').map(([p]) => p).concat(rest);
  for (const [name, bytes] of [...objects].sort(([a], [b]) => byteOrder(a, b))) {
    const p = `${OBJECTS_DIR}/${name.slice(0, 2)}/${name.slice(2)}`;
    finalNodes.set(p, { kind: 'object', bytes });
    finalPaths.push(p);
    for (const d of parents(p)) {
      if (!finalNodes.has(d)) finalNodes.set(d, { kind: 'plaindir' });
      finalPaths.push(d);
    }
  }
  const sorted = [...new Set(finalPaths)].filter((p) => p !== '').sort(byteOrder);
  const fin = await writeLayer(opts.dir, reader, finalNodes, sorted);
  descs.push(fin.desc);
  diffIds.push(fin.diffId);
  layers.push({ name: 'the rest and the OSTree commit', digest: fin.desc.digest, diffId: fin.diffId, size: fin.desc.size, entries: sorted.length });
  return writeManifest(opts, commit, version, timestamp, descs, diffIds, layers);
}

function writeManifest(opts: ExportOciOptions, commit: Checksum, version: string | undefined, timestamp: bigint, descs: Descriptor[], diffIds: string[], layers: ExportOciResult['layers']): ExportOciResult {
  const created = new Date(Number(timestamp) * 1000).toISOString().replace('.000Z', 'Z');
  const labels: Record<string, string> = { 'containers.bootc': '1', 'ostree.commit': commit, 'ostree.final-diffid': diffIds[diffIds.length - 1] ?? '' };
  if (version !== undefined) labels.version = version;
  const config: ImageConfig = {
    created, architecture: opts.architecture ?? 'amd64', os: 'linux',
    config: { Labels: labels },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((l) => ({ created, created_by: `layer export: ${l.name}` })),
  };
  const configDesc = writeJsonBlob(opts.dir, MEDIA.config, config);
  const manifest = {
    schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers: descs,
    annotations: { 'ostree.commit': commit, ...(version !== undefined ? { 'org.opencontainers.image.version': version } : {}) },
  };
  const manifestDesc = writeJsonBlob(opts.dir, MEDIA.manifest, manifest);
  const tag = opts.tag ?? 'latest';
  writeIndex(opts.dir, manifestDesc, tag);
  return { commit, manifestDigest: manifestDesc.digest, configDigest: configDesc.digest, layers, tag };
}
