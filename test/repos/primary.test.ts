import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFilelists, parsePrimary, PrimaryParser } from '../../src/repos/index.js';
import { SHARED_DATA, makeRepo, requirePath, requireTool, sharedRpms } from '../support/createrepo.js';

let repo: string;
let primaryXml: Buffer;
let filelistsXml: Buffer;

function repodataFile(dir: string, suffix: string): Buffer {
  const f = readdirSync(join(dir, 'repodata')).find((n) => n.endsWith(suffix));
  if (f === undefined) throw new Error(`no *${suffix} in ${dir}/repodata`);
  return gunzipSync(readFileSync(join(dir, 'repodata', f)));
}

beforeAll(() => {
  repo = makeRepo(join(mkdtempSync(join(tmpdir(), 'layer-primary-')), 'repo'), sharedRpms());
  primaryXml = repodataFile(repo, '-primary.xml.gz');
  filelistsXml = repodataFile(repo, '-filelists.xml.gz');
});

describe('parsePrimary on createrepo_c output', () => {
  it('reads every package with NEVRA, sizes, location and checksum', async () => {
    const recs = await parsePrimary(primaryXml);
    const rpms = sharedRpms();
    expect(recs).toHaveLength(rpms.length);
    const x = recs.find((r) => r.name === 'xrootd-devel')!;
    expect(x).toMatchObject({ epoch: 1, version: '5.5.4', release: '1.fc37', arch: 'x86_64' });
    expect(x.location).toBe('xrootd-devel-5.5.4-1.fc37.x86_64.rpm');
    const sha = execFileSync('sha256sum', [join(repo, x.location!)]).toString().split(' ')[0];
    expect(x.checksum).toBe(`sha256:${sha}`);
    expect(x.downloadSize).toBe(readFileSync(join(repo, x.location!)).length);
    expect(x.sourceRpm).toMatch(/^xrootd-5\.5\.4-1\.fc37\.src\.rpm$/);
  });

  it('renders provides exactly as `rpm -qp --provides` prints them', async () => {
    requireTool('rpm', 'rpm');
    const recs = await parsePrimary(primaryXml);
    for (const r of recs) {
      const rpmOut = execFileSync('rpm', ['-qp', '--provides', join(repo, r.location!)], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')
        .filter((l) => l !== '');
      expect(r.provides.sort(), r.name).toEqual(rpmOut.sort());
    }
  });

  it('splits pre-requires from requires and keeps versioned requires', async () => {
    const recs = await parsePrimary(primaryXml);
    const ng = recs.find((r) => r.name === 'ngircd')!;
    // ngircd's %pre runs groupadd/useradd: those are Requires(pre).
    expect(ng.prerequires.length).toBeGreaterThan(0);
    expect(ng.prerequires.some((d) => /shadow-utils|\/bin\/sh|systemd/.test(d))).toBe(true);
    for (const d of [...ng.requires, ...ng.prerequires]) expect(d.startsWith('rpmlib(')).toBe(false);
    const x = recs.find((r) => r.name === 'xrootd-devel')!;
    expect(x.requires).toContain('xrootd-libs(x86-64) = 1:5.5.4-1.fc37');
  });

  it('gives the same records whatever the chunking (split UTF-8, split tags)', async () => {
    const whole = await parsePrimary(primaryXml);
    for (const size of [1, 7, 4096]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < primaryXml.length; i += size) chunks.push(primaryXml.subarray(i, i + size));
      expect(await parsePrimary(chunks)).toEqual(whole);
    }
  });

  it('rejects truncated and malformed documents', async () => {
    await expect(parsePrimary(primaryXml.subarray(0, primaryXml.length - 200))).rejects.toThrow(/end of document|packages present/);
    const bad = primaryXml.toString().replace('</name>', '</nam>');
    await expect(parsePrimary(bad)).rejects.toThrow(/closes <name>/);
    await expect(parsePrimary('<repomd/>', { what: 'repo x: primary' })).rejects.toMatchObject({
      code: 'LAYER_REPO_CORRUPT',
      message: expect.stringMatching(/^repo x: primary: malformed XML: root element is <repomd>, expected <metadata>/),
    });
    const p = new PrimaryParser(() => {});
    p.write(primaryXml.subarray(0, 100));
    expect(() => p.end()).toThrow();
  });

  it('parses filelists keyed by pkgid, a superset of primary files', async () => {
    const recs = await parsePrimary(primaryXml);
    const lists = await parseFilelists(filelistsXml);
    expect(lists.size).toBe(recs.length);
    for (const r of recs) {
      const e = lists.get(r.checksum!.slice('sha256:'.length))!;
      expect(e.name).toBe(r.name);
      for (const f of r.files) expect(e.files).toContain(f);
    }
    const mc = lists.get(recs.find((r) => r.name === 'mc')!.checksum!.slice(7))!;
    expect(mc.files.length).toBeGreaterThan(recs.find((r) => r.name === 'mc')!.files.length);
  });
});

