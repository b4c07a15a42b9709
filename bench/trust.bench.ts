/**
 * Cost of signature verification per package: layer's verifyRpmSignature (node:crypto + our own
 * OpenPGP parser) on an already opened package, against `rpmkeys -K` on the same file (a whole
 * process per package, as dnf's rpm check is in-process this is the upper bound for rpm).
 *
 * Run alone:  node --import tsx bench/trust.bench.ts      (or: npm run bench -- trust)
 * Env: BENCH_RUNS (default 200 verifications per package for layer, 5 rpmkeys runs).
 *
 * Packages: rpm's signed test packages from ../shared/data (V4 RSA-2048/SHA256 header, V3
 * RSA/SHA256, V4 EdDSA subkey/SHA512). Timings are per package, keys already loaded; the first
 * verification of a key also judges its self-signatures (cached afterwards), shown separately.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRpm } from '../src/rpm/index.js';
import { Keyring, verifyRpmSignature } from '../src/trust/index.js';
import { formatTable, median, timeMs, timeMsAsync, writeResult } from './lib/stats.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 200));
const SHARED = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/data');
const cases = [
  ['V4 RSA-2048/SHA256', 'rpms/hello-2.0-1.x86_64-signed.rpm', ['rpm.org-rsa-2048-test.pub']],
  ['V3 RSA-2048/SHA256', 'signed-rpms/hello-2.0-1.x86_64-v3-signed.rpm', ['rpm.org-rsa-2048-test.pub']],
  ['V4 RSA-2048/SHA512 (hlinktest)', 'signed-rpms/hlinktest-1.0-1.noarch-v3sig.rpm', ['rpm.org-rsa-2048-test.pub']],
  // Debian's rpm 4.18 cannot import this key: rpmkeys is not timed for it.
  ['V4 EdDSA subkey/SHA512', 'signed-rpms/hello-2.0-1.x86_64-signed-with-new-subkey.rpm', ['rpm.org-rsa-2048-add-subkey.asc']],
] as const;

const rows: (string | number)[][] = [];
const out: Record<string, unknown> = {};
for (const [name, file, keys] of cases) {
  const path = join(SHARED, file);
  const pkg = await openRpm(path);
  const ring = new Keyring();
  for (const k of keys) ring.addKeys(readFileSync(join(SHARED, 'keys', k)), k);
  const first = await timeMsAsync(async () => void (await verifyRpmSignature(pkg, ring)));
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timeMsAsync(async () => void (await verifyRpmSignature(pkg, ring))));
  const root = mkdtempSync(join(tmpdir(), 'layer-bench-trust-'));
  const db = ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm'];
  let imported = true;
  for (const k of keys) {
    try {
      execFileSync('rpmkeys', [...db, '--import', join(SHARED, 'keys', k)], { stdio: 'ignore' });
    } catch {
      imported = false;
    }
  }
  const rpmk: number[] = [];
  if (imported) for (let i = 0; i < 5; i++) rpmk.push(timeMs(() => execFileSync('rpmkeys', [...db, '-K', path])));
  rmSync(root, { recursive: true, force: true });
  const m = median(samples);
  const r = rpmk.length ? median(rpmk) : undefined;
  rows.push([name, first, m, r ?? 'n/a', r !== undefined ? r / m : 'n/a']);
  out[name] = { firstMs: first, medianMs: m, rpmkeysMs: r ?? null, runs: RUNS };
}
console.log(formatTable(['package', 'layer first (ms)', 'layer median (ms)', 'rpmkeys -K (ms)', 'ratio'], rows));
console.log(`wrote ${writeResult('trust', out)}`);
