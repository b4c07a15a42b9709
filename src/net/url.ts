/** URL helpers shared by every puller: local vs remote, and joining a root with a location. */
import { fileURLToPath } from 'node:url';

/** True for URLs read from the local filesystem (`file:` URLs and plain absolute paths). */
export function isLocal(url: string): boolean {
  return url.startsWith('file:') || url.startsWith('/');
}

export function localPath(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}

/** Join a root and a relative location (`repodata/x.xml.gz`). */
export function joinUrl(base: string, rel: string): string {
  return base.endsWith('/') ? base + rel : `${base}/${rel}`;
}