describe('parsePrimary on hand-written XML (grammar corners createrepo_c does not produce)', () => {
  const doc = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE metadata>
<!-- a comment with <tags> & stuff -->
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages='1'>
<package type="rpm">
  <name>caf&#233;-&amp;-x</name><arch>noarch</arch>
  <version epoch="2" ver="1.0" rel="1"/>
  <summary><![CDATA[<b>bold</b> & co]]> — ünïcode</summary>
  <checksum type="sha512" pkgid="YES">abc</checksum>
  <format>
    <rpm:provides>
      <rpm:entry name="weird>name" flags="EQ" epoch="2" ver="1.0" rel="1"/>
      <rpm:entry name='single' flags='LT' epoch='0' ver='3'/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="(a &gt;= 1 if b)"/>
      <rpm:entry name="c" flags="GE" epoch="1" ver="2" pre="1"/>
    </rpm:requires>
    <file type="ghost">/etc/x&lt;y</file>
  </format>
</package>
</metadata>`;

  it('handles entities, CDATA, comments, DOCTYPE, quotes and a > inside an attribute', async () => {
    const [p] = await parsePrimary(doc);
    expect(p).toMatchObject({
      name: 'café-&-x',
      epoch: 2,
      summary: '<b>bold</b> & co — ünïcode',
      checksum: 'sha512:abc',
      provides: ['weird>name = 2:1.0-1', 'single < 3'],
      requires: ['(a >= 1 if b)'],
      prerequires: ['c >= 1:2'],
      files: ['/etc/x<y'],
    });
  });

  it('rejects a wrong package count, unknown flags and invalid UTF-8', async () => {
    await expect(parsePrimary(doc.replace("packages='1'", "packages='2'"))).rejects.toThrow(/packages="2"> but 1 packages present/);
    await expect(parsePrimary(doc.replace('flags="GE"', 'flags="XX"'))).rejects.toThrow(/unknown dependency flags 'XX'/);
    const bytes = Buffer.from(doc);
    bytes[bytes.indexOf('ünïcode')] = 0xff;
    await expect(parsePrimary(bytes)).rejects.toMatchObject({ code: 'LAYER_REPO_CORRUPT', message: expect.stringContaining('invalid UTF-8') });
  });
});

describe('parsePrimary memory', () => {
  it('streams: peak heap stays flat while 120 MB of XML go through', async () => {
    const description = 'x'.repeat(60_000);
    const count = 2000;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`<?xml version="1.0"?>\n<metadata xmlns:rpm="x" packages="${count}">\n`);
      for (let i = 0; i < count; i++) {
        yield Buffer.from(
          `<package type="rpm"><name>p${i}</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/>` +
            `<description>${description}</description><format><rpm:provides><rpm:entry name="p${i}"/></rpm:provides></format></package>\n`,
        );
      }
      yield Buffer.from('</metadata>\n');
    }
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let seen = 0;
    const p = new PrimaryParser(() => {
      if (++seen % 100 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    });
    for await (const c of chunks()) p.write(c);
    expect(p.end()).toBe(count);
    // 2000 × 60 kB = 120 MB of text; held at once it would be ≥120 MB (240 MB as UTF-16).
    expect(peak).toBeLessThan(40e6);
  });
});

describe('parsePrimary on CentOS Stream 9 metadata', () => {
  it('reads BaseOS: 1125 packages, rich deps intact', async () => {
    const dir = requirePath(join(SHARED_DATA, 'repos/cs9-baseos-2022'));
    const recs = await parsePrimary(repodataFile(dir, '-primary.xml.gz'));
    expect(recs).toHaveLength(1125);
    const bash = recs.find((r) => r.name === 'bash' && r.arch === 'x86_64')!;
    expect(bash.provides).toContain('/bin/sh');
    expect(bash.requires).toContain('filesystem >= 3');
    const rich = recs.flatMap((r) => [...r.requires, ...r.recommends, ...r.supplements]).filter((d) => d.startsWith('('));
    expect(rich.length).toBeGreaterThan(0);
    for (const d of rich) expect(d).toMatch(/^\(.* (if|and|or|with|unless|without|else) .*\)$/);
  });

  it('reads AppStream 2025: 17649 packages', async () => {
    const dir = requirePath(join(SHARED_DATA, 'repos/cs9-appstream-2025'));
    const recs = await parsePrimary(repodataFile(dir, '-primary.xml.gz'));
    expect(recs).toHaveLength(17649);
    expect(recs.filter((r) => r.arch === 'x86_64')).toHaveLength(9263);
  });
});
