// Ticks and labels for a linear x axis of epoch milliseconds, in the browser's local time.
// chart.js's own linear ticks would land on "nice" decimal numbers of ms; these land on whole
// seconds, minutes, hours or local midnights instead.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY,
];

export function pickStep(spanMs: number, maxTicks: number): number {
  for (const s of STEPS) if (spanMs / s <= maxTicks) return s;
  return STEPS[STEPS.length - 1]!;
}

/** Local-time offset from UTC in ms at time t (positive east of Greenwich). */
function tzOffset(t: number): number {
  return -new Date(t).getTimezoneOffset() * MINUTE;
}

/** Tick values in [min, max], aligned to local-time multiples of the step. */
export function timeTicks(min: number, max: number, maxTicks: number): { values: number[]; step: number } {
  if (!(max > min)) return { values: [], step: SECOND };
  const step = pickStep(max - min, Math.max(2, maxTicks));
  const values: number[] = [];
  if (step >= DAY) {
    // Local midnights (DST-safe: walk calendar days).
    const d = new Date(min);
    d.setHours(0, 0, 0, 0);
    if (d.getTime() < min) d.setDate(d.getDate() + 1);
    const days = step / DAY;
    while (d.getTime() <= max && values.length < 500) {
      values.push(d.getTime());
      d.setDate(d.getDate() + days);
    }
  } else {
    const off = tzOffset(min);
    let t = Math.ceil((min + off) / step) * step - off;
    while (t <= max && values.length < 500) {
      values.push(t);
      t += step;
    }
  }
  return { values, step };
}

const fmtSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const fmtMinutes = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fmtDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fmtFull = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Label for one tick, given the tick step. */
export function tickLabel(t: number, step: number): string {
  const d = new Date(t);
  if (step >= DAY || (d.getHours() === 0 && d.getMinutes() === 0 && step >= HOUR)) return fmtDay.format(d);
  if (step < MINUTE) return fmtSeconds.format(d);
  return fmtMinutes.format(d);
}

/** Full local date and time, for tooltips. */
export function fullTime(t: number): string {
  return fmtFull.format(new Date(t));
}
