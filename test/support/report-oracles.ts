/**
 * Oracles for the upgrade report (issue 13), both real tools nobody here wrote: Debian's
 * python3-jsonschema validates report.json against docs/report.schema.json (Draft 2020-12),
 * and headless Chromium renders report.html (`--dump-dom`: the DOM after parsing; and
 * `--screenshot`: a PNG at a phone's width).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { requireTool } from './tools.js';

export const SCHEMA = resolve(import.meta.dirname, '../../docs/report.schema.json');
const CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions'];

/** The schema errors of `jsonFile` (empty when valid), from Debian's /usr/bin/python3 + jsonschema. */
export function schemaErrors(jsonFile: string): string[] {
  requireTool('/usr/bin/jsonschema', 'python3-jsonschema');
  const py = `import json,sys,jsonschema
s=json.load(open(sys.argv[1])); jsonschema.Draft202012Validator.check_schema(s)
v=jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker())
for e in v.iter_errors(json.load(open(sys.argv[2]))): print("/".join(map(str,e.absolute_path)) + ": " + e.message[:300])`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, SCHEMA, jsonFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 jsonschema failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** The DOM Chromium builds from `htmlFile`, serialized. */
export function dumpDom(htmlFile: string): string {
  requireTool('chromium');
  const r = spawnSync('chromium', [...CHROMIUM, '--dump-dom', `file://${htmlFile}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0 || !r.stdout.includes('</html>')) throw new Error(`chromium --dump-dom failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** A screenshot of `htmlFile` at `width`×`height` into `png`; returns the PNG's IHDR size. */
export function screenshot(htmlFile: string, png: string, width = 412, height = 915): { width: number; height: number; bytes: number } {
  requireTool('chromium');
  const r = spawnSync('chromium', [...CHROMIUM, `--window-size=${width},${height}`, `--screenshot=${png}`, `file://${htmlFile}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 || !existsSync(png)) throw new Error(`chromium --screenshot failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const b = readFileSync(png);
  if (b.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || b.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error(`${png} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

