/**
 * rpm-md loading benchmark on the 63k-package repo (Debian bookworm turned into rpm-md):
 *
 *   lz4 -d -c /var/lib/apt/lists/*bookworm_main_binary-amd64_Packages.lz4 > /tmp/Packages
 *   python3 ../shared/tools/deb2rpmmd.py /tmp/Packages /tmp/deb63k
 *   node --import tsx bench/repos.bench.ts [/tmp/deb63k]
 *
 * Each variant runs in its own process (so peak RSS is its own), 3 times, median reported:
 * - primary parsers: our streaming TS tokenizer (from the XML file, and from .gz as the loader
 *   does), fast-xml-parser (whole document in memory), libsolv's repo_add_rpmmd in wasm;
 * - full load into a solver Pool: TS parse + addRepo(records) vs rpmmd vs the .solv cache;
 * - the whole RepoSet path: cold fetch (file://) + verify + load, cached XML with either
 *   reader, and the `.solv` cache;
 * - decompressors: zlib gunzip vs Debian's xz / zstd / bzip2 as streaming child processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip, gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { depString, parsePrimary, parseRepoFile, RepoSet, type LoaderKind } from '../src/repos/index.js';
import { decompressFile } from '../src/repos/verify.js';
import { loadSolver, Pool } from '../src/solver/index.js';
import type { PackageRecord } from '../src/solver/types.js';
import { formatTable, median, writeResult } from './lib/stats.js';

const SELF = fileURLToPath(import.meta.url);
const RUNS = 3;

type Variant = (files: Files) => Promise<number>; // returns packages seen
interface Files {
  gz: string;
  xml: string;
  solv: string;
  [k: string]: string;
}

function fxpRecords(xml: Buffer): PackageRecord[] {
  const arrays = new Set(['package', 'rpm:entry', 'file']);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => arrays.has(n) }).parse(xml);
  const deps = (block: { 'rpm:entry'?: Record<string, string>[] } | undefined) => (block?.['rpm:entry'] ?? []).map(depString);
  return (doc.metadata.package as Record<string, any>[]).map((p) => {
    const f = p.format ?? {};
    const req = (f['rpm:requires']?.['rpm:entry'] ?? []) as Record<string, string>[];
    return {
      name: String(p.name), epoch: Number(p.version.epoch), version: p.version.ver, release: p.version.rel ?? '', arch: String(p.arch),
      provides: deps(f['rpm:provides']), requires: req.filter((e) => e.pre !== '1').map(depString), prerequires: req.filter((e) => e.pre === '1').map(depString),
      conflicts: deps(f['rpm:conflicts']), obsoletes: deps(f['rpm:obsoletes']), recommends: deps(f['rpm:recommends']), suggests: deps(f['rpm:suggests']),
      supplements: deps(f['rpm:supplements']), enhances: deps(f['rpm:enhances']),
      files: ((f.file ?? []) as unknown[]).map((x) => (typeof x === 'object' ? String((x as Record<string, unknown>)['#text']) : String(x))),
    };
  });
}

async function repoSetLoad(f: Files, cacheDir: string, loader: LoaderKind): Promise<number> {
  await loadSolver();
  const set = new RepoSet(parseRepoFile(`[deb]\nbaseurl=file://${f.repo}\n`, 'bench.repo', {}), { cacheDir });
  await set.refresh();
  const pool = new Pool({ arch: 'x86_64' });
  const [loaded] = await set.load(pool, { loader, needFilelists: false });
  pool.free();
  await set.close();
  return loaded!.packages;
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const b of it) n += b.length;
  return n;
}

const VARIANTS: Record<string, Variant> = {
  'baseline: process + imports only': async () => 0,
  // Native oracle: libsolv's own C tool, rpm-md XML on stdin → .solv on stdout.
  'native: rpmmd2solv (C) xml → .solv': async (f) => {
    // bash's `time` gives the tool's own CPU seconds (Node cannot see a child's rusage).
    const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time (rpmmd2solv < '${f.xml}' > /dev/null)`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('rpmmd2solv failed (apt-get install libsolv-tools)');
    const [u, sy] = r.stderr.trim().split(/\s+/).map(Number);
    childCpuMs = ((u ?? 0) + (sy ?? 0)) * 1000;
    return -1;
  },
  'parse: TS stream (xml file, 64 KiB chunks)': async (f) => (await parsePrimary(createReadStream(f.xml, { highWaterMark: 1 << 16 }))).length,
  'parse: TS stream (xml file, 1 MiB chunks)': async (f) => (await parsePrimary(createReadStream(f.xml, { highWaterMark: 1 << 20 }))).length,
  'parse: TS stream (gz, zlib)': async (f) => (await parsePrimary(createReadStream(f.gz).pipe(createGunzip()))).length,
  'parse: fast-xml-parser (whole doc)': async (f) => fxpRecords(readFileSync(f.xml)).length,
  'load: TS parse + addRepo(records)': async (f) => {
    await loadSolver();
    const records = await parsePrimary(createReadStream(f.gz).pipe(createGunzip()));
    const pool = new Pool({ arch: 'x86_64' });
    pool.addRepo('r', { kind: 'records', records });
    pool.free();
    return records.length;
  },
  'load: libsolv rpmmd in wasm (gunzip + addRepo)': async (f) => {
    await loadSolver();
    const pool = new Pool({ arch: 'x86_64' });
    pool.addRepo('r', { kind: 'rpmmd', primary: gunzipSync(readFileSync(f.gz)) });
    pool.free();
    return -1;
  },
  'load: .solv cache': async (f) => {
    await loadSolver();
    const pool = new Pool({ arch: 'x86_64' });
    pool.addRepo('r', { kind: 'solv', bytes: readFileSync(f.solv) });
    pool.free();
    return -1;
  },
  'RepoSet: cold refresh (file://, verify+parse) + load': async (f) => {
    const cacheDir = join(f.work!, `cold-${process.pid}`);
    rmSync(cacheDir, { recursive: true, force: true });
    return repoSetLoad(f, cacheDir, 'auto');
  },
  'RepoSet: cached XML, load with libsolv reader': async (f) => {
    rmSync(join(f.cache!, 'deb', 'solv'), { recursive: true, force: true });
    return repoSetLoad(f, f.cache!, 'libsolv');
  },
  'RepoSet: cached XML, load with TS reader': async (f) => {
    rmSync(join(f.cache!, 'deb', 'solv'), { recursive: true, force: true });
    return repoSetLoad(f, f.cache!, 'ts');
  },
  'RepoSet: cached .solv, load': async (f) => repoSetLoad(f, f.solvCache!, 'auto'),
  'decompress: gz (zlib)': (f) => drain(decompressFile(f.gz)),
  'decompress: xz (child xz)': (f) => drain(decompressFile(f.xz!)),
  'decompress: zst (child zstd)': (f) => drain(decompressFile(f.zst!)),
  'decompress: bz2 (child bzip2)': (f) => drain(decompressFile(f.bz2!)),
};

/** CPU time of a child tool, when a variant runs one and can measure it. */
let childCpuMs = 0;

