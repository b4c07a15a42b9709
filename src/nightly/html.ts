/**
 * `report.html`: the upgrade report (report.ts) as one self-contained page a person reads in
 * a CI artifact viewer or on a phone: inline CSS and SVG, no JavaScript, no network (a
 * Content-Security-Policy forbids both, so a hostile string that slipped through could still
 * load and run nothing). The verdict comes first; everything from a repo, a package or a
 * script's output is escaped (escapeHtml).
 */
import { escapeHtml as h } from '../util/escape.js';
import { barChart, fmtMs } from './chart.js';
import type { Changes, ReportDoc } from './report.js';

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--mute:#57606a;--line:#d0d7de;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
body{margin:0 auto;max-width:960px;padding:12px;line-height:1.4;color:#1f2328}
h1{margin:0;font-size:1.6em}h2{font-size:1.15em;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:1.6em}
.verdict{border-radius:8px;padding:12px 16px;color:#fff}.verdict.pass{background:var(--ok)}.verdict.fail{background:var(--bad)}.verdict.unchecked{background:var(--mute)}
.verdict p{margin:.4em 0 0}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}th{white-space:nowrap}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:.85em;white-space:pre-wrap;word-break:break-word;max-height:24em}
.sev{padding:1px 6px;border-radius:10px;font-size:.85em;color:#fff;background:var(--mute)}.sev-Critical{background:#8b0000}.sev-Important{background:var(--bad)}.sev-Moderate{background:#bf8700}.sev-Low{background:#0969da}
.pass-t{color:var(--ok);font-weight:600}.fail-t{color:var(--bad);font-weight:600}.mute{color:var(--mute)}
svg.chart{width:100%;height:auto;font-size:12px}svg.chart .bar{fill:#0969da}svg.chart .bar.bad{fill:var(--bad)}
@media (max-width:600px){body{padding:6px}th,td{padding:3px 4px}h1{font-size:1.3em}}
`;

export function renderHtml(r: ReportDoc): string {
  const title = `layer upgrade report: ${r.verdict.toUpperCase()}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${h(title)}</title><style>${CSS}</style></head>
<body>
${verdictSection(r)}
${deploymentsSection(r)}
${changesSection('Base package changes', 'base-changes', r['base-changes'])}
${changesSection('Layered package changes', 'layered-changes', r['layered-changes'])}
${advisoriesSection(r)}
${newPackagesSection(r)}
${checksSection(r)}
${timingsSection(r)}
${lockfileSection(r)}
<p class="mute">Generated ${h(r.generated)} by <code>${h(r.command)}</code> · schema ${h(r.schema)} v${r.version}</p>
</body></html>
`;
}

function verdictSection(r: ReportDoc): string {
  const f = r['failed-check'];
  const failed = f ? `<section id="failed-check"><h2>Failing check</h2><p><b>${h(f.kind === 'smoke' ? 'smoke command' : `${f.kind} health check`)}</b> <code id="failed-check-name">${h(f.name)}</code>: ${f['timed-out'] ? 'timed out' : `exit ${f.status}`}</p><pre>${h(f.output)}</pre></section>` : '';
  return `<section id="verdict" class="verdict ${r.verdict}"><h1>${r.verdict === 'unchecked' ? 'NO CHECKS' : r.verdict.toUpperCase()}</h1><p>${h(r.summary)}</p>${restrictionLine(r)}</section>${failed}`;
}

/** `--security` / `--advisory`: what the upgrade was limited to, under the verdict. */
function restrictionLine(r: ReportDoc): string {
  const x = r.restriction;
  if (!x) return '';
  const what = [...(x.security ? ['security advisories'] : []), ...(x.advisories.length ? [`advisories ${x.advisories.join(', ')}`] : [])].join(' and ');
  const scope = x.scope === 'layered' ? ' (layered packages; the base image was taken whole)' : '';
  return `<p id="restriction">Restricted to ${h(what)}${h(scope)}.</p>`;
}

function deploymentsSection(r: ReportDoc): string {
  const row = (label: string, f: (d: ReportDoc['from']) => string) => `<tr><th>${label}</th><td>${f(r.from)}</td><td>${f(r.to)}</td></tr>`;
  const sign = r.size.change >= 0 ? '+' : '−';
  return `<section id="deployments"><h2>Deployments</h2><div class="scroll"><table><tr><th></th><th>from</th><th>to</th></tr>
${row('version', (d) => h(d.version ?? '-'))}
${row('commit', (d) => `<code>${h(d.checksum.slice(0, 12))}</code>`)}
${row('base commit', (d) => `<code>${h(d['base-checksum'].slice(0, 12))}</code>`)}
${row('packages', (d) => String(d.packages))}
${row('installed size', (d) => bytes(d['size-bytes']))}
${row('state', (d) => (d.held ? 'held (checks failed, not the default)' : d.default ? 'default' : 'not default'))}
</table></div><p id="size-change">Size change: <b>${sign}${bytes(Math.abs(r.size.change))}</b></p></section>`;
}

function changesSection(title: string, id: string, c: Changes): string {
  const rows = [
    ...c.upgraded.map((u) => `<tr><td>${h(u.name)}</td><td>upgraded</td><td>${h(u.from)} → ${h(u.to)}</td></tr>`),
    ...c.downgraded.map((u) => `<tr><td>${h(u.name)}</td><td>downgraded</td><td>${h(u.from)} → ${h(u.to)}</td></tr>`),
    ...c.removed.map((n) => `<tr><td>${h(n)}</td><td>removed</td><td>${h(n)} → –</td></tr>`),
    ...c.added.map((n) => `<tr><td>${h(n)}</td><td>added</td><td>– → ${h(n)}</td></tr>`),
  ];
  const body = rows.length ? `<div class="scroll"><table><tr><th>package</th><th>change</th><th>old → new</th></tr>${rows.join('\n')}</table></div>` : '<p class="mute">No change.</p>';
  return `<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

function advisoriesSection(r: ReportDoc): string {
  const rows = r.advisories.map((a) => {
    const cves = a.cves.map((c) => `<a href="https://www.cve.org/CVERecord?id=${encodeURIComponent(c)}">${h(c)}</a>`).join(', ');
    return `<tr><td>${h(a.id)}</td><td><span class="sev sev-${h(a.severity)}">${h(a.severity)}</span></td><td>${h(a.title)}</td><td>${cves || '–'}</td><td>${h(a.packages.join(', '))}</td></tr>`;
  });
  const body = rows.length ? `<div class="scroll"><table><tr><th>advisory</th><th>severity</th><th>title</th><th>CVEs</th><th>fixed in</th></tr>${rows.join('\n')}</table></div>` : '<p class="mute">No security advisory applies.</p>';
  return `<section id="advisories"><h2>Security advisories fixed (${r.advisories.length})</h2>${body}</section>`;
}

function newPackagesSection(r: ReportDoc): string {
  const rows = r['new-packages'].map((p) => {
    const why = p.reason === 'requested' ? `requested as ${h(p['requested-as'] ?? '')}` : `${h(p.reason)}${p.chain.length ? `: ${h(p.chain.join(' ⇒ '))}` : ''}`;
    return `<tr><td>${h(p.nevra)}</td><td>${why}</td></tr>`;
  });
  const body = rows.length ? `<div class="scroll"><table><tr><th>package</th><th>why</th></tr>${rows.join('\n')}</table></div>` : '<p class="mute">No new package.</p>';
  return `<section id="new-packages"><h2>New packages</h2>${body}</section>`;
}

function checksSection(r: ReportDoc): string {
  const rows = r.checks.map((c) => `<tr><td>${h(c.kind)}</td><td><code>${h(c.name)}</code></td><td class="${c.passed ? 'pass-t' : 'fail-t'}">${c.passed ? 'pass' : c['timed-out'] ? 'timed out' : `fail (exit ${c.status})`}</td><td>${fmtMs(c.ms)}</td></tr>`
    + (c.output ? `<tr><td colspan="4"><details${c.passed ? '' : ' open'}><summary>output</summary><pre>${h(c.output)}</pre></details></td></tr>` : ''));
  const body = rows.length ? `<div class="scroll"><table><tr><th>kind</th><th>check</th><th>result</th><th>time</th></tr>${rows.join('\n')}</table></div>` : '<p class="mute">No smoke command or health check ran.</p>';
  return `<section id="checks"><h2>Smoke tests and health checks</h2>${body}</section>`;
}

function timingsSection(r: ReportDoc): string {
  const stages = barChart('stage timings', r.stages.map((s) => ({ label: s.name, ms: s.ms })));
  const scripts = barChart('scriptlet timings', r.scriptlets.map((s) => ({ label: `${s.package} %${s.kind}`, ms: s.ms })));
  const outputs = r.scriptlets.filter((s) => s.output).map((s) => `<details><summary>${h(`${s.package} %${s.kind}`)} output</summary><pre>${h(s.output)}</pre></details>`);
  return `<section id="timings"><h2>Timings</h2>${stages || '<p class="mute">No stage timings recorded.</p>'}
<h3>Scriptlets (${r.scriptlets.length})</h3>${scripts || '<p class="mute">No scriptlet ran.</p>'}${outputs.join('\n')}</section>`;
}

function lockfileSection(r: ReportDoc): string {
  const body = r.lockfile ? `<details><summary>${r.lockfile.packages.length} packages pinned</summary><pre>${h(JSON.stringify(r.lockfile, null, 2))}</pre></details>` : '<p class="mute">No lockfile was written (--lockfile-out).</p>';
  return `<section id="lockfile"><h2>Lockfile</h2>${body}</section>`;
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
