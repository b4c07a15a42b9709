/**
 * Scriptlets, triggers and file triggers from the main header (rpmtag.h; rpm's lib/rpmscript.c
 * pairs each body tag with its *PROG interpreter tag and *FLAGS tag).
 */
import { LayerError } from '../errors.js';
import type { RpmHeader } from './header.js';
import { TAG } from './tags.js';

export type ScriptletKind =
  | 'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans' | 'preuntrans' | 'postuntrans' | 'verify'
  | 'trigger' | 'filetrigger' | 'transfiletrigger';

export interface TriggerCondition {
  /** Package name (triggers) or path prefix (file triggers). */
  name: string;
  flags: number;
  version: string;
  /** 'in' | 'un' | 'postun' | 'prein', from the RPMSENSE_TRIGGER* bits. */
  when: 'in' | 'un' | 'postun' | 'prein' | 'unknown';
}

export interface RpmScriptlet {
  kind: ScriptletKind;
  /** Script text; undefined for `-p <program>` scriptlets with no body. */
  body: string | undefined;
  /** Interpreter path (`/bin/sh` when the header names none but has a body). */
  interpreter: string;
  /** Extra interpreter arguments (the rest of *PROG). */
  args: string[];
  /** RPMSCRIPT_FLAG_* bits (expand, qformat, critical). */
  flags: number;
  /** Triggers only: conditions that fire this script. */
  conditions?: TriggerCondition[];
  /** File triggers only. */
  priority?: number;
}

const SIMPLE: [ScriptletKind, number, number, number][] = [
  ['pretrans', TAG.PRETRANS, TAG.PRETRANSPROG, TAG.PRETRANSFLAGS],
  ['pre', TAG.PREIN, TAG.PREINPROG, TAG.PREINFLAGS],
  ['post', TAG.POSTIN, TAG.POSTINPROG, TAG.POSTINFLAGS],
  ['preun', TAG.PREUN, TAG.PREUNPROG, TAG.PREUNFLAGS],
  ['postun', TAG.POSTUN, TAG.POSTUNPROG, TAG.POSTUNFLAGS],
  ['posttrans', TAG.POSTTRANS, TAG.POSTTRANSPROG, TAG.POSTTRANSFLAGS],
  ['preuntrans', TAG.PREUNTRANS, TAG.PREUNTRANSPROG, TAG.PREUNTRANSFLAGS],
  ['postuntrans', TAG.POSTUNTRANS, TAG.POSTUNTRANSPROG, TAG.POSTUNTRANSFLAGS],
  ['verify', TAG.VERIFYSCRIPT, TAG.VERIFYSCRIPTPROG, TAG.VERIFYSCRIPTFLAGS],
];

function whenOf(flags: number): TriggerCondition['when'] {
  if (flags & (1 << 16)) return 'in';
  if (flags & (1 << 17)) return 'un';
  if (flags & (1 << 18)) return 'postun';
  if (flags & (1 << 25)) return 'prein';
  return 'unknown';
}

interface TriggerTags {
  kind: ScriptletKind;
  scripts: number; prog: number; sflags: number;
  name: number; index: number; version: number; flags: number;
  priorities?: number;
}

const TRIGGERS: TriggerTags[] = [
  { kind: 'trigger', scripts: TAG.TRIGGERSCRIPTS, prog: TAG.TRIGGERSCRIPTPROG, sflags: TAG.TRIGGERSCRIPTFLAGS,
    name: TAG.TRIGGERNAME, index: TAG.TRIGGERINDEX, version: TAG.TRIGGERVERSION, flags: TAG.TRIGGERFLAGS },
  { kind: 'filetrigger', scripts: TAG.FILETRIGGERSCRIPTS, prog: TAG.FILETRIGGERSCRIPTPROG, sflags: TAG.FILETRIGGERSCRIPTFLAGS,
    name: TAG.FILETRIGGERNAME, index: TAG.FILETRIGGERINDEX, version: TAG.FILETRIGGERVERSION, flags: TAG.FILETRIGGERFLAGS,
    priorities: TAG.FILETRIGGERPRIORITIES },
  { kind: 'transfiletrigger', scripts: TAG.TRANSFILETRIGGERSCRIPTS, prog: TAG.TRANSFILETRIGGERSCRIPTPROG,
    sflags: TAG.TRANSFILETRIGGERSCRIPTFLAGS, name: TAG.TRANSFILETRIGGERNAME, index: TAG.TRANSFILETRIGGERINDEX,
    version: TAG.TRANSFILETRIGGERVERSION, flags: TAG.TRANSFILETRIGGERFLAGS, priorities: TAG.TRANSFILETRIGGERPRIORITIES },
];

/** All scriptlets in install-time order, then triggers. */
export function readScriptlets(h: RpmHeader, what: string): RpmScriptlet[] {
  const out: RpmScriptlet[] = [];
  for (const [kind, bodyTag, progTag, flagsTag] of SIMPLE) {
    if (!h.has(bodyTag) && !h.has(progTag)) continue;
    const prog = h.strings(progTag);
    out.push({
      kind,
      body: h.string(bodyTag),
      interpreter: prog[0] ?? '/bin/sh',
      args: prog.slice(1),
      flags: h.number(flagsTag) ?? 0,
    });
  }
  for (const t of TRIGGERS) {
    if (!h.has(t.scripts)) continue;
    const bodies = h.strings(t.scripts);
    // For triggers *PROG is one interpreter string per script (no argument arrays).
    const progs = h.strings(t.prog);
    const sflags = h.numbers(t.sflags);
    const names = h.strings(t.name);
    const idx = h.numbers(t.index);
    const versions = h.strings(t.version);
    const flags = h.numbers(t.flags);
    const prios = t.priorities ? h.numbers(t.priorities) : [];
    const scripts: RpmScriptlet[] = bodies.map((body, i) => ({
      kind: t.kind,
      body,
      interpreter: progs[i] ?? '/bin/sh',
      args: [],
      flags: sflags[i] ?? 0,
      conditions: [],
      ...(t.priorities ? { priority: prios[i] ?? 1000000 } : {}),
    }));
    names.forEach((name, j) => {
      const s = scripts[idx[j] ?? -1];
      if (!s) throw new LayerError('LAYER_RPM_FORMAT', `${what}: ${t.kind} condition ${j} (${name}) points at script ${idx[j]} of ${bodies.length}`);
      const f = flags[j] ?? 0;
      s.conditions?.push({ name, flags: f, version: versions[j] ?? '', when: whenOf(f) });
    });
    out.push(...scripts);
  }
  return out;
}
