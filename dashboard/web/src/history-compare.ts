// Comparing two time ranges of one device: range A is the window shown, range B has the same
// length and starts at `vs`. B's points are shifted by (A.from − vs) onto A's time axis, so
// "the same time yesterday" draws over today.
import type { SeriesPoint } from '../../../shared/live.js';
import { DAY_MS, fromLocalInput, type TimeWindow } from './history-range.js';

export type ComparePreset = 'previous' | 'day' | 'week';

export const COMPARE_PRESETS: readonly { key: ComparePreset; label: string }[] = [
  { key: 'previous', label: 'Previous window' },
  { key: 'day', label: 'Same time yesterday' },
  { key: 'week', label: 'Same time last week' },
];

/** Where range B starts for a preset. */
export function compareStart(a: TimeWindow, preset: ComparePreset): number {
  switch (preset) {
    case 'previous':
      return a.from - (a.to - a.from);
    case 'day':
      return a.from - DAY_MS;
    case 'week':
      return a.from - 7 * DAY_MS;
  }
}

/** The preset that starts B at `vs`, or null for a chosen date. */
export function presetFor(a: TimeWindow, vs: number): ComparePreset | null {
  return COMPARE_PRESETS.find((p) => compareStart(a, p.key) === vs)?.key ?? null;
}

/** Range B: as long as A, from `vs`. */
export function compareWindow(a: TimeWindow, vs: number): TimeWindow {
  return { from: vs, to: vs + (a.to - a.from) };
}

/** What to add to a time in B to place it on A's axis. */
export function compareOffset(a: TimeWindow, vs: number): number {
  return a.from - vs;
}

/** B's series moved onto A's time axis (the values stay as they are). */
export function shiftSeries(series: Readonly<Record<string, readonly SeriesPoint[]>>, offsetMs: number): Record<string, SeriesPoint[]> {
  const out: Record<string, SeriesPoint[]> = {};
  for (const [name, pts] of Object.entries(series)) out[name] = pts.map(([t, mean, min, max]) => [t + offsetMs, mean, min, max]);
  return out;
}

export type CompareDateResult = { ok: true; vs: number } | { ok: false; message: string };

/** Range B's start typed into a datetime-local input: a real time, before now, not A's own start. */
export function parseCompareDate(text: string, a: TimeWindow, now: number): CompareDateResult {
  if (text.trim() === '') return { ok: false, message: 'Enter the date and time range B starts at.' };
  const vs = fromLocalInput(text);
  if (vs === null) return { ok: false, message: `“${text}” is not a date and time.` };
  if (vs >= now) return { ok: false, message: `Range B cannot start in the future (${new Date(vs).toLocaleString()}).` };
  if (vs === a.from) return { ok: false, message: 'Range B starts where the range shown starts: pick another time.' };
  return { ok: true, vs };
}