async function child(name: string, files: Files): Promise<void> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const n = await VARIANTS[name]!(files);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000 + childCpuMs;
  process.stdout.write(JSON.stringify({ ms, cpuMs, n, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

async function main(): Promise<void> {
  const repo = process.argv[2] ?? '/tmp/deb63k';
  if (!existsSync(join(repo, 'repodata/repomd.xml'))) {
    console.error(`bench/repos: no repo at ${repo}; build it with:\n  lz4 -d -c /var/lib/apt/lists/*bookworm_main_binary-amd64_Packages.lz4 > /tmp/Packages && python3 ../shared/tools/deb2rpmmd.py /tmp/Packages /tmp/deb63k`);
    process.exit(1);
  }
  const gz = join(repo, 'repodata', readdirSync(join(repo, 'repodata')).find((n) => n.endsWith('-primary.xml.gz'))!);
  const work = '/tmp/layer-bench-repos';
  execFileSync('mkdir', ['-p', work]);
  const files: Files = { repo, work, cache: join(work, 'cache-xml'), solvCache: join(work, 'cache-solv'), gz, xml: join(work, 'primary.xml'), solv: join(work, 'primary.solv'), xz: join(work, 'primary.xml.xz'), zst: join(work, 'primary.xml.zst'), bz2: join(work, 'primary.xml.bz2') };
  const xml = gunzipSync(readFileSync(gz));
  writeFileSync(files.xml, xml);
  for (const [k, cmd, args] of [['xz', 'xz', ['-1', '-T2']], ['zst', 'zstd', ['-3']], ['bz2', 'bzip2', ['-9']]] as const) {
    if (!existsSync(files[k]!)) writeFileSync(files[k]!, execFileSync(cmd, ['-c', ...args], { input: xml, maxBuffer: 1 << 30 }));
  }
  await loadSolver();
  const pool = new Pool({ arch: 'x86_64' });
  writeFileSync(files.solv, pool.addRepo('r', { kind: 'records', records: await parsePrimary(xml) }).writeSolv());
  pool.free();
  for (const c of [files.cache!, files.solvCache!]) {
    rmSync(c, { recursive: true, force: true });
    await repoSetLoad(files, c, 'auto');
  }

  const rows: (string | number)[][] = [];
  // Ratios are CPU time against the native rpmmd2solv run (steadier than wall time on a shared
  // machine). Decompressor rows run a child tool whose CPU is not counted: read their wall time.
  let nativeCpu: number | undefined;
  const results: Record<string, unknown> = {};
  // BENCH_ONLY=<regex> runs a subset (results then go to repos-partial.json).
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  for (const name of Object.keys(VARIANTS).filter((n) => only === undefined || only.test(n))) {
    const samples: { ms: number; cpuMs: number; n: number; maxRssMB: number }[] = [];
    let failure: string | undefined;
    for (let i = 0; i < RUNS && failure === undefined; i++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', name, JSON.stringify(files)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status === 0) samples.push(JSON.parse(r.stdout));
      else failure = (r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr).slice(0, 200);
    }
    if (failure !== undefined) {
      console.error(`bench/repos: ${name} failed: ${failure}`);
      rows.push([name, 'failed', '-', '-', '-']);
      results[name] = { error: failure };
      continue;
    }
    const ms = median(samples.map((s) => s.ms));
    const cpu = median(samples.map((s) => s.cpuMs));
    const rss = median(samples.map((s) => s.maxRssMB));
    const mbps = xml.length / 1e6 / (ms / 1000);
    rows.push([name, ms, cpu, rss, mbps, samples[0]!.n, nativeCpu === undefined ? '-' : cpu / nativeCpu]);
    if (name.startsWith('native:')) nativeCpu = cpu;
    results[name] = { medianMs: ms, medianCpuMs: cpu, maxRssMB: rss, xmlMBperS: mbps, samples };
  }
  console.log(`primary.xml: ${(xml.length / 1e6).toFixed(1)} MB uncompressed, ${(readFileSync(gz).length / 1e6).toFixed(1)} MB gz; runs=${RUNS} (median)`);
  console.log(formatTable(['variant', 'wall ms', 'cpu ms', 'maxRSS MB', 'XML MB/s', 'packages', 'cpu x native'], rows));
  console.log(`wrote ${writeResult(only ? 'repos-partial' : 'repos', { repo, xmlBytes: xml.length, results })}`);
}

try {
  if (process.argv[2] === '--child') await child(process.argv[3]!, JSON.parse(process.argv[4]!) as Files);
  else await main();
} catch (e) {
  // Keep the report readable: emscripten errors drag the whole glue source along.
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`bench/repos: ${msg.split('\n').find((l) => /Error|error/.test(l)) ?? msg.split('\n')[0]}`.slice(0, 400));
  process.exit(1);
}
