// What the Jetson and Raspberry Pi panels show, worked out from metric values and series
// points. Pure data (no DOM), so it is unit-tested in node; jetson-panel.ts and pi-panel.ts
// render it.
import type { Inventory } from '../../../shared/protocol.js';
import type { SeriesPoint } from '../../../shared/live.js';

type Values = Readonly<Record<string, number>>;

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

// ---------------------------------------------------------------------------------------
// Jetson

export interface JetsonEngine {
  /** The metric segment, e.g. `nvenc`. */
  key: string;
  /** Display name, e.g. `NVENC`. */
  name: string;
  /** Powered on; null when the device does not say. */
  on: boolean | null;
  util: number | undefined;
  freq: number | undefined;
}

export interface JetsonRail {
  key: string;
  name: string;
  now: number | undefined;
  avg: number | undefined;
  max: number | undefined;
}

export interface JetsonView {
  gpu: { util: number | undefined; freq: number | undefined };
  emc: { util: number | undefined; freq: number | undefined };
  engines: JetsonEngine[];
  rails: JetsonRail[];
  board: { now: number | undefined; avg: number | undefined };
}

const ENGINE_RE = /^jetson\.engine\.([a-z0-9_]+)\.(util|freq|on)$/;
const RAIL_RE = /^power\.rail\.([a-z0-9_]+?)(?:\.(avg|max))?$/;
const GPC_RE = /^gpu\.0\.gpc\.\d+\.freq$/;
/** Rails that carry the whole board's input, by the names tegrastats gives them. */
const INPUT_RAILS = new Set(['vdd_in', 'pom_5v_in', 'vin', 'vdd_5v_in']);

/** Whether a device is a Jetson: it reports jetson.* metrics or its inventory says so. */
export function isJetson(metricNames: Iterable<string>, inventory: Inventory | undefined): boolean {
  if (inventory?.jetson && Object.keys(inventory.jetson).length > 0) return true;
  for (const n of metricNames) if (n.startsWith('jetson.')) return true;
  return false;
}

/** Whether a device is a Raspberry Pi with firmware readings (pi.* metrics). */
export function isPi(metricNames: Iterable<string>): boolean {
  for (const n of metricNames) if (n.startsWith('pi.')) return true;
  return false;
}

export function jetsonView(m: Values): JetsonView {
  const engines = new Map<string, JetsonEngine>();
  const rails = new Map<string, JetsonRail>();
  let gpcMax: number | undefined;
  for (const [name, value] of Object.entries(m)) {
    if (!Number.isFinite(value)) continue;
    const e = ENGINE_RE.exec(name);
    if (e) {
      const key = e[1]!;
      let engine = engines.get(key);
      if (!engine) engines.set(key, (engine = { key, name: engineName(key), on: null, util: undefined, freq: undefined }));
      if (e[2] === 'on') engine.on = value >= 0.5;
      else if (e[2] === 'util') engine.util = value;
      else engine.freq = value;
      continue;
    }
    const r = RAIL_RE.exec(name);
    if (r) {
      const key = r[1]!;
      let rail = rails.get(key);
      if (!rail) rails.set(key, (rail = { key, name: key.toUpperCase(), now: undefined, avg: undefined, max: undefined }));
      if (r[2] === 'avg') rail.avg = value;
      else if (r[2] === 'max') rail.max = value;
      else rail.now = value;
      continue;
    }
    if (GPC_RE.test(name)) gpcMax = Math.max(gpcMax ?? 0, value);
  }
  for (const e of engines.values()) {
    // Without an on/off reading, an engine that reports a load or a clock is running.
    if (e.on === null && (e.util !== undefined || e.freq !== undefined)) e.on = true;
  }
  const railList = [...rails.values()].sort((a, b) => byName(a.key, b.key));
  const boardNow = m['power.board'];
  return {
    gpu: { util: m['gpu.0.util'], freq: m['gpu.0.clock.gr'] ?? m['gpu.0.clock.sm'] ?? gpcMax },
    emc: { util: m['jetson.emc.util'], freq: m['jetson.emc.freq'] },
    engines: [...engines.values()].sort((a, b) => byName(a.key, b.key)),
    rails: railList,
    board: { now: boardNow, avg: boardAverage(boardNow, railList) },
  };
}

/**
 * The board's running average: the input rail's own average where the board power is that
 * rail, the sum of the rails' averages where it is their sum, else unknown.
 */
export function boardAverage(board: number | undefined, rails: readonly JetsonRail[]): number | undefined {
  if (board === undefined) return undefined;
  const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(0.005, 0.01 * Math.abs(b));
  const input = rails.find((r) => INPUT_RAILS.has(r.key) && r.now !== undefined && close(r.now, board));
  if (input) return input.avg;
  const same = rails.find((r) => r.now !== undefined && close(r.now, board));
  if (same) return same.avg;
  if (rails.length > 0 && rails.every((r) => r.now !== undefined && r.avg !== undefined)) {
    const sum = rails.reduce((s, r) => s + r.now!, 0);
    if (close(sum, board)) return rails.reduce((s, r) => s + r.avg!, 0);
  }
  return undefined;
}

function engineName(key: string): string {
  return key.replace(/_freq$/, '').toUpperCase();
}

