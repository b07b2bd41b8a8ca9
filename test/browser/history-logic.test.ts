// The history view's pure logic, without a browser: windows in the hash, zoom and pan steps,
// custom-range inputs, comparing two ranges, export links and the words for tiers.
import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../shared/live.js';
import { compareOffset, compareStart, compareWindow, parseCompareDate, presetFor, shiftSeries } from '../../dashboard/web/src/history-compare.js';
import { exportFileName, exportUrl } from '../../dashboard/web/src/history-export.js';
import { formatRetention, formatStep, tierLabel, tierWidthMs } from '../../dashboard/web/src/history-format.js';
import { historyHref } from '../../dashboard/web/src/history-href.js';
import {
  canPanLater,
  DAY_MS,
  experimentWindow,
  fromLocalInput,
  HOUR_MS,
  MAX_SPAN_MS,
  MIN_SPAN_MS,
  MINUTE_MS,
  panWindow,
  parseRangeInputs,
  parseWindowQuery,
  toLocalInput,
  utcOffsetLabel,
  windowQuery,
  zoomInWindow,
  zoomOutWindow,
  zoomWindow,
} from '../../dashboard/web/src/history-range.js';
import { parseRoute } from '../../dashboard/web/src/router.js';

const NOW = Date.UTC(2025, 5, 3, 12, 0, 0);
const HOUR_AGO = { from: NOW - HOUR_MS, to: NOW };

describe('windows in the hash', () => {
  it('reads from/to/vs and writes them back', () => {
    const q = new URLSearchParams('from=1000&to=61000&vs=500');
    expect(parseWindowQuery(q)).toEqual({ window: { from: 1000, to: 61000 }, vs: 500 });
    expect(parseWindowQuery(windowQuery({ from: 1000, to: 61000 }, 500))).toEqual({ window: { from: 1000, to: 61000 }, vs: 500 });
    expect(windowQuery({ from: 1000.4, to: 61000.6 }).toString()).toBe('from=1000&to=61001');
  });

  it('drops what is not a window: missing or reversed ends, non-integers, an endless span, a vs without a window', () => {
    for (const bad of ['from=5', 'to=5', 'from=9&to=5', 'from=5&to=5', 'from=1e12&to=2e12', 'from=-5&to=5', 'from=1.5&to=9', `from=0&to=${MAX_SPAN_MS + 1}`, 'vs=100']) {
      expect(parseWindowQuery(new URLSearchParams(bad)), bad).toEqual({});
    }
    // vs equal to from compares a range with itself: not a comparison.
    expect(parseWindowQuery(new URLSearchParams('from=5&to=9&vs=5'))).toEqual({ window: { from: 5, to: 9 } });
    expect(parseWindowQuery(new URLSearchParams('from=5&to=9&vs=x'))).toEqual({ window: { from: 5, to: 9 } });
  });

  it('routes a device hash with a window, keeps ?range= working, and has a storage route', () => {
    expect(parseRoute('#/device/pi?from=1000&to=9000&vs=200')).toEqual({ page: 'device', id: 'pi', range: 'live', window: { from: 1000, to: 9000 }, vs: 200 });
    expect(parseRoute('#/device/pi?range=6h')).toEqual({ page: 'device', id: 'pi', range: '6h' });
    expect(parseRoute('#/device/pi?range=6h&from=9&to=5')).toEqual({ page: 'device', id: 'pi', range: '6h' });
    expect(parseRoute('#/storage')).toEqual({ page: 'storage' });
    expect(parseRoute('#/storage/')).toEqual({ page: 'storage' });
  });

  it('round-trips a view through historyHref', () => {
    for (const id of ['pi', 'a b/c?d&from=1']) {
      const w = { from: NOW - HOUR_MS, to: NOW };
      expect(parseRoute(historyHref(id, { range: 'live', window: w, vs: w.from - DAY_MS }))).toEqual({ page: 'device', id, range: 'live', window: w, vs: w.from - DAY_MS });
      expect(parseRoute(historyHref(id, { range: 'live', window: w }))).toEqual({ page: 'device', id, range: 'live', window: w });
      expect(parseRoute(historyHref(id, { range: '24h' }))).toEqual({ page: 'device', id, range: '24h' });
      expect(historyHref(id, { range: '24h', vs: 5 })).not.toContain('vs=');
    }
  });
});

