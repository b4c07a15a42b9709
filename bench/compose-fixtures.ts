/**
 * Synthetic packages for the compose benchmark, built by the real rpmbuild as subpackages of
 * two spec files (one rpmbuild run each, so hundreds of packages build in seconds) and
 * published with createrepo_c. Cached under .cache/compose-bench/<key>/.
 *
 *   bench-base: BASE_COUNT packages bb-NNN, 12 small files each, every 10th requiring the one
 *               before it (chains, so the solver has work).
 *   bench-layer: LAYER_COUNT packages bl-NN, each requiring two base packages and the previous
 *               layered package; every 4th has a /bin/sh %post (run in the sandbox).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function specText(name: string, subs: { name: string; requires: string[]; files: number; post?: string }[]): string {
  const out = [
    `Name: ${name}`, 'Version: 1.0', 'Release: 1', 'Summary: compose bench', 'License: MIT', 'BuildArch: noarch', 'AutoReqProv: no',
    '%description', 'compose bench packages', '',
  ];
  for (const s of subs) {
    out.push(`%package -n ${s.name}`, `Summary: ${s.name}`, ...s.requires.map((r) => `Requires: ${r}`), `%description -n ${s.name}`, s.name, '');
    if (s.post) out.push(`%post -n ${s.name}`, s.post, '');
  }
  out.push('%install');
  for (const s of subs) {
    out.push(`mkdir -p %{buildroot}/usr/share/${s.name}`);
    out.push(`for j in $(seq 1 ${s.files}); do echo "${s.name} file $j" > %{buildroot}/usr/share/${s.name}/f$j; done`);
  }
  out.push('');
  for (const s of subs) out.push(`%files -n ${s.name}`, `/usr/share/${s.name}`, '');
  return out.join('\n');
}

async function rpmbuild(spec: string, outDir: string): Promise<void> {
  const top = await mkdtemp(join(outDir, '.top-'));
  await mkdir(join(top, 'SPECS'), { recursive: true });
  await writeFile(join(top, 'SPECS/bench.spec'), spec);
  await run('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', '_binary_payload w6.gzdio',
    '--define', 'debug_package %{nil}', '--define', '__os_install_post %{nil}', '--define', `_dbpath ${join(top, 'db')}`,
    join(top, 'SPECS/bench.spec')], { maxBuffer: 64 << 20 });
  const rpms = join(top, 'RPMS/noarch');
  for (const f of await readdir(rpms)) await copyFile(join(rpms, f), join(outDir, f));
  await rm(top, { recursive: true, force: true });
}

export interface BenchRepos {
  base: string;
  layer: string;
  baseNames: string[];
  layerNames: string[];
}

export async function buildBenchRepos(baseCount: number, layerCount: number): Promise<BenchRepos> {
  const base = Array.from({ length: baseCount }, (_, i) => ({
    name: `bb-${pad(i, 3)}`,
    requires: i % 10 === 9 ? [`bb-${pad(i - 1, 3)}`] : [],
    files: 12,
  }));
  const layer = Array.from({ length: layerCount }, (_, i) => ({
    name: `bl-${pad(i, 2)}`,
    requires: [`bb-${pad((i * 7) % baseCount, 3)}`, `bb-${pad((i * 13 + 5) % baseCount, 3)}`, ...(i > 0 ? [`bl-${pad(i - 1, 2)}`] : [])],
    files: 20,
    ...(i % 4 === 0 ? { post: `ls /usr/share/bl-${pad(i, 2)} > /dev/null\necho "bl-${pad(i, 2)} configured" > /dev/null` } : {}),
  }));
  const baseSpec = specText('bench-base', base);
  const layerSpec = specText('bench-layer', layer);
  const key = createHash('sha256').update(`v1\n${baseSpec}\n${layerSpec}`).digest('hex').slice(0, 16);
  const dir = join(ROOT, '.cache/compose-bench', key);
  if (!existsSync(dir)) {
    await mkdir(join(ROOT, '.cache/compose-bench'), { recursive: true });
    const tmp = await mkdtemp(join(ROOT, '.cache/compose-bench', '.build-'));
    for (const [sub, spec] of [['base', baseSpec], ['layer', layerSpec]] as const) {
      await mkdir(join(tmp, sub));
      await rpmbuild(spec, join(tmp, sub));
      await run('createrepo_c', ['--no-database', join(tmp, sub)]);
    }
    await rename(tmp, dir);
  }
  return { base: join(dir, 'base'), layer: join(dir, 'layer'), baseNames: base.map((b) => b.name), layerNames: layer.map((l) => l.name) };
}
