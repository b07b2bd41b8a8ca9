// Turning nvidia-smi's value strings into numbers. nvidia-smi prints a placeholder instead of a
// value when it has none: `[N/A]`, `N/A`, `[Not Supported]`, `[Unknown Error]`, `-` in dmon, or
// prose such as "Not available in WDDM driver model". Anything that is not a plain number (with
// an optional unit) is therefore missing: a value the tool did not give must never become 0.

export const MIB = 1_048_576;

/** Bytes per unit for the memory units nvidia-smi prints. Its `MB` (dmon, pmon) means MiB. */
const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kib: 1024,
  kb: 1024,
  mib: MIB,
  mb: MIB,
  gib: 1024 * MIB,
  gb: 1024 * MIB,
};

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z%/]+)?$/;

/** Bracketed text (`[N/A]`, `[GPU is lost]`, `[Requested functionality has been deprecated]`) is never a value. */
export function isPlaceholder(raw: string): boolean {
  const s = raw.trim();
  return s === '' || (s.startsWith('[') && s.endsWith(']')) || /^(n\/a|-|unknown|not supported)$/i.test(s);
}

export interface Quantity {
  readonly value: number;
  /** The unit written next to the number, lower-cased, if any. */
  readonly unit?: string;
}

/** `45 %` → {45, '%'}; `77.90` → {77.9}; placeholders and text → undefined. */
export function parseQuantity(raw: string | undefined): Quantity | undefined {
  if (raw === undefined || isPlaceholder(raw)) return undefined;
  const m = NUMBER_WITH_UNIT.exec(raw.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (!Number.isFinite(value)) return undefined;
  return m[2] === undefined ? { value } : { value, unit: m[2].toLowerCase() };
}

/**
 * A memory amount in bytes. The unit written on the value wins, then the unit the header gave
 * the column (`memory.used [MiB]` with `nounits`), then MiB, which is what nvidia-smi reports.
 */
export function parseBytes(raw: string | undefined, headerUnit?: string): number | undefined {
  const q = parseQuantity(raw);
  if (!q) return undefined;
  const unit = q.unit ?? headerUnit?.toLowerCase() ?? 'mib';
  const factor = BYTE_UNITS[unit];
  return factor === undefined ? undefined : q.value * factor;
}

/** `P0` → 0 … `P15` → 15; anything else is missing. */
export function parsePstate(raw: string | undefined): number | undefined {
  const m = raw === undefined ? null : /^P(\d{1,2})$/i.exec(raw.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 15 ? n : undefined;
}

/** An integer that is the whole string (GPU index, pid). */
export function parseWholeInt(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (!/^\d{1,9}$/.test(s)) return undefined;
  return Number(s);
}

/** A text value, or undefined for a placeholder. */
export function parseText(raw: string | undefined): string | undefined {
  if (raw === undefined || isPlaceholder(raw)) return undefined;
  return raw.trim();
}

function localTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const date = new Date(y, mo - 1, d, h, mi, s, ms);
  // Date rolls 31 Feb over into March; a rolled-over date is not what the tool printed.
  if (date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.getTime();
}

const CSV_TIMESTAMP = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

/** `2026/11/28 02:55:38.478` (the `timestamp` query field, local time) → ms since the epoch. */
export function parseCsvTimestamp(raw: string | undefined): number | null {
  const m = raw === undefined ? null : CSV_TIMESTAMP.exec(raw.trim());
  if (!m) return null;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  return localTime(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const CTIME = /^(?:[A-Za-z]{3}\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$/;

/** `Sat Nov 28 02:55:38 2026` / `Fri Jul  3 08:33:38 2026` (table, `-q`, XML; local time) → ms. */
export function parseCtimeTimestamp(raw: string | undefined): number | null {
  const m = raw === undefined ? null : CTIME.exec(raw.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  if (month < 0) return null;
  return localTime(Number(m[6]), month + 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), 0);
}

/** `20260628 12:00:05` (dmon/pmon `-o DT`) → ms. */
export function parseCompactTimestamp(date: string | undefined, time: string | undefined): number | null {
  const d = date === undefined ? null : /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const t = time === undefined ? null : /^(\d{2}):(\d{2}):(\d{2})$/.exec(time);
  if (!d || !t) return null;
  return localTime(Number(d[1]), Number(d[2]), Number(d[3]), Number(t[1]), Number(t[2]), Number(t[3]), 0);
}
