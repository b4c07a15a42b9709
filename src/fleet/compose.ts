/**
 * `layer compose`: compose a base from a recipe and publish it in an archive-mode OSTree
 * repository, the static files a fleet pulls from (any web server or CDN serves them).
 *
 * The tree is composed by the one compose pipeline (plan → apply) into a bare / bare-user
 * work store, then the commit is exported object by object into the archive (store/archive.ts):
 * metadata objects are copied verbatim, so the commit checksum in the archive IS the checksum
 * of the bare commit. The ref's previous commit becomes the parent, so `ostree log` of the ref
 * is the fleet's history; the summary is regenerated last.
 *
 * Crash safety: the archive only gains objects until the ref is written (after a filesystem
 * sync), and the summary is written after the ref; an interrupted compose leaves the ref and
 * the summary as they were. The work directory is a temp directory removed at the end unless
 * the caller passes its own (`workDir`, kept: its package cache speeds up the next compose).
 *
 * With `oci`, the published commit is then also written as an OCI image (src/oci: the layout
 * bootc uses), from the archive repo, also when the compose was unchanged; a failure there
 * leaves the published ref as it is.
 *
 * Locking: one compose per archive repo at a time; nothing here enforces it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { apply, plan as planCompose } from '../compose/index.js';
import { hostArch, openRepos } from '../engine/repos.js';
import { nextVersion } from '../engine/version.js';
import { sourceDateEpoch } from '../compose/apply/rpmdb.js';
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { Request } from '../request/index.js';
import { pubkeyEntry } from '../rpmdb/pubkey.js';
import { ArchiveRepo, Store, commitMetadata, exportCommit, updateSummary, type Checksum, type ExportResult } from '../store/index.js';
import { generateDelta, type DeltaResult } from '../store/delta/index.js';
import { exportOciTo, openCommitReader, type ExportedImage } from '../oci/index.js';
import { createPackageVerifier } from '../trust/index.js';
import { readRecipe, type Recipe } from './recipe.js';
import { checkSigningKeys, signCommit, signIfUnsigned, signSummary, wantsSigning, type SignOptions } from './sign.js';
import { now } from '../util/clock.js';

export interface ComposeRepoRequest {
  /** The archive repository (created when absent). */
  repo: string;
  ref: string;
  /** Path of the recipe file (recipe.ts). */
  recipe: string;
  /** Commit `version`; default: the next date-based version after the ref's (YYYYMMDD.N). */
  version?: string;
  /** Work directory (work store, package cache), kept; default: a temp directory, removed. */
  workDir?: string;
  /** Use cached metadata and packages only. */
  cacheOnly?: boolean;
  report: Report;
  /** Sync before writing the ref (default true). */
  fsync?: boolean;
  /** Sign the commit and the summary (fleet/sign.ts); default: unsigned. */
  sign?: SignOptions;
  /** Generate a static delta from the ref's previous commit to the new one (store/delta). */
  deltas?: boolean;
  /** Also write the ref's commit as an OCI image (src/oci) once it is published. */
  oci?: { dest: string; tag?: string };
}

export interface ComposeRepoResult {
  /** 'composed': a new commit; 'unchanged': the ref's commit already is this recipe's tree at this version. */
  outcome: 'composed' | 'unchanged';
  ref: string;
  commit: Checksum;
  parent?: Checksum;
  version: string;
  packages: string[];
  exported?: ExportResult;
  /** The static delta generated (`deltas`, when the ref had a previous commit). */
  delta?: DeltaResult;
  /** The OCI image written (`oci`). */
  image?: ExportedImage;
  timings: Record<string, number>;
}

const REF_RE = /^(?:[\w\d][-._\w\d]*\/)*[\w\d][-._\w\d]*$/;

export async function composeRepo(req: ComposeRepoRequest): Promise<ComposeRepoResult> {
  const r = await composeCommit(req);
  if (!req.oci) return r;
  // From the archive, after the ref moved: the image is of the commit the fleet's repo serves.
  const { dest, tag } = req.oci;
  const started = now();
  const image = await req.report.section('oci', async () => exportOciTo(openCommitReader(req.repo), r.commit, dest, tag));
  return { ...r, image, timings: { ...r.timings, oci: Math.round(now() - started) } };
}