describe('zoom and pan', () => {
  it('turns a drag into a window, either way round, at least MIN_SPAN_MS wide', () => {
    expect(zoomWindow(NOW - 5 * MINUTE_MS, NOW - 2 * MINUTE_MS)).toEqual({ from: NOW - 5 * MINUTE_MS, to: NOW - 2 * MINUTE_MS });
    expect(zoomWindow(NOW - 2 * MINUTE_MS, NOW - 5 * MINUTE_MS)).toEqual({ from: NOW - 5 * MINUTE_MS, to: NOW - 2 * MINUTE_MS });
    const tiny = zoomWindow(NOW - 2000, NOW);
    expect(tiny.to - tiny.from).toBe(MIN_SPAN_MS);
    expect((tiny.from + tiny.to) / 2).toBe(NOW - 1000);
  });

  it('pans by half a window, never past now', () => {
    expect(panWindow(HOUR_AGO, -1, NOW)).toEqual({ from: NOW - 1.5 * HOUR_MS, to: NOW - 0.5 * HOUR_MS });
    const back = { from: NOW - 3 * HOUR_MS, to: NOW - 2 * HOUR_MS };
    expect(panWindow(back, 1, NOW)).toEqual({ from: NOW - 2.5 * HOUR_MS, to: NOW - 1.5 * HOUR_MS });
    // Half a window later would end in the future: it ends now instead.
    expect(panWindow({ from: NOW - 80 * MINUTE_MS, to: NOW - 20 * MINUTE_MS }, 1, NOW)).toEqual(HOUR_AGO);
    expect(canPanLater(HOUR_AGO, NOW)).toBe(false);
    expect(canPanLater(back, NOW)).toBe(true);
  });

  it('zooms out around the middle, shifted back when it would end in the future, and zooms in', () => {
    const w = { from: NOW - 4 * HOUR_MS, to: NOW - 2 * HOUR_MS };
    expect(zoomOutWindow(w, NOW)).toEqual({ from: NOW - 5 * HOUR_MS, to: NOW - HOUR_MS });
    expect(zoomOutWindow(HOUR_AGO, NOW)).toEqual({ from: NOW - 2 * HOUR_MS, to: NOW });
    const widest = zoomOutWindow({ from: NOW - MAX_SPAN_MS, to: NOW }, NOW);
    expect(widest.to - widest.from).toBe(MAX_SPAN_MS);
    expect(zoomInWindow(w)).toEqual({ from: NOW - 3.5 * HOUR_MS, to: NOW - 2.5 * HOUR_MS });
    const narrowest = zoomInWindow({ from: NOW - 12_000, to: NOW });
    expect(narrowest.to - narrowest.from).toBe(MIN_SPAN_MS);
  });

  it('frames an experiment with 5 % either side, a running one up to now', () => {
    expect(experimentWindow(NOW - 100 * MINUTE_MS, NOW - 0 * MINUTE_MS, NOW)).toEqual({ from: NOW - 105 * MINUTE_MS, to: NOW + 5 * MINUTE_MS });
    expect(experimentWindow(NOW - 40_000, null, NOW)).toEqual({ from: NOW - 45_000, to: NOW + 5000 });
    const blip = experimentWindow(NOW - 10, NOW - 10, NOW);
    expect(blip.to - blip.from).toBe(MIN_SPAN_MS);
  });
});

