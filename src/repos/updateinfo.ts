/**
 * rpm-md `updateinfo.xml` (repomd type `updateinfo`): the advisories a repo publishes, as
 * libsolv's repo_updateinfoxml.c reads them: `<update type=…>` with `<id>`, `<title>`,
 * `<severity>`, `<issued date=…>`, `<references><reference id= type= href=…/>` and
 * `<pkglist><collection><package name= epoch= version= release= arch=>`.
 *
 * Semantics (libsolv's, dnf's): an advisory applies to a system when an installed package of
 * the same name and arch is older than a package it lists; it is fixed by a tree that has that
 * package at the listed version or newer.
 */
import { LayerError } from '../errors.js';
import { compareEvr, formatEvr } from '../nevra.js';
import { decodeXml, scanXml, XmlError, type XmlHandler } from './xml.js';

export type Severity = 'Critical' | 'Important' | 'Moderate' | 'Low' | 'unknown';

export interface AdvisoryPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

export interface Advisory {
  id: string;
  /** `security`, `bugfix`, `enhancement`, `newpackage`, ... as the repo says. */
  type: string;
  severity: Severity;
  title: string;
  /** `<issued date=…>` as written. */
  issued: string;
  packages: AdvisoryPackage[];
  /** CVE ids of `<reference type="cve">`. */
  cves: string[];
}

const SEVERITIES: readonly Severity[] = ['Critical', 'Important', 'Moderate', 'Low'];

/** The repo's spelling normalised (`important` → `Important`); anything else is `unknown`, as libsolv leaves it. */
export function severityOf(s: string): Severity {
  const v = s.trim().toLowerCase();
  return SEVERITIES.find((x) => x.toLowerCase() === v) ?? 'unknown';
}

/** Parse decompressed updateinfo.xml. Malformed XML is LAYER_REPO_CORRUPT naming `what`. */
export function parseUpdateinfo(input: Uint8Array | string, what = 'updateinfo.xml'): Advisory[] {
  const out: Advisory[] = [];
  let cur: Advisory | undefined;
  let sawRoot = false;
  const handler: XmlHandler = {
    open: (name, a) => {
      if (!sawRoot) {
        if (name !== 'updates') throw new XmlError(`root element is <${name}>, expected <updates>`, 0);
        sawRoot = true;
      } else if (name === 'update') {
        cur = { id: '', type: a.type ?? '', severity: 'unknown', title: '', issued: '', packages: [], cves: [] };
      } else if (!cur) return;
      else if (name === 'issued') cur.issued = decodeXml(a.date ?? '');
      else if (name === 'reference' && (a.type ?? '') === 'cve' && a.id) cur.cves.push(decodeXml(a.id));
      else if (name === 'package' && a.name && a.version) {
        cur.packages.push({
          name: decodeXml(a.name), epoch: Number(a.epoch ?? 0) || 0, version: decodeXml(a.version), release: decodeXml(a.release ?? ''), arch: decodeXml(a.arch ?? ''),
        });
      }
    },
    close: (name, text) => {
      if (!cur) return;
      if (name === 'id') cur.id = decodeXml(text).trim();
      else if (name === 'title') cur.title = decodeXml(text).trim();
      else if (name === 'severity') cur.severity = severityOf(decodeXml(text));
      else if (name === 'update') {
        if (cur.id) out.push(cur);
        cur = undefined;
      }
    },
  };
  try {
    scanXml(input, handler);
    if (!sawRoot) throw new XmlError('no <updates> element: not an updateinfo.xml', 0);
  } catch (e) {
    if (e instanceof XmlError) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: ${e.message}`, { cause: e });
    throw e;
  }
  return out;
}

export interface InstalledLike {
  name: string;
  arch: string;
  /** `[epoch:]version-release` */
  evr: string;
}

/**
 * The advisories that apply to `installed` (a listed package is newer than the installed one
 * of the same name and arch) and that `next` fixes (it has the listed version or newer), each
 * with the listed packages that matter. `next` undefined: applicability alone.
 */
export function applicable(
  advisories: readonly Advisory[], installed: readonly InstalledLike[], next?: readonly InstalledLike[],
): Advisory[] {
  const key = (p: { name: string; arch: string }) => `${p.name}.${p.arch}`;
  const index = (l: readonly InstalledLike[]) => {
    const m = new Map<string, string[]>();
    for (const p of l) m.set(key(p), [...(m.get(key(p)) ?? []), p.evr]);
    return m;
  };
  const now = index(installed);
  const then = next ? index(next) : undefined;
  const out: Advisory[] = [];
  for (const a of advisories) {
    const pkgs = a.packages.filter((p) => {
      const evr = formatEvr(p);
      // noarch advisories match any installed arch of the name, as libsolv does for noarch.
      const have = now.get(key(p)) ?? (p.arch === 'noarch' ? undefined : now.get(`${p.name}.noarch`));
      if (!have || !have.some((e) => compareEvr(e, evr) < 0)) return false;
      const fixed = then?.get(key(p)) ?? then?.get(`${p.name}.noarch`);
      return then === undefined || (fixed !== undefined && fixed.some((e) => compareEvr(e, evr) >= 0));
    });
    if (pkgs.length > 0) out.push({ ...a, packages: pkgs });
  }
  return out;
}