/** "JetPack 6.2.1 · L4T R36.4.4", from whatever the inventory has. */
export function jetsonRelease(inv: Inventory | undefined): string {
  const j = inv?.jetson;
  if (!j) return '';
  const parts: string[] = [];
  if (j.jetpack) parts.push(`JetPack ${j.jetpack}`);
  if (j.l4t) parts.push(`L4T ${/^r/i.test(j.l4t) ? j.l4t : `R${j.l4t}`}`);
  return parts.join(' · ');
}

/** "MAXN (mode 0)", "15W (mode 2)" or "". */
export function powerModeLabel(inv: Inventory | undefined): string {
  const j = inv?.jetson;
  if (!j) return '';
  if (j.powerMode && j.powerModeId !== undefined) return `${j.powerMode} (mode ${j.powerModeId})`;
  if (j.powerMode) return j.powerMode;
  if (j.powerModeId !== undefined) return `mode ${j.powerModeId}`;
  return '';
}

// ---------------------------------------------------------------------------------------
// Raspberry Pi

export const PI_CONDITIONS = [
  { key: 'under_voltage', label: 'Under-voltage' },
  { key: 'freq_capped', label: 'Frequency capped' },
  { key: 'throttled', label: 'Throttled' },
  { key: 'soft_temp_limit', label: 'Soft temperature limit' },
] as const;
export type PiCondition = (typeof PI_CONDITIONS)[number]['key'];

/** now: the "now" bit is set; since-boot: only the sticky bit; ok: neither; unknown: no reading. */
export type FlagState = 'now' | 'since-boot' | 'ok' | 'unknown';

export function flagState(m: Values, condition: PiCondition): FlagState {
  const now = m[`pi.throttle.${condition}`];
  const boot = m[`pi.throttle.${condition}_since_boot`];
  if (now !== undefined && now >= 0.5) return 'now';
  if (boot !== undefined && boot >= 0.5) return 'since-boot';
  if (now === undefined && boot === undefined) return 'unknown';
  return 'ok';
}

export interface FlagTiming {
  /** Start of the latest point (sample or bucket) in which the flag was 1; null if none. */
  last: number | null;
  /** End of that point: its start plus the bucket width (equal to `last` for raw samples). */
  lastEnd: number | null;
  /**
   * Where the flag's latest unbroken run of 1s began, when that run reaches the newest point
   * (the flag is still set); null otherwise.
   */
  runStart: number | null;
  /** The run already began at the first point of the range: it started earlier still. */
  runFromRangeStart: boolean;
}

/**
 * When a flag was last set, from series points [t, mean, min, max]: a bucket whose max is
 * ≥ 1 had the flag set at some moment inside it.
 */
export function flagTiming(points: readonly SeriesPoint[], stepMs = 0): FlagTiming {
  const set = (p: SeriesPoint) => p[3] >= 0.5;
  let lastIdx = -1;
  for (let i = points.length - 1; i >= 0; i--) {
    if (set(points[i]!)) {
      lastIdx = i;
      break;
    }
  }
  if (lastIdx < 0) return { last: null, lastEnd: null, runStart: null, runFromRangeStart: false };
  const last = points[lastIdx]![0];
  let runStart: number | null = null;
  let runFromRangeStart = false;
  if (lastIdx === points.length - 1) {
    let i = lastIdx;
    while (i > 0 && set(points[i - 1]!)) i--;
    runStart = points[i]![0];
    runFromRangeStart = i === 0;
  }
  return { last, lastEnd: last + stepMs, runStart, runFromRangeStart };
}

/**
 * Sharpens a timing found in buckets with the raw points inside one bucket: for a flag still
 * set (`which` = 'run'), the bucket its run began in; otherwise the bucket it was last set in.
 */
export function refineTiming(coarse: FlagTiming, which: 'run' | 'last', inside: readonly SeriesPoint[]): FlagTiming {
  const set = (p: SeriesPoint) => p[3] >= 0.5;
  if (which === 'run') {
    if (coarse.runStart === null || inside.length === 0 || !set(inside[inside.length - 1]!)) return coarse;
    let i = inside.length - 1;
    while (i > 0 && set(inside[i - 1]!)) i--;
    return { ...coarse, runStart: inside[i]![0] };
  }
  for (let i = inside.length - 1; i >= 0; i--) {
    if (set(inside[i]!)) return { ...coarse, last: inside[i]![0], lastEnd: inside[i]![0] };
  }
  return coarse;
}

/** The badge's "when" line: "now, since 14:02 (12 min ago)", "last 09:15 (5 h ago)". */
export function flagWhen(
  state: FlagState,
  timing: FlagTiming | null,
  opts: { now: number; rangeLabel: string; format: (t: number) => string; age: (ms: number) => string },
): string {
  if (state === 'now') {
    if (!timing || timing.runStart === null) return 'now';
    const since = timing.runStart;
    // A run that covers the whole range was already set when the first point was taken.
    return `now, ${timing.runFromRangeStart ? 'at least since' : 'since'} ${opts.format(since)} (${opts.age(opts.now - since)})`;
  }
  if (state === 'since-boot') {
    if (!timing) return 'since boot';
    if (timing.last === null) return `since boot, not in ${opts.rangeLabel}`;
    const t = timing.last;
    return `since boot, last ${opts.format(t)} (${opts.age(opts.now - t)})`;
  }
  return state === 'ok' ? 'ok' : 'no reading';
}
