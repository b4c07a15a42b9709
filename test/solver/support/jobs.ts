/**
 * The install jobs the parity suite and the benchmark run. Each is a list of package names
 * installed together (one `job install name X` per name on the native side). The lists mix
 * solvable, unsolvable (nothing provides / conflicts / unknown name), single and multi-package
 * requests; which is which is decided by native testsolv, not written down here.
 */
import { mulberry32 } from '../../support/prng.js';

/** CentOS Stream 9, BaseOS 2022 + AppStream 2025 available, empty system. */
export const CS9_JOBS: string[][] = [
  ['dnf'], ['httpd'], ['postgresql-server'], ['podman'], ['python3'], ['gcc'], ['vim-enhanced'],
  ['nginx'], ['git'], ['tmux'], ['firewalld'], ['openssh-server'], ['cockpit'], ['mariadb-server'],
  ['python3.11'], ['nodejs'], ['php'], ['perl'], ['golang'], ['java-17-openjdk'], ['emacs'],
  ['container-tools'], ['ansible-core'], ['NetworkManager'],
  // multi-package requests
  ['httpd', 'mod_ssl', 'php'], ['vim-enhanced', 'git', 'tmux', 'rsync'], ['podman', 'buildah', 'skopeo'],
  ['coreutils', 'coreutils-single'], ['curl', 'curl-minimal'],
  // names that do not exist, alone and next to a good one
  ['no-such-package-xyz'], ['httpd', 'no-such-package-xyz'],
];

/** BaseOS 2022 alone, empty system: the README's known figure (install dnf → 145 packages). */
export const BASEOS_JOBS: string[][] = [['dnf'], ['openssh-server'], ['sudo', 'tar', 'rsync']];

/**
 * Installed system = BaseOS's own answer to `install dnf` (145 packages, primary only); BaseOS
 * 2022 + AppStream 2025 available.
 */
export const CS9_INSTALLED_JOBS: string[][] = [
  ['vim-enhanced'], ['httpd'], ['podman'], ['gcc'], ['python3.11'], ['openssh-server'],
  ['postgresql-server'], ['git', 'tmux'], ['coreutils-single'], ['curl-minimal'],
];

/** Popular Debian bookworm packages (the deb63k repo), empty system. */
const DEB_POPULAR: string[][] = [
  ['bash'], ['coreutils'], ['python3'], ['nginx'], ['apache2'], ['postgresql'], ['git'], ['vim'],
  ['emacs'], ['gcc'], ['openjdk-17-jdk'], ['nodejs'], ['docker.io'], ['texlive-base'],
  ['libreoffice'], ['gnome-core'], ['xfce4'], ['firefox-esr'], ['gimp'],
  ['postfix', 'exim4-daemon-heavy'], ['nginx', 'python3', 'git'], ['no-such-package-xyz'],
];


/**
 * Debian jobs: the popular list plus `randomCount` names drawn with a fixed seed from the
 * repo's sorted name list (and two random pairs), so the spread covers libraries, data
 * packages and oddities nobody would pick by hand.
 */
export function debJobs(allNames: Iterable<string>, randomCount = 16, seed = 20240611): string[][] {
  const names = [...new Set(allNames)].sort();
  const rand = mulberry32(seed);
  const pick = (): string => names[Math.floor(rand() * names.length)]!;
  const random: string[][] = [];
  for (let i = 0; i < randomCount; i++) random.push([pick()]);
  random.push([pick(), pick()], [pick(), pick(), pick()]);
  return [...DEB_POPULAR, ...random];
}
