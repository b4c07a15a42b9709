/** Plain data of the repos/ stage. */

/** One `[id]` section of a `.repo` file, values parsed and variables substituted. */
export interface RepoConfig {
  id: string;
  name: string;
  /** The file and line of the `[id]` header, for messages. */
  source: string;
  /** Repo roots (directories holding `repodata/repomd.xml`), tried in order. */
  baseurls: string[];
  mirrorlist?: string;
  metalink?: string;
  enabled: boolean;
  gpgcheck: boolean;
  repoGpgcheck: boolean;
  gpgkeys: string[];
  /** Seconds; -1 = never expires. dnf default 172800 (48 h). */
  metadataExpire: number;
  /** dnf priority: lower number wins; default 99. */
  priority: number;
  /** dnf cost: lower preferred among equal priority; default 1000. */
  cost: number;
  /** Globs on package names (dnf `excludepkgs`/`exclude`). */
  excludepkgs: string[];
  /** When non-empty only matching package names are visible (dnf `includepkgs`). */
  includepkgs: string[];
  /** Patterns of the above that came from dnf.conf's [main] (global): not warned about per repo. */
  globalPatterns?: string[];
  skipIfUnavailable: boolean;
  sslverify: boolean;
  proxy?: string;
  /** Seconds without progress before a request is abandoned (dnf `timeout`, default 30). */
  timeout: number;
  /** Extra attempts per URL on transient failures (dnf `retries`, default 10; 0 = none, never "forever"). */
  retries: number;
  /** B/s averaged over `timeout` below which a transfer is abandoned (dnf `minrate`, default 1000; 0 = off). */
  minrate?: number;
  /** Keys layer does not interpret, kept verbatim (after substitution). */
  extra: Record<string, string>;
}