async function composeCommit(req: ComposeRepoRequest): Promise<ComposeRepoResult> {
  if (!REF_RE.test(req.ref)) throw new LayerError('LAYER_USAGE', `invalid ref name '${req.ref}'`, { hint: 'refs match [\\w\\d][-._\\w\\d]* separated by /' });
  const recipe = readRecipe(req.recipe);
  if (wantsSigning(req.sign)) checkSigningKeys(req.sign);
  const archive = ArchiveRepo.init(req.repo, { fsync: req.fsync ?? true });
  const previous = archive.readRef(req.ref);
  const prevCommit = previous ? archive.readCommit(previous) : undefined;
  const prevMeta = (key: string) => {
    const v = prevCommit ? commitMetadata(prevCommit, key)?.value : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const epoch = sourceDateEpoch();
  const version = req.version ?? nextVersion(prevMeta('version'), epoch !== undefined ? new Date(epoch * 1000) : undefined);

  const work = req.workDir ? resolve(req.workDir) : mkdtempSync(join(tmpdir(), 'layer-compose-'));
  mkdirSync(work, { recursive: true });
  const { report } = req;
  try {
    const store = Store.init(join(work, 'repo'), { fsync: false });
    const cacheDir = join(work, 'cache');
    const reposdir = reposDirOf(recipe, work, req.recipe);
    const arch = recipe.options.arch ?? hostArch();
    const repos = await openRepos({ reposdir, arch, cacheDir, report });
    try {
      const request: Request = {
        baseRef: req.ref, baseCommit: '' as Checksum, requested: [], requestedLocal: [], removed: [],
        recipe: { packages: [...recipe.packages], repos: repos.active.map((r) => r.id) },
      };
      const inputDigest = prevMeta('layer.compose.input-digest');
      // Same recipe, same package set, same version: the ref already has this tree.
      const sameVersion = req.version === undefined || req.version === prevMeta('version');
      const p = await planCompose(request, {
        store, repos, arch, cacheDir, report,
        options: { ...(recipe.options.ignoreWeakDeps ? { ignoreWeakDeps: true } : {}), ...(req.cacheOnly ? { cacheOnly: true } : {}) },
        ...(previous && inputDigest && sameVersion ? { previous: { commit: previous, inputDigest } } : {}),
      });
      if (p.unchanged && previous) {
        if (wantsSigning(req.sign)) signIfUnsigned(archive, previous, req.sign);
        return { outcome: 'unchanged', ref: req.ref, commit: previous, version: prevMeta('version') ?? '', packages: p.packages, timings: {} };
      }
      const verifier = createPackageVerifier(repos.active.map((r) => r.config), {});
      const tid = epoch ?? Math.floor(Date.now() / 1000);
      const applied = await apply(p, {
        store, repos, cacheDir, report, version, verify: verifier.verify,
        extraRpmdbEntries: () => (verifier.result()?.imported ?? []).map((k) => pubkeyEntry(k.cert, { installTime: tid, installTid: tid })),
        ...(previous ? { parent: previous } : {}), ...(req.cacheOnly ? { cacheOnly: true } : {}),
      });
      if (!applied.commit) throw new LayerError('LAYER_INTERNAL', 'assertion failed: apply returned no commit');
      const commit = applied.commit;
      const started = now();
      const exported = await report.section('export', async () => exportCommit(store, commit, archive));
      const exportMs = Math.round(now() - started);
      // Before the ref moves: a host that sees the new ref finds the delta to it already indexed.
      const delta = req.deltas && previous ? await report.section('delta', async () => generateDelta(archive, previous, commit)) : undefined;
      publish(archive, req.ref, commit, req.sign);
      const timings = { ...applied.timings, export: exportMs, ...(delta ? { delta: Math.round(now() - started) - exportMs } : {}) };
      return { outcome: 'composed', ref: req.ref, commit, ...(previous ? { parent: previous } : {}), version, packages: p.packages, exported, ...(delta ? { delta } : {}), timings };
    } finally {
      await repos.close();
    }
  } finally {
    if (!req.workDir) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Moves `ref` to `commit` and regenerates the summary, signing both when asked: the commit before
 * the ref names it, so a host never sees the new commit unsigned. An unsigned publication drops
 * a stale `summary.sig` (it would not match the new summary).
 */
function publish(archive: ArchiveRepo, ref: string, commit: Checksum, sign: SignOptions | undefined): void {
  if (wantsSigning(sign)) signCommit(archive, commit, sign);
  archive.setRef(ref, commit);
  updateSummary(archive);
  if (wantsSigning(sign)) signSummary(archive, sign);
  else rmSync(join(archive.path, 'summary.sig'), { force: true });
}

/** The recipe's repos as one directory of .repo files (a list of files is copied into the work dir). */
function reposDirOf(recipe: Recipe, work: string, recipePath: string): string {
  if ('dir' in recipe.repos) return recipe.repos.dir;
  const dir = join(work, 'repos.d');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of recipe.repos.files) {
    if (!f.endsWith('.repo')) throw new LayerError('LAYER_RECIPE', `recipe ${recipePath}: ${f} is not a .repo file`);
    try {
      copyFileSync(f, join(dir, basename(f)));
    } catch (err) {
      throw new LayerError('LAYER_RECIPE', `recipe ${recipePath}: cannot read ${f}`, { cause: err });
    }
  }
  return dir;
}