describe('custom range inputs (local time)', () => {
  it('round-trips datetime-local values in the local zone', () => {
    const t = new Date(2025, 0, 31, 23, 45).getTime();
    expect(toLocalInput(t)).toBe('2025-01-31T23:45');
    expect(fromLocalInput('2025-01-31T23:45')).toBe(t);
    expect(fromLocalInput('2025-01-31T23:45:30')).toBe(t + 30_000);
    expect(fromLocalInput('2025-01-31T23:45:30.5')).toBe(t + 30_500);
  });

  it('refuses what is not a date and time', () => {
    for (const bad of ['', 'yesterday', '2025-02-30T10:00', '2025-13-01T10:00', '2025-01-01T24:00', '2025-01-01T10:60', '2025-01-01', '1e12']) {
      expect(fromLocalInput(bad), bad).toBeNull();
    }
  });

  it('names the zone the inputs are in', () => {
    expect(utcOffsetLabel(NOW)).toMatch(/^UTC[+−]\d\d:\d\d$/);
  });

  it('accepts a range in the past and says what is wrong with any other', () => {
    const from = toLocalInput(NOW - 2 * DAY_MS);
    const to = toLocalInput(NOW - DAY_MS);
    expect(parseRangeInputs(from, to, NOW)).toEqual({ ok: true, window: { from: fromLocalInput(from), to: fromLocalInput(to) } });
    expect(parseRangeInputs('', to, NOW)).toMatchObject({ ok: false, field: 'from', message: 'Enter a start date and time.' });
    expect(parseRangeInputs(from, '', NOW)).toMatchObject({ ok: false, field: 'to', message: 'Enter an end date and time.' });
    expect(parseRangeInputs('soon', to, NOW)).toMatchObject({ ok: false, field: 'from', message: expect.stringContaining('“soon” is not a date and time') });
    expect(parseRangeInputs(to, from, NOW)).toMatchObject({ ok: false, field: 'to', message: expect.stringContaining('must be after the start') });
    expect(parseRangeInputs(from, from, NOW)).toMatchObject({ ok: false, field: 'to' });
    expect(parseRangeInputs(toLocalInput(NOW + DAY_MS), toLocalInput(NOW + 2 * DAY_MS), NOW)).toMatchObject({ ok: false, field: 'from', message: expect.stringContaining('in the future') });
    expect(parseRangeInputs('2000-01-01T00:00', to, NOW)).toMatchObject({ ok: false, message: expect.stringMatching(/^The range is \d+ days long; at most \d+ days/) });
  });
});

describe('comparing two ranges', () => {
  const pts: SeriesPoint[] = [
    [NOW - DAY_MS - HOUR_MS, 1, 0, 2],
    [NOW - DAY_MS, 3, 3, 3],
  ];

  it('starts range B per preset and recognises the preset back', () => {
    expect(compareStart(HOUR_AGO, 'previous')).toBe(NOW - 2 * HOUR_MS);
    expect(compareStart(HOUR_AGO, 'day')).toBe(NOW - HOUR_MS - DAY_MS);
    expect(compareStart(HOUR_AGO, 'week')).toBe(NOW - HOUR_MS - 7 * DAY_MS);
    for (const p of ['previous', 'day', 'week'] as const) expect(presetFor(HOUR_AGO, compareStart(HOUR_AGO, p))).toBe(p);
    expect(presetFor(HOUR_AGO, NOW - 5 * HOUR_MS)).toBeNull();
    expect(compareWindow(HOUR_AGO, NOW - 5 * HOUR_MS)).toEqual({ from: NOW - 5 * HOUR_MS, to: NOW - 4 * HOUR_MS });
  });

  it('shifts B onto A’s axis without touching the values', () => {
    const vs = compareStart(HOUR_AGO, 'day');
    const shifted = shiftSeries({ 'cpu.util': pts }, compareOffset(HOUR_AGO, vs));
    expect(shifted['cpu.util']).toEqual([
      [NOW - HOUR_MS, 1, 0, 2],
      [NOW, 3, 3, 3],
    ]);
    expect(pts[0]![0]).toBe(NOW - DAY_MS - HOUR_MS);
  });

  it('checks a chosen start for B', () => {
    expect(parseCompareDate(toLocalInput(NOW - 3 * DAY_MS), HOUR_AGO, NOW)).toEqual({ ok: true, vs: fromLocalInput(toLocalInput(NOW - 3 * DAY_MS)) });
    expect(parseCompareDate('', HOUR_AGO, NOW)).toMatchObject({ ok: false });
    expect(parseCompareDate('2025-02-30T00:00', HOUR_AGO, NOW)).toMatchObject({ ok: false, message: expect.stringContaining('not a date and time') });
    expect(parseCompareDate(toLocalInput(NOW + HOUR_MS), HOUR_AGO, NOW)).toMatchObject({ ok: false, message: expect.stringContaining('future') });
  });
});

