// Words for the history view and the storage page: which tier answered a chart, how long a step
// or a retention is, and when a window or a stored value falls (browser's local time).
import type { StorageTier } from '../../../shared/live.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, type TimeWindow } from './history-range.js';

export const TIER_NAMES: Record<StorageTier, string> = { raw: 'Raw samples', '1m': '1-minute rollups', '1h': '1-hour rollups' };

/** Width of one row of a tier: rollups are never finer than their bucket, whatever stepMs says. */
export function tierWidthMs(tier: StorageTier | undefined): number {
  return tier === '1m' ? MINUTE_MS : tier === '1h' ? HOUR_MS : 0;
}

/** "5 s", "10 min", "1 h", "1.5 h", "2 d". */
export function formatStep(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < MINUTE_MS) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR_MS) return `${Math.round(ms / MINUTE_MS)} min`;
  if (ms < DAY_MS) return `${(ms / HOUR_MS).toFixed(ms % HOUR_MS === 0 ? 0 : 1)} h`;
  return `${(ms / DAY_MS).toFixed(ms % DAY_MS === 0 ? 0 : 1)} d`;
}

/**
 * What a history chart shows, e.g. "1-minute rollups (min–max band) · 5 min per point" or "Raw
 * samples". `tier` is undefined from a hub older than the tiers: then only the step is known.
 */
export function tierLabel(tier: StorageTier | undefined, stepMs: number): string {
  const step = Math.max(stepMs, tierWidthMs(tier));
  const perPoint = step > 0 ? ` · ${formatStep(step)} per point` : '';
  if (tier === undefined) return step > 0 ? `${formatStep(step)} per point (min–max band)` : 'Raw samples';
  if (tier === 'raw' && step === 0) return TIER_NAMES.raw;
  return `${TIER_NAMES[tier]} (min–max band)${perPoint}`;
}

/** "2 years", "90 days", "36 hours": retention as configured. */
export function formatRetention(ms: number): string {
  const years = ms / (365 * DAY_MS);
  if (Number.isInteger(years) && years >= 1) return years === 1 ? '1 year' : `${years} years`;
  if (ms % DAY_MS === 0) return ms === DAY_MS ? '1 day' : `${ms / DAY_MS} days`;
  if (ms % HOUR_MS === 0) return ms === HOUR_MS ? '1 hour' : `${ms / HOUR_MS} hours`;
  return formatStep(ms);
}

const fmtDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fmtDateThisYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fmtDay = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const fmtTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fmtTimeSec = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "3 Jun, 14:05" (this year) or "3 Jun 2024, 14:05": a date in a table. */
export function formatDateTime(ms: number, now: number = Date.now()): string {
  const date = new Date(ms).getFullYear() === new Date(now).getFullYear() ? fmtDateThisYear : fmtDate;
  return `${date.format(ms)}, ${fmtTime.format(ms)}`;
}

function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

/** "Tue 3 Jun 10:00 – 11:00" or "Mon 2 Jun 10:00 – Tue 3 Jun 10:00"; seconds under 5 minutes. */
export function formatWindow(w: TimeWindow): string {
  const time = w.to - w.from < 5 * MINUTE_MS ? fmtTimeSec : fmtTime;
  const start = `${fmtDay.format(w.from)} ${time.format(w.from)}`;
  return sameDay(w.from, w.to) ? `${start} – ${time.format(w.to)}` : `${start} – ${fmtDay.format(w.to)} ${time.format(w.to)}`;
}
