// Terminal text without a library: visible width, fitting to a width, colour, and making
// untrusted text (process names and command lines, model names) safe to put on a terminal.
// Widths count code points; text that could take two cells or none (wide East Asian
// characters, emoji, combining marks) is replaced before it gets here, so that count is the
// column count.

const ESC_SEQ = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** SGR colour codes used by the frame; `plain` frames (NO_COLOR, --once) never emit them. */
export const STYLE = {
  bold: '1',
  dim: '2',
  inverse: '7',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
} as const;
export type StyleName = keyof typeof STYLE;

export interface Painter {
  (text: string, ...styles: StyleName[]): string;
  readonly color: boolean;
}

export function painter(color: boolean): Painter {
  const paint = (text: string, ...styles: StyleName[]): string =>
    color && styles.length > 0 && text !== '' ? `\x1b[${styles.map((s) => STYLE[s]).join(';')}m${text}\x1b[0m` : text;
  return Object.assign(paint, { color });
}

/** Columns `text` takes, escape sequences not counted. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === 0x1b) {
      ESC_SEQ.lastIndex = i;
      const m = ESC_SEQ.exec(text);
      if (m) {
        i += m[0].length;
        continue;
      }
    }
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    width++;
  }
  return width;
}

/**
 * Cuts `text` to at most `width` columns (an ellipsis marks a cut) and pads it to exactly
 * `width` when `pad` is set. Escape sequences are kept whole; a cut inside coloured text
 * ends with a reset so the colour does not run on.
 */
export function fit(text: string, width: number, pad = false): string {
  if (width <= 0) return '';
  const total = visibleWidth(text);
  if (total <= width) return pad ? text + ' '.repeat(width - total) : text;
  let out = '';
  let used = 0;
  let styled = false;
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === 0x1b) {
      ESC_SEQ.lastIndex = i;
      const m = ESC_SEQ.exec(text);
      if (m) {
        out += m[0];
        styled = m[0] !== '\x1b[0m';
        i += m[0].length;
        continue;
      }
    }
    if (used === width - 1) break;
    const cp = text.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    out += text.slice(i, i + len);
    i += len;
    used++;
  }
  return out + '…' + (styled ? '\x1b[0m' : '');
}

/** Left-aligned in `width` columns. */
export function padEnd(text: string, width: number): string {
  return fit(text, width, true);
}

/** Right-aligned in `width` columns (cut on the right when too long). */
export function padStart(text: string, width: number): string {
  const w = visibleWidth(text);
  return w >= width ? fit(text, width) : ' '.repeat(width - w) + text;
}

/**
 * Untrusted text as one terminal-safe line: control characters (which could move the cursor or
 * retitle the terminal: ESC, BEL, C1 codes) become spaces, and characters whose width is not
 * one column become `?`.
 */
export function sanitize(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) out += ' ';
    else if (isZeroWidth(cp)) continue;
    else if (isWide(cp) || cp > 0xffff) out += '?';
    else out += ch;
  }
  return out;
}

function isZeroWidth(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp === 0xfeff || (cp >= 0xfe00 && cp <= 0xfe0f);
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0xd800 && cp <= 0xdfff)
  );
}

/** A bar of `width` cells filled to `pct` (0–100): `|||||     `. */
export function bar(pct: number | undefined, width: number): string {
  if (width <= 0) return '';
  const filled = pct === undefined || !Number.isFinite(pct) ? 0 : Math.round((Math.min(100, Math.max(0, pct)) / 100) * width);
  return '|'.repeat(filled) + ' '.repeat(width - filled);
}
