/**
 * A small argv parser: `--flag`, `--opt VALUE`, `--opt=VALUE`, short aliases, positionals.
 * Unknown options are a LAYER_USAGE error naming the option and the command.
 */
import { LayerError } from '../errors.js';

export interface OptionSpec {
  /** Takes a value (`--sysroot DIR`). */
  value?: boolean;
  /** Single-letter alias (`y` for `-y`). */
  short?: string;
  /** A value option that may be given again: the values are joined with commas (`--advisory A --advisory B`). */
  repeat?: boolean;
}

export interface Parsed {
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Flags every command accepts. */
export const COMMON: Record<string, OptionSpec> = {
  sysroot: { value: true },
  json: {},
  help: { short: 'h' },
};

export function parseArgs(command: string, argv: readonly string[], specs: Record<string, OptionSpec>): Parsed {
  const all = { ...COMMON, ...specs };
  const shorts = new Map(Object.entries(all).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) inline = a.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(a)) {
      name = shorts.get(a.slice(1));
      if (!name) throw new LayerError('LAYER_USAGE', `layer ${command}: unknown option ${a}`, { hint: `see layer ${command} --help` });
    } else {
      positionals.push(a);
      continue;
    }
    const spec = all[name];
    if (!spec) throw new LayerError('LAYER_USAGE', `layer ${command}: unknown option --${name}`, { hint: `see layer ${command} --help` });
    if (spec.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new LayerError('LAYER_USAGE', `layer ${command}: --${name} needs a value`);
      const was = flags.get(name);
      flags.set(name, spec.repeat && typeof was === 'string' ? `${was},${v}` : v);
    } else {
      if (inline !== undefined) throw new LayerError('LAYER_USAGE', `layer ${command}: --${name} takes no value`);
      flags.set(name, true);
    }
  }
  return { flags, positionals };
}

/**
 * Find a command's subcommand (`layer db --sysroot S list`): the first argument that is neither
 * an option nor the value of one, so options are accepted before the subcommand as after it
 * (they were silently dropped there). `specs` are every option of every subcommand, so that
 * `--opt VALUE` is not taken for the subcommand. Returns the subcommand and the other arguments.
 */
export function splitSubcommand(
  argv: readonly string[],
  specs: Record<string, OptionSpec> = {},
): { sub: string | undefined; rest: string[] } {
  const all = { ...COMMON, ...specs };
  const shortsWithValue = new Set(Object.values(all).filter((s) => s.value && s.short).map((s) => s.short));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      if (!a.includes('=') && all[a.slice(2)]?.value) i++;
      continue;
    }
    if (/^-[A-Za-z]$/.test(a)) {
      if (shortsWithValue.has(a.slice(1))) i++;
      continue;
    }
    return { sub: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { sub: undefined, rest: [...argv] };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags.has(name);
}
