/**
 * A base from an OCI image (`layer init/rebase --from-oci`): `oci:DIR[:TAG]` (an image layout
 * on this machine, read in place), `oci-archive:FILE` or `registry:HOST/NAME[:TAG]`. The latter
 * two are copied by `skopeo copy` into a layout kept in the store
 * (`extensions/layer/oci/<key>/`), which skopeo reuses: blobs already there are not fetched
 * again, so an upgrade transfers only the changed layers. src/oci/import.ts verifies the image
 * and rebuilds its OSTree commit.
 *
 * Upgrade: the manifest digest is looked at first (`skopeo inspect --raw`, the manifest only);
 * when it is the one last imported and its commit is in the store, nothing else is fetched.
 * Registries on a loopback address are spoken to over plain HTTP (`--tls-verify=false`), any
 * other over TLS with verification.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LayerError } from '../../errors.js';
import { importImage, imageCommit } from '../../oci/import.js';
import { readImage, type Image } from '../../oci/layout.js';
import type { Report } from '../../report.js';
import type { Checksum, Store } from '../../store/index.js';
import type { BaseSource } from './base-source.js';
import { checkBaseLayout } from './ostree-local.js';

const run = promisify(execFile);

export type OciRef =
  | { transport: 'oci'; dir: string; tag?: string }
  | { transport: 'oci-archive'; file: string }
  | { transport: 'registry'; host: string; name: string; tag: string };

export function isOciSpec(spec: string): boolean {
  return /^(oci|oci-archive|registry):./.test(spec);
}

/** Parse `oci:DIR[:TAG]`, `oci-archive:FILE`, `registry:HOST/NAME[:TAG]`. */
export function parseOciSpec(spec: string): OciRef {
  const usage = (msg: string) => new LayerError('LAYER_USAGE', `--from-oci '${spec}': ${msg}`, { hint: 'oci:DIR[:TAG], oci-archive:FILE or registry:HOST/NAME[:TAG]' });
  const i = spec.indexOf(':');
  const kind = spec.slice(0, i);
  const rest = spec.slice(i + 1);
  if (kind === 'oci-archive') return { transport: 'oci-archive', file: resolve(rest) };
  if (kind === 'oci') {
    const m = /^(.*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(rest);
    return m?.[1] ? { transport: 'oci', dir: resolve(m[1]), tag: m[2] ?? '' } : { transport: 'oci', dir: resolve(rest) };
  }
  if (kind !== 'registry') throw usage('unknown transport');
  const m = /^([A-Za-z0-9.-]+(?::\d+)?)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(rest);
  if (!m?.[1] || !m[2]) throw usage('expected registry:HOST[:PORT]/NAME[:TAG]');
  return { transport: 'registry', host: m[1], name: m[2], tag: m[3] ?? 'latest' };
}

async function skopeo(args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run('skopeo', args, { maxBuffer: 16 << 20, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new LayerError('LAYER_OCI', `${what}: skopeo is not installed`, { hint: 'apt-get install skopeo' });
    const msg = (e.stderr ?? '').trim().split('\n').pop() ?? String(err);
    throw new LayerError('LAYER_OCI', `${what}: skopeo failed: ${msg}`);
  }
}

function tlsFlag(host: string, flag: string): string[] {
  const h = host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' ? [`${flag}=false`] : [];
}

interface Cached {
  manifestDigest: string;
  commit: Checksum;
}

function cacheDir(store: Store, spec: string): string {
  return join(store.path, 'extensions', 'layer', 'oci', createHash('sha256').update(spec).digest('hex').slice(0, 16));
}

function readCached(dir: string): Cached | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Cached;
  } catch {
    return undefined;
  }
}

/** Delete the blobs of the kept layout that `image` does not use (older layers). */
function dropUnused(image: Image): void {
  const used = [image.manifestDigest, image.manifest.config.digest, ...image.manifest.layers.map((l) => l.digest)];
  const keep = new Set(used.map((d) => d.slice(7)));
  const dir = join(image.dir, 'blobs', 'sha256');
  for (const name of readdirSync(dir)) if (!keep.has(name)) rmSync(join(dir, name), { force: true });
}

/**
 * Make the image `spec` names available as an OSTree commit in `store` and return it. Nothing
 * is deployed here; a failure leaves only unreferenced objects.
 */
export async function pullFromOci(store: Store, spec: string, report: Report): Promise<Checksum> {
  const ref = parseOciSpec(spec);
  const cache = cacheDir(store, spec);
  const cached = readCached(cache);
  const known = (digest: string) => cached?.manifestDigest === digest && store.hasObject(cached.commit, 'commit');
  let dir: string;
  let tag: string | undefined;
  if (ref.transport === 'oci') {
    dir = ref.dir;
    tag = ref.tag;
  } else {
    dir = join(cache, 'layout');
    tag = 'latest';
    mkdirSync(cache, { recursive: true });
    const src = ref.transport === 'registry' ? `docker://${ref.host}/${ref.name}:${ref.tag}` : `oci-archive:${ref.file}`;
    if (ref.transport === 'registry') {
      const raw = await skopeo(['inspect', '--raw', ...tlsFlag(ref.host, '--tls-verify'), src], spec);
      const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
      if (cached && known(digest)) {
        report.info('oci.unchanged', `${spec}: manifest ${digest} is the one already imported`, { digest });
        return cached.commit;
      }
    } else if (!existsSync(ref.file)) {
      throw new LayerError('LAYER_OCI', `${spec}: no such file`);
    }
    const tls = ref.transport === 'registry' ? tlsFlag(ref.host, '--src-tls-verify') : [];
    await report.section('fetch', () => skopeo(['copy', '--quiet', '--preserve-digests', ...tls, src, `oci:${dir}:${tag}`], spec));
  }
  const image = await readImage(dir, tag);
  if (cached && known(image.manifestDigest) && imageCommit(image) === cached.commit) return cached.commit;
  const r = await report.section('import', () => importImage(store, image, report));
  checkBaseLayout(store, r.commit, `--from-oci ${spec}: commit ${r.commit}`);
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, 'state.json'), JSON.stringify({ manifestDigest: image.manifestDigest, commit: r.commit } satisfies Cached));
  if (ref.transport !== 'oci') dropUnused(image);
  report.record('oci.imported', { spec, manifest: image.manifestDigest, commit: r.commit, layers: r.layers, entries: r.entries });
  return r.commit;
}

export function ociSource(spec: string): BaseSource {
  parseOciSpec(spec);
  return {
    kind: 'oci',
    refspec: spec,
    async fetch({ store, report }) {
      return pullFromOci(store, spec, report);
    },
  };
}
