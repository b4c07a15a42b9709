/**
 * RPM import: each package becomes one commit under `layer/pkg/<name>/<evr>.<arch>` (escaped as
 * rpm-ostree escapes its `rpmostree/pkg/…` refs), so a package is unpacked once and its
 * checkout reused by every later compose. Paths are translated for image-based systems (see
 * rpm-paths.ts).
 *
 * Ownership: objects are stored root-owned. The header's user/group *names* of every entry not
 * owned by root:root are recorded in the commit metadata (`layer.rpm.owners`, `a(sss)`: path in
 * the tree, user, group) for the compose stage to resolve against the target tree's
 * passwd/group. tmpfiles.d lines carry the names directly.
 *
 * Crash safety: the payload's digests are only fully verified when iteration ends, so the
 * commit and ref are written after the whole payload has been read without error. A crash or a
 * bad package leaves only unreferenced objects (removed by prune), never a ref.
 */
import { formatEvr } from '../nevra.js';
import { createHash } from 'node:crypto';
import { LayerError, withContext } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { openRpm, type PayloadEntry, type RpmPackage, TAG } from '../rpm/index.js';
import { commitMetadata, MutableTree, S_IFDIR, S_IFREG, V, Variant, type Checksum, type FileMeta, type GValue, type Store } from '../store/index.js';
import { factoryPath, packageRef, placeEntry, tmpfilesQuote } from './rpm-paths.js';
import { now } from '../util/clock.js';

/**
 * Bumped when the import layout changes, so cached package commits are rebuilt. 2: commits
 * rooted at the package's deepest shared directory (store/tree-prefix.ts).
 */
export const IMPORT_VERSION = 2;

export interface ImportOptions {
  report?: Report;
  /** Re-import even when the ref already holds this exact package. */
  force?: boolean;
  /**
   * Leave the ref to the caller (`result.ref` → `result.commit`): a transaction importing many
   * packages makes them durable with one syncfs and then sets every ref, instead of one syncfs
   * per package.
   */
  deferRef?: boolean;
  /** The package as the caller already opened it from `path` (openRpm): its headers are not read again. */
  opened?: RpmPackage;
  /**
   * The package file's checksum as `type:hex`, when the caller checked the file against it (a repo's
   * metadata): recorded with the signature header, so a later compose that finds the same
   * checksum in the metadata takes this import without the file (compose/apply/stored.ts).
   */
  fileChecksum?: string;
}

export interface ImportResult {
  nevra: string;
  ref: string;
  commit: Checksum;
  /** True when an earlier import of the same header was reused without unpacking. */
  reused: boolean;
  /** Payload entries that could not be stored (device nodes, FIFOs, sockets). */
  skipped: string[];
}

/** The metadata keys written on package commits. */
export const PKG_KEYS = {
  nevra: 'layer.rpm.nevra',
  name: 'layer.rpm.name',
  evr: 'layer.rpm.evr',
  arch: 'layer.rpm.arch',
  header: 'layer.rpm.header',
  headerSha256: 'layer.rpm.header-sha256',
  owners: 'layer.rpm.owners',
  skipped: 'layer.rpm.skipped',
  version: 'layer.import-version',
  /** The signature header blob (`ay`): the package verified again without its file. */
  signatureHeader: 'layer.rpm.signature-header',
  /** The package file's checksum, `type:hex` (importRpm's `fileChecksum`), when the importer knew it. */
  fileChecksum: 'layer.rpm.checksum',
} as const;

const root = (e: PayloadEntry) => e.user === 'root' && e.group === 'root';

/** Import the RPM at `path` into `store` (or reuse the earlier import of the same package). */
export async function importRpm(store: Store, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const report = opts.report ?? silentReport;
  const pkg = opts.opened ?? (await openRpm(path));
  const ref = packageRef(pkg);
  const headerSha = createHash('sha256').update(pkg.header.blob).digest('hex');
  const existing = store.readRef(ref);
  if (existing && !opts.force) {
    const c = store.readCommit(existing);
    if (commitMetadata(c, PKG_KEYS.headerSha256)?.value === headerSha && commitMetadata(c, PKG_KEYS.version)?.value === IMPORT_VERSION) {
      return { nevra: pkg.nevra, ref, commit: existing, reused: true, skipped: [] };
    }
  }
  try {
    const t0 = now();
    const r = await unpack(store, pkg, ref, headerSha, report, opts.deferRef === true, opts.fileChecksum);
    report.record('import.package', { package: pkg.nevra, ms: Math.round(now() - t0) });
    return r;
  } catch (err) {
    throw withContext(`importing ${pkg.nevra} (${path})`, err);
  }
}

/**
 * Files up to this size are read whole (their digest checked on the last chunk) before they
 * are stored: the store then hashes first and writes only an object it lacks, where a stream
 * is written to a temp file (a new inode) before its checksum is known. Most of a new version
 * of a package is files the old version shipped too.
 */
const WHOLE_FILE_LIMIT = 1 << 20;

/** A payload file's data: in memory when small (see WHOLE_FILE_LIMIT), else the stream itself. */
async function contentOf(e: PayloadEntry): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
  if (!e.content) return new Uint8Array(0);
  if (e.size > WHOLE_FILE_LIMIT) return e.content;
  const chunks: Uint8Array[] = [];
  for await (const c of e.content) chunks.push(c);
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