describe('export links', () => {
  it('builds the export API URL with URLSearchParams, escaping the id and listing each metric once', () => {
    const url = exportUrl('lab pi/1', { format: 'ndjson', window: { from: 1000.7, to: 2000.2 }, metrics: ['cpu.util', 'mem.used', 'cpu.util'], tier: '1m' });
    expect(url.startsWith('api/v1/devices/lab%20pi%2F1/export?')).toBe(true);
    const q = new URL(url, 'http://hub/').searchParams;
    expect(Object.fromEntries(q)).toEqual({ format: 'ndjson', from: '1000', to: '2001', metrics: 'cpu.util,mem.used', tier: '1m' });
    const all = new URL(exportUrl('pi', { format: 'csv', window: HOUR_AGO, metrics: [] }), 'http://hub/').searchParams;
    expect([...all.keys()]).toEqual(['format', 'from', 'to']);
  });

  it('names the file after the device and the window, with characters any file system takes', () => {
    const name = exportFileName('../evil<id>', { format: 'csv', window: { from: new Date(2025, 5, 3, 10, 0).getTime(), to: new Date(2025, 5, 3, 11, 30).getTime() } });
    expect(name).toBe('edgewatch-evil_id_-20250603-1000-20250603-1130.csv');
  });
});

describe('tier words', () => {
  it('labels the tier that answered, with its band and step', () => {
    expect(tierLabel('raw', 0)).toBe('Raw samples');
    expect(tierLabel('raw', 30_000)).toBe('Raw samples (min–max band) · 30 s per point');
    expect(tierLabel('1m', 60_000)).toBe('1-minute rollups (min–max band) · 1 min per point');
    expect(tierLabel('1m', 0)).toBe('1-minute rollups (min–max band) · 1 min per point');
    expect(tierLabel('1h', 6 * HOUR_MS)).toBe('1-hour rollups (min–max band) · 6 h per point');
    expect(tierLabel(undefined, 0)).toBe('Raw samples');
    expect(tierLabel(undefined, 5 * MINUTE_MS)).toBe('5 min per point (min–max band)');
    expect([tierWidthMs('raw'), tierWidthMs('1m'), tierWidthMs('1h'), tierWidthMs(undefined)]).toEqual([0, MINUTE_MS, HOUR_MS, 0]);
  });

  it('says how long retention and steps are', () => {
    expect(formatRetention(7 * DAY_MS)).toBe('7 days');
    expect(formatRetention(90 * DAY_MS)).toBe('90 days');
    expect(formatRetention(730 * DAY_MS)).toBe('2 years');
    expect(formatRetention(365 * DAY_MS)).toBe('1 year');
    expect(formatRetention(36 * HOUR_MS)).toBe('36 hours');
    expect([formatStep(500), formatStep(5000), formatStep(10 * MINUTE_MS), formatStep(90 * MINUTE_MS), formatStep(2 * DAY_MS)]).toEqual(['500 ms', '5 s', '10 min', '1.5 h', '2 d']);
  });
});
