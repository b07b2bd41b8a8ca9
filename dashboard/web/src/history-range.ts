// Time windows of the device page's history view, as pure functions (no DOM): the from/to/vs
// of the hash, zoom and pan steps, and the datetime-local inputs of a custom range. Every time
// here is device-clock ms, the clock the series API and the charts' x axes use.

export interface TimeWindow {
  from: number;
  to: number;
}

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Narrowest window a zoom lands on: below this a chart shows a handful of samples at most. */
export const MIN_SPAN_MS = 10 * SECOND_MS;
/** Widest window: hourly rollups are kept two years by default; wider shows only empty space. */
export const MAX_SPAN_MS = 3 * 366 * DAY_MS;

/** Integers only: a hash like `from=1e12` or `from=12.5` is someone's typo, not a time. */
const MS_RE = /^\d{1,15}$/;

function msParam(q: URLSearchParams, name: string): number | null {
  const raw = q.get(name);
  return raw !== null && MS_RE.test(raw) ? Number(raw) : null;
}

/**
 * The fixed window and comparison start a device route's query names, if well formed: from and
 * to as ms since the epoch with from < to and a span of at most MAX_SPAN_MS; vs (the start of
 * the range to compare with) only together with a window. Anything else is left out, and the
 * page falls back to its preset (`range=`).
 */
export function parseWindowQuery(q: URLSearchParams): { window?: TimeWindow; vs?: number } {
  const from = msParam(q, 'from');
  const to = msParam(q, 'to');
  if (from === null || to === null || !(from < to) || to - from > MAX_SPAN_MS) return {};
  const vs = msParam(q, 'vs');
  return vs === null || vs === from ? { window: { from, to } } : { window: { from, to }, vs };
}

/** The query parseWindowQuery reads back. */
export function windowQuery(w: TimeWindow, vs?: number | null): URLSearchParams {
  const q = new URLSearchParams({ from: String(Math.round(w.from)), to: String(Math.round(w.to)) });
  if (vs !== null && vs !== undefined) q.set('vs', String(Math.round(vs)));
  return q;
}

function span(w: TimeWindow): number {
  return w.to - w.from;
}

/** A window of `ms` centred on `centre`, whole milliseconds. */
function centred(centre: number, ms: number): TimeWindow {
  const from = Math.round(centre - ms / 2);
  return { from, to: from + Math.round(ms) };
}

/** Moves a window back so it does not end after `now` (the future holds no data yet). */
function notAfter(w: TimeWindow, now: number): TimeWindow {
  if (w.to <= now) return w;
  const shift = w.to - now;
  return { from: w.from - shift, to: now };
}

/**
 * The window a drag selected, from its two ends in either order. A selection narrower than
 * MIN_SPAN_MS widens around its middle.
 */
export function zoomWindow(a: number, b: number): TimeWindow {
  const from = Math.min(a, b);
  const to = Math.max(a, b);
  if (to - from < MIN_SPAN_MS) return centred((from + to) / 2, MIN_SPAN_MS);
  return { from: Math.round(from), to: Math.round(to) };
}

/** Half a window earlier (-1) or later (+1); never past `now`. */
export function panWindow(w: TimeWindow, direction: -1 | 1, now: number): TimeWindow {
  const shift = Math.round(span(w) / 2) * direction;
  return notAfter({ from: w.from + shift, to: w.to + shift }, Math.max(now, w.to));
}

/** Whether ▶ can move the window later: it ends before `now`, by more than a second. */
export function canPanLater(w: TimeWindow, now: number): boolean {
  return w.to < now - SECOND_MS;
}

/** `factor` times as wide around the same middle (at most MAX_SPAN_MS), never past `now`. */
export function zoomOutWindow(w: TimeWindow, now: number, factor = 2): TimeWindow {
  const ms = Math.min(MAX_SPAN_MS, span(w) * factor);
  return notAfter(centred((w.from + w.to) / 2, ms), Math.max(now, w.to));
}

/** `factor` times narrower around the same middle (at least MIN_SPAN_MS). */
export function zoomInWindow(w: TimeWindow, factor = 2): TimeWindow {
  return centred((w.from + w.to) / 2, Math.max(MIN_SPAN_MS, span(w) / factor));
}

/**
 * The window that shows one experiment with a little room either side (5 % of its length, at
 * least 5 s), so its start and end are visible as edges. A running one (end null) runs to `now`.
 */
export function experimentWindow(start: number, end: number | null, now: number): TimeWindow {
  const stop = Math.max(start, end ?? now);
  const pad = Math.max(5 * SECOND_MS, (stop - start) * 0.05);
  const w = { from: Math.round(start - pad), to: Math.round(stop + pad) };
  return span(w) < MIN_SPAN_MS ? centred((start + stop) / 2, MIN_SPAN_MS) : w;
}

// ---------------------------------------------------------------------------------------------
// Custom ranges typed into <input type="datetime-local"> (local time, no zone in the value)

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH:MM` in local time: the value a datetime-local input shows for `ms`. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/** Reads a datetime-local value as local time; null when it is not a real date and time. */
export function fromLocalInput(text: string): number | null {
  const m = LOCAL_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss, frac] = m;
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(year, month, day, hour, minute, second, Number((frac ?? '0').padEnd(3, '0')));
  // new Date rolls 31 April over into 1 May: a date that does not exist is refused instead.
  if (date.getFullYear() !== year || date.getMonth() !== month || date.getDate() !== day) return null;
  return date.getTime();
}

/** "UTC+02:00" for the local zone at `ms`, to say which clock the inputs are in. */
export function utcOffsetLabel(ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  const sign = off < 0 ? '−' : '+';
  const abs = Math.abs(off);
  return `UTC${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

const fmtInput = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export type RangeInputResult =
  | { ok: true; window: TimeWindow }
  | { ok: false; field: 'from' | 'to'; message: string };

/** Checks a custom range typed into the from/to inputs; the message says what to change. */
export function parseRangeInputs(fromText: string, toText: string, now: number): RangeInputResult {
  if (fromText.trim() === '') return { ok: false, field: 'from', message: 'Enter a start date and time.' };
  if (toText.trim() === '') return { ok: false, field: 'to', message: 'Enter an end date and time.' };
  const from = fromLocalInput(fromText);
  if (from === null) return { ok: false, field: 'from', message: `The start “${fromText}” is not a date and time.` };
  const to = fromLocalInput(toText);
  if (to === null) return { ok: false, field: 'to', message: `The end “${toText}” is not a date and time.` };
  if (from >= now) return { ok: false, field: 'from', message: `The start (${fmtInput.format(from)}) is in the future: pick a time before now.` };
  if (to <= from) return { ok: false, field: 'to', message: `The end (${fmtInput.format(to)}) must be after the start (${fmtInput.format(from)}).` };
  if (to - from < MIN_SPAN_MS) return { ok: false, field: 'to', message: 'The range must be at least 10 seconds long.' };
  if (to - from > MAX_SPAN_MS) {
    return { ok: false, field: 'from', message: `The range is ${Math.round((to - from) / DAY_MS)} days long; at most ${MAX_SPAN_MS / DAY_MS} days can be shown.` };
  }
  return { ok: true, window: { from, to } };
}