async function unpack(
  store: Store, pkg: RpmPackage, ref: string, headerSha: string, report: Report, deferRef: boolean, fileChecksum: string | undefined,
): Promise<ImportResult> {
  const tree = new MutableTree();
  const tmpfiles: string[] = [];
  const owners: GValue[] = [];
  const skipped: string[] = [];
  // Hardlink members arrive before the entry holding the data (see src/rpm contract).
  const waiting = new Map<string, string[]>();
  const what = pkg.nevra;

  const fileMeta = (e: PayloadEntry, type: 'file' | 'symlink'): FileMeta => {
    const meta: FileMeta = { uid: 0, gid: 0, mode: e.mode, xattrs: e.caps ? [['security.capability', e.caps]] : [] };
    if (type === 'symlink') meta.target = e.linkTarget ?? '';
    return meta;
  };
  const noteOwner = (treePath: string, e: PayloadEntry) => {
    if (!root(e)) owners.push([treePath, e.user, e.group]);
  };

  for await (const e of pkg.entries()) {
    if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'symlink') {
      skipped.push(`/${e.path}`);
      report.warn('import.node-skipped', `${what}: /${e.path}: ${e.type} nodes cannot be stored in OSTree; skipped`);
      continue;
    }
    const place = placeEntry(e.path, e.type, what);
    if (place.kind === 'skip') continue;
    if (place.kind === 'tmpfiles') {
      const p = tmpfilesQuote(place.path);
      const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
      if (e.type === 'dir') tmpfiles.push(`d ${p} ${mode} ${e.user} ${e.group} - -`);
      else if (e.type === 'symlink') tmpfiles.push(`L ${p} - - - - ${tmpfilesQuote(e.linkTarget ?? '')}`);
      else {
        const factory = factoryPath(place.path);
        await storeFile(e, factory);
        tmpfiles.push(`C ${p} - - - - /${tmpfilesQuote(factory)}`);
        if (!root(e)) tmpfiles.push(`z ${p} ${mode} ${e.user} ${e.group} - -`);
      }
      continue;
    }
    if (e.type === 'dir') {
      const dir = tree.ensureDir(place.path);
      dir.meta = { uid: 0, gid: 0, mode: S_IFDIR | (e.mode & 0o7777), xattrs: e.caps ? [['security.capability', e.caps]] : [] };
      noteOwner(place.path, e);
      continue;
    }
    await storeFile(e, place.path);
  }

  async function storeFile(e: PayloadEntry, treePath: string): Promise<void> {
    noteOwner(treePath, e);
    if (e.hardlinkTo !== undefined) {
      const list = waiting.get(e.hardlinkTo) ?? [];
      list.push(treePath);
      waiting.set(e.hardlinkTo, list);
      return;
    }
    const type = e.type === 'symlink' ? 'symlink' : 'file';
    const csum = await store.writeContent(fileMeta(e, type), type === 'file' ? await contentOf(e) : undefined);
    tree.setFile(treePath, csum);
    for (const member of waiting.get(e.path) ?? []) tree.setFile(member, csum);
    waiting.delete(e.path);
  }

  if (waiting.size > 0) {
    throw new LayerError('LAYER_RPM_FORMAT', `${what}: hardlink members wait for data that never came: ${[...waiting.keys()].join(', ')}`);
  }
  if (tmpfiles.length > 0) {
    const conf = `# Created by layer from ${pkg.nevra}: content it ships under /var, /run, /tmp, /opt, /usr/local\n${tmpfiles.join('\n')}\n`;
    const csum = await store.writeContent({ uid: 0, gid: 0, mode: S_IFREG | 0o644, xattrs: [] }, Buffer.from(conf));
    tree.setFile(`usr/lib/tmpfiles.d/pkg-${pkg.name}.conf`, csum);
  }

  const evr = formatEvr(pkg);
  const buildTime = pkg.header.number(TAG.BUILDTIME);
  const commit = await store.commitMutableTree(tree, {
    // Written from the deepest directory holding the whole package (store/tree-prefix.ts): the
    // directories above it are named in the metadata, not written (new inodes are the cost).
    rootBelow: true,
    parent: null,
    subject: pkg.nevra,
    // Deterministic: the same package always gives the same commit.
    timestamp: BigInt(buildTime ?? 0),
    metadata: [
      [PKG_KEYS.nevra, V.string(pkg.nevra)],
      [PKG_KEYS.name, V.string(pkg.name)],
      [PKG_KEYS.evr, V.string(evr)],
      [PKG_KEYS.arch, V.string(pkg.arch)],
      [PKG_KEYS.header, V.bytes(pkg.header.blob)],
      [PKG_KEYS.headerSha256, V.string(headerSha)],
      [PKG_KEYS.owners, new Variant('a(sss)', owners)],
      [PKG_KEYS.skipped, V.strings(skipped)],
      [PKG_KEYS.version, V.u32(IMPORT_VERSION)],
      [PKG_KEYS.signatureHeader, V.bytes(pkg.signatureHeader.blob)],
      ...(fileChecksum ? [[PKG_KEYS.fileChecksum, V.string(fileChecksum)] as const] : []),
    ],
  });
  if (!deferRef) store.setRef(ref, commit);
  return { nevra: pkg.nevra, ref, commit, reused: false, skipped };
}
