/**
 * Base trees for fleet tests and benches: `files` regular files under usr/ (and usr/etc, so
 * the tree is a deployable base layout), sizes 1–16 KiB of seeded pseudo-random text (it
 * compresses about as well as binaries and docs do), in directories of 100. `update` makes
 * the next version: `changed` files rewritten and `added` new ones, the rest untouched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from './prng.js';

function text(rand: () => number, size: number): string {
  const words = ['lib', 'usr', 'share', 'config', 'return', 'static', 'value', 'error', 'package', '0x7f', 'data', 'init'];
  let s = '';
  while (s.length < size) s += `${words[Math.floor(rand() * words.length)]}${Math.floor(rand() * 1e6)}${rand() < 0.1 ? '\n' : ' '}`;
  return s.slice(0, size);
}

function filePath(root: string, i: number): string {
  return join(root, 'usr/share/fleet', `d${Math.floor(i / 100)}`, `f${i}`);
}

export function makeFleetTree(root: string, files: number, seed = 1): void {
  const rand = mulberry32(seed);
  mkdirSync(join(root, 'usr/etc'), { recursive: true });
  writeFileSync(join(root, 'usr/etc/os-release'), 'NAME=fleet\nVERSION_ID=1\n');
  for (let i = 0; i < files; i++) {
    const p = filePath(root, i);
    if (i % 100 === 0) mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text(rand, 1024 + Math.floor(rand() * 15 * 1024)));
  }
}

/** Turn a tree made by makeFleetTree into its next version in place. */
export function updateFleetTree(root: string, files: number, opts: { changed: number; added: number; seed?: number }): void {
  const rand = mulberry32(opts.seed ?? 2);
  writeFileSync(join(root, 'usr/etc/os-release'), `NAME=fleet\nVERSION_ID=${opts.seed ?? 2}\n`);
  for (let k = 0; k < opts.changed; k++) {
    const i = Math.floor((k * files) / Math.max(1, opts.changed));
    writeFileSync(filePath(root, i), text(rand, 1024 + Math.floor(rand() * 15 * 1024)));
  }
  mkdirSync(join(root, 'usr/share/fleet/new'), { recursive: true });
  for (let k = 0; k < opts.added; k++) writeFileSync(join(root, 'usr/share/fleet/new', `n${k}`), text(rand, 4096));
}
