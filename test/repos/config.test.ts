import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { parseRepoFile, parseSeconds, readRepoConfigs, substitute } from '../../src/repos/index.js';

function reposDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'layer-cfg-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function configError(files: Record<string, string>): Promise<LayerError> {
  const err = await readRepoConfigs(reposDir(files)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LayerError);
  expect((err as LayerError).code).toBe('LAYER_REPO_CONFIG');
  return err as LayerError;
}

describe('readRepoConfigs', () => {
  it('reads every key of a Fedora-style .repo file with variables substituted', async () => {
    const dir = reposDir({
      'fedora.repo': `# comment
[fedora]
name=Fedora $releasever - $basearch
#baseurl=http://download.example/pub/fedora/linux/releases/$releasever/Everything/$basearch/os/
metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch
enabled=1
metadata_expire=7d
repo_gpgcheck=0
type=rpm
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch
skip_if_unavailable=False
countme=1

[fedora-debug]
name=debug
baseurl=http://a.example/$contentdir/$releasever/ , http://b.example/x
  http://c.example/y
enabled=no
priority=10
cost=500
excludepkgs=kernel* foo?
exclude=bar
includepkgs=a,b
sslverify=off
proxy=http://proxy:3128
timeout=5m
retries=2
metadata_expire=never
`,
      'ignored.txt': '[not-a-repo]\nbaseurl=x',
    });
    const vars = mkdirSync(join(dir, 'vars'), { recursive: true })!;
    writeFileSync(join(vars, 'contentdir'), 'pub/fedora\n');
    const cfgs = await readRepoConfigs(dir, { varsDir: vars, arch: 'i686', releasever: '41' });
    expect(cfgs.map((c) => c.id)).toEqual(['fedora', 'fedora-debug']);
    const [f, d] = cfgs as [NonNullable<(typeof cfgs)[0]>, NonNullable<(typeof cfgs)[0]>];
    expect(f.name).toBe('Fedora 41 - i386');
    expect(f.metalink).toBe('https://mirrors.fedoraproject.org/metalink?repo=fedora-41&arch=i386');
    expect(f.baseurls).toEqual([]);
    expect(f).toMatchObject({ enabled: true, gpgcheck: true, repoGpgcheck: false, metadataExpire: 604800, skipIfUnavailable: false, priority: 99, cost: 1000, sslverify: true, timeout: 30, retries: 10, minrate: 1000 });
    expect(f.gpgkeys).toEqual(['file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-41-i386']);
    expect(f.extra).toEqual({ type: 'rpm', countme: '1' });
    expect(f.source).toBe(`${join(dir, 'fedora.repo')}:2`);
    expect(d.baseurls).toEqual(['http://a.example/pub/fedora/41/', 'http://b.example/x', 'http://c.example/y']);
    expect(d).toMatchObject({ enabled: false, priority: 10, cost: 500, sslverify: false, proxy: 'http://proxy:3128', timeout: 300, retries: 2, metadataExpire: -1 });
    expect(d.excludepkgs).toEqual(['kernel*', 'foo?', 'bar']);
    expect(d.includepkgs).toEqual(['a', 'b']);
  });

  it('names file and line for malformed input', async () => {
    let e = await configError({ 'a.repo': '[ok]\nbaseurl=file:///x\nthis line is junk\n' });
    expect(e.message).toMatch(/a\.repo:3: expected 'key=value'/);
    e = await configError({ 'b.repo': 'baseurl=file:///x\n' });
    expect(e.message).toMatch(/b\.repo:1: key outside any \[section\]/);
    e = await configError({ 'c.repo': '[x]\nbaseurl=/x\nenabled=maybe\n' });
    expect(e.message).toMatch(/c\.repo:3: \[x\] enabled: 'maybe' is not a boolean/);
    e = await configError({ 'd.repo': '[x]\nname=no url\n' });
    expect(e.message).toMatch(/d\.repo:1: \[x\] has no baseurl, mirrorlist or metalink/);
    e = await configError({ 'e.repo': '[x]\nbaseurl=/x\nmetadata_expire=3 weeks\n' });
    expect(e.message).toMatch(/e\.repo:3: .*metadata_expire/);
    e = await configError({ 'f.repo': '[x\nbaseurl=/x\n' });
    expect(e.message).toMatch(/f\.repo:1: malformed section header/);
    e = await configError({ 'g.repo': '[x]\nbaseurl=/a\n', 'h.repo': '[x]\nbaseurl=/b\n' });
    expect(e.message).toMatch(/h\.repo:1: repo id 'x' already defined at .*g\.repo:1/);
    e = await configError({ 'i.repo': '[x]\nbaseurl=/a\npriority=high\n' });
    expect(e.message).toMatch(/i\.repo:3: \[x\] priority: 'high' is not an integer/);
  });

  it('minrate= takes dnf storage sizes (k/M/G are powers of 1024); 0 turns it off', () => {
    const one = (v: string) => parseRepoFile(`[x]\nbaseurl=/x\nminrate=${v}\n`, 'm.repo', {})[0]!.minrate;
    expect([one('0'), one('500'), one('1k'), one('2M'), one('1G'), one('1.5k')]).toEqual([0, 500, 1024, 2 << 20, 1 << 30, 1536]);
    expect(() => one('fast')).toThrow(/m\.repo:3: \[x\] minrate: 'fast' is not a size \(N, Nk, NM, NG\)/);
  });

  it('echoes bad lines with control characters escaped (a .repo cannot drive the terminal)', async () => {
    let e = await configError({ 'esc.repo': '[ok]\nbaseurl=/x\n\x1b]0;pwned\x07\x1b[2J junk\n' });
    expect(e.message).toBe(`${e.message.slice(0, e.message.indexOf('esc.repo'))}esc.repo:3: expected 'key=value', a [section] or a comment`);
    expect(e.hint).toBe('line: \\x1b]0;pwned\\x07\\x1b[2J junk');
    e = await configError({ 'esc2.repo': '[x]\nbaseurl=/x\nenabled=\x1b[31mred\n' });
    expect(e.message).toMatch(/esc2\.repo:3: \[x\] enabled: '\\x1b\[31mred' is not a boolean/);
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(`${e.message}${e.hint ?? ''}`)).toBe(false);
  });

  it('fails clearly on a missing directory', async () => {
    await expect(readRepoConfigs('/nonexistent/yum.repos.d')).rejects.toMatchObject({ code: 'LAYER_REPO_CONFIG', message: expect.stringContaining('/nonexistent/yum.repos.d') });
  });
});

