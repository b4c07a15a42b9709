/**
 * The sysroot's own settings: `ostree/layer/config.json`, a JSON object of the keys below
 * (`{"retention": 2}`). An absent file or key means the default. `layer config get/set` is the
 * interface; editing the file by hand is fine too (it is validated on every read).
 *
 * Crash safety: written with temp file + fsync + rename, so a reader sees the old or the new file.
 * Locking: `setConfig` is a sysroot change; callers hold the sysroot lock. Reads take no lock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { writeFileDurable } from './fsutil.js';

export interface SysrootConfig {
  /**
   * Rollback deployments kept beyond the booted and the pending one when a new deployment is
   * made (rpm-ostree keeps one). Pinned deployments are kept in addition and are not counted.
   */
  retention: number;
}

export const CONFIG_DEFAULTS: SysrootConfig = { retention: 1 };

interface KeySpec {
  doc: string;
  parse(text: string): SysrootConfig[keyof SysrootConfig];
}

/** The settable keys, with how a command-line value becomes a stored one. */
export const CONFIG_KEYS: Record<keyof SysrootConfig, KeySpec> = {
  retention: {
    doc: 'rollback deployments kept beyond booted and pending (default 1; pinned ones are kept in addition)',
    parse(text) {
      if (!/^\d+$/.test(text) || Number(text) > 1000) {
        throw new LayerError('LAYER_USAGE', `retention must be a whole number from 0 to 1000, not '${text}'`);
      }
      return Number(text);
    },
  },
};

export function configPath(stateDir: string): string {
  return join(stateDir, 'config.json');
}

function isKey(key: string): key is keyof SysrootConfig {
  return Object.hasOwn(CONFIG_KEYS, key);
}

export function checkKey(key: string): keyof SysrootConfig {
  if (!isKey(key)) throw new LayerError('LAYER_USAGE', `unknown setting '${key}'`, { hint: `settings: ${Object.keys(CONFIG_KEYS).join(', ')}` });
  return key;
}

/** The settings in force: the file's values over the defaults. A malformed file is LAYER_SYSROOT. */
export function readConfig(stateDir: string): SysrootConfig {
  const path = configPath(stateDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...CONFIG_DEFAULTS };
    throw new LayerError('LAYER_SYSROOT', `cannot read ${path}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LayerError('LAYER_SYSROOT', `${path} is not valid JSON`, { cause: err, hint: 'fix it, or remove it to get the defaults' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LayerError('LAYER_SYSROOT', `${path} must hold a JSON object`);
  const config = { ...CONFIG_DEFAULTS };
  for (const [key, value] of Object.entries(raw)) {
    if (!isKey(key)) throw new LayerError('LAYER_SYSROOT', `${path}: unknown setting '${key}'`, { hint: `settings: ${Object.keys(CONFIG_KEYS).join(', ')}` });
    try {
      config[key] = CONFIG_KEYS[key].parse(String(value));
    } catch (err) {
      throw new LayerError('LAYER_SYSROOT', `${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return config;
}

/** Set one key from its command-line text; returns the settings now in force. */
export function setConfig(stateDir: string, key: string, text: string): SysrootConfig {
  const k = checkKey(key);
  const config = readConfig(stateDir);
  config[k] = CONFIG_KEYS[k].parse(text);
  writeFileDurable(configPath(stateDir), JSON.stringify(config, null, 2) + '\n');
  return config;
}
