/**
 * Text from a repo, a package or a file is shown to a person deciding what to run as root: a
 * control character in it (ESC starting a terminal escape sequence, BEL ending an OSC title,
 * a carriage return overwriting the line) must not reach the terminal as itself. It is shown
 * as a visible `\xHH` escape instead, as `ls -b` and `systemd-escape` do.
 */

export interface EscapeOptions {
  /** Leave `\n` as it is (multi-line messages layer itself composed); every other control is escaped. */
  keepNewlines?: boolean;
}

// C0 controls (U+0000-U+001F), DEL (U+007F) and C1 controls (U+0080-U+009F, where U+009B is a
// one-character CSI on terminals that honour 8-bit controls).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_NL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** `s` with every C0/C1 control character and DEL shown as `\xHH` (`\x1b` for ESC). */
export function escapeControl(s: string, opts: EscapeOptions = {}): string {
  return s.replace(opts.keepNewlines ? CONTROL_BUT_NL : CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** True when `s` holds a character escapeControl would escape. */
export function hasControl(s: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(s);
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `s` safe as HTML text or a quoted attribute value: `& < > " '` as entities, and control
 * characters (except newline and tab) as visible `\xHH` first, as escapeControl shows them.
 * Package names, script output and repo text in the upgrade report go through here.
 */
export function escapeHtml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[&<>"']/g, (c) => HTML[c] ?? c);
}
