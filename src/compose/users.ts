/**
 * Users and groups of a NEW tree: reading its account databases and mapping the owner
 * names that rpm headers carry (FILEUSERNAME / FILEGROUPNAME) to numeric ids.
 *
 * Everything is read from the tree, never from the host: the host's `nobody` or `ngircd`
 * may have another id, or not exist at all. Files are read through resolveInTree, so an
 * /etc/passwd symlink cannot escape to the host.
 *
 * Sources, first match wins: `/etc/passwd` then `/usr/lib/passwd` (and the same for group).
 * The second is nss-altfiles' database, where rpm-ostree style images keep the base image's
 * system accounts so that /etc/passwd holds only local additions.
 */
import { readFile } from 'node:fs/promises';
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { resolveInTree } from './sandbox-paths.js';

export interface AccountDb {
  /** user name -> uid */
  users: Map<string, number>;
  /** group name -> gid */
  groups: Map<string, number>;
}

const SOURCES = {
  passwd: ['/etc/passwd', '/usr/lib/passwd'],
  group: ['/etc/group', '/usr/lib/group'],
} as const;

/** Parse one passwd(5)/group(5) file: name is field 1, the id field 3. Comments and blank lines are skipped. */
export function parseAccountFile(text: string, what: string): Map<string, number> {
  const out = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    // NIS compat entries (+name, -name) carry no id of their own.
    if (line.startsWith('+') || line.startsWith('-')) return;
    const fields = line.split(':');
    const name = fields[0];
    const id = fields[2];
    if (!name || id === undefined || !/^\d+$/.test(id)) {
      throw new LayerError('LAYER_SCRIPTLET', `${what} line ${i + 1}: malformed entry ${JSON.stringify(line)}`, {
        hint: 'expected name:password:id:... (passwd(5), group(5))',
      });
    }
    if (!out.has(name)) out.set(name, Number(id));
  });
  return out;
}

async function readDb(tree: string, paths: readonly string[]): Promise<Map<string, number>> {
  const merged = new Map<string, number>();
  for (const p of paths) {
    const host = await resolveInTree(tree, p);
    if (!host) continue;
    const text = await readFile(host, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const [k, v] of parseAccountFile(text, `${tree}${p}`)) if (!merged.has(k)) merged.set(k, v);
  }
  return merged;
}

/** The users and groups a tree knows, from its own files. */
export async function readAccounts(tree: string): Promise<AccountDb> {
  return { users: await readDb(tree, SOURCES.passwd), groups: await readDb(tree, SOURCES.group) };
}

export interface OwnerNames {
  users: Iterable<string>;
  groups: Iterable<string>;
}

export interface Ownership {
  uid: Map<string, number>;
  gid: Map<string, number>;
  /** Names the tree does not know; mapped to 0 (root) as rpm does. */
  unknownUsers: string[];
  unknownGroups: string[];
}

export interface ResolveOptions {
  report?: Report;
  /** Fail on unknown names instead of falling back to root. */
  strict?: boolean;
  /** Who asked, for messages (a package NEVRA). */
  context?: string;
}

/**
 * Map file owner names to ids using the tree's passwd/group. Call it AFTER the layered
 * packages' %pre scriptlets ran: that is when rpm resolves ownership too, so users those
 * scripts create are found.
 *
 * Unknown names: rpm installs the file as root and warns ("user X does not exist - using
 * root"); we do the same and report a warning per name, or throw LAYER_SCRIPTLET with every
 * unknown name when `strict`.
 */
export async function resolveOwnership(tree: string, names: OwnerNames, opts: ResolveOptions = {}): Promise<Ownership> {
  const report = opts.report ?? silentReport;
  const db = await readAccounts(tree);
  const result: Ownership = { uid: new Map(), gid: new Map(), unknownUsers: [], unknownGroups: [] };
  const map = (wanted: Iterable<string>, known: Map<string, number>, into: Map<string, number>, unknown: string[]) => {
    for (const name of wanted) {
      if (into.has(name)) continue;
      const id = known.get(name);
      if (id === undefined) {
        unknown.push(name);
        into.set(name, 0);
      } else into.set(name, id);
    }
  };
  map(names.users, db.users, result.uid, result.unknownUsers);
  map(names.groups, db.groups, result.gid, result.unknownGroups);
  const where = opts.context ? `${opts.context}: ` : '';
  if (opts.strict && (result.unknownUsers.length > 0 || result.unknownGroups.length > 0)) {
    const parts = [
      ...result.unknownUsers.map((u) => `user ${u}`),
      ...result.unknownGroups.map((g) => `group ${g}`),
    ];
    throw new LayerError('LAYER_SCRIPTLET', `${where}${parts.join(', ')} not found in ${tree}/etc/passwd or /etc/group`, {
      hint: "the package's %pre scriptlet should create them (useradd/groupadd), or the base image must ship them",
    });
  }
  for (const u of result.unknownUsers) report.warn('scriptlet.unknown-user', `${where}user ${u} does not exist in the new tree - using root`);
  for (const g of result.unknownGroups) report.warn('scriptlet.unknown-group', `${where}group ${g} does not exist in the new tree - using root`);
  return result;
}