describe('variables and units', () => {
  it('substitutes $var, ${var}, ${var:-word}, ${var:+word} and leaves unknown ones', () => {
    const v = { releasever: '9', basearch: 'x86_64', empty: '' };
    expect(substitute('$releasever/$basearch/$unknown', v)).toBe('9/x86_64/$unknown');
    expect(substitute('${releasever}x ${nope:-dflt} ${empty:-e} ${basearch:+set} ${nope:+set}.', v)).toBe('9x dflt e set .');
  });

  it('parses metadata_expire units like dnf', () => {
    expect([parseSeconds('90'), parseSeconds('90s'), parseSeconds('2m'), parseSeconds('1h'), parseSeconds('2d')]).toEqual([90, 90, 120, 3600, 172800]);
    expect([parseSeconds('-1'), parseSeconds('never'), parseSeconds('soon')]).toEqual([-1, -1, undefined]);
  });

  it('takes DNF_VAR_* from the given environment, explicit vars winning', async () => {
    const [c] = parseRepoFile('[r]\nbaseurl=http://h/$stream/\n', 'r.repo', { stream: '9-stream' });
    expect(c!.baseurls).toEqual(['http://h/9-stream/']);
    const dir = reposDir({ 'r.repo': '[r-$stream]\nbaseurl=http://h/$stream/$releasever_major/\n' });
    const [d] = await readRepoConfigs(dir, { env: { DNF_VAR_stream: 'env', PATH: '/bin' }, releasever: '9.4' });
    expect(d!.id).toBe('r-env');
    expect(d!.baseurls).toEqual(['http://h/env/9/']);
    const [e] = await readRepoConfigs(dir, { env: { DNF_VAR_stream: 'env' }, vars: { stream: 'cli' } });
    expect(e!.baseurls[0]).toBe('http://h/cli/$releasever_major/');
  });
});
