/**
 * Writing a report directory: `report.json` and `report.html`, each to a temp file renamed
 * into place, so a reader (a CI job publishing the directory) never sees half a file.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withContext } from '../errors.js';
import { renderHtml } from './html.js';
import type { ReportDoc } from './report.js';

export function writeReport(dir: string, doc: ReportDoc): { json: string; html: string } {
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  try {
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of [[json, `${JSON.stringify(doc, null, 2)}\n`], [html, renderHtml(doc)]] as const) {
      writeFileSync(`${file}.tmp-${process.pid}`, text);
      renameSync(`${file}.tmp-${process.pid}`, file);
    }
  } catch (err) {
    throw withContext(`writing the report to ${dir}`, err);
  }
  return { json, html };
}
