/**
 * Where rpm's paths live in an image tree (OSTree's layout) and back: `/etc` is kept as
 * `usr/etc` (deploy makes it the writable /etc) and `/boot` as `usr/lib/ostree-boot`.
 */

/** The tree path (relative, no leading /) of an rpm file path. */
export function treePathOf(rpmFile: string): string {
  const p = rpmFile.replace(/^\/+/, '');
  if (p === 'etc' || p.startsWith('etc/')) return `usr/${p}`;
  if (p === 'boot' || p.startsWith('boot/')) return `usr/lib/ostree-boot${p.slice(4)}`;
  return p;
}

/** The path as rpm knows it, from a path in the tree. */
export function rpmPathOf(treePath: string): string {
  if (treePath === 'usr/etc' || treePath.startsWith('usr/etc/')) return `/etc${treePath.slice(7)}`;
  if (treePath === 'usr/lib/ostree-boot' || treePath.startsWith('usr/lib/ostree-boot/')) return `/boot${treePath.slice(19)}`;
  return `/${treePath}`;
}
