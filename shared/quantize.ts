// Values are sent and stored at the resolution their unit can honestly claim: a CPU share
// from jiffy counters is not known to 1e-14 %, and the trailing digits of a full double cost
// 6–7 bytes a value in any lossless store, where a value held to its resolution costs ~1–2
// (dashboard/store/tiers/chunk-codec.ts). Resolutions are decimal (10^-k) so a quantized value
// prints and parses back exactly.
import { unitOf, type Unit } from './catalog.js';

/** Decimal places kept per unit: sensors report milli-units, counters are whole numbers. */
export const DECIMALS_BY_UNIT: Readonly<Record<Unit, number>> = {
  '%': 2,
  bytes: 0,
  'B/s': 0,
  '°C': 3,
  W: 3,
  MHz: 3,
  load: 2,
  count: 0,
  rpm: 0,
  V: 3,
  A: 3,
  flag: 0,
  ms: 3,
  '/s': 3,
};

/** Decimals for a metric outside the catalog: enough for any sensor, still far below a double's 17. */
export const DEFAULT_DECIMALS = 6;

const decimalsCache = new Map<string, number>();

export function decimalsOf(name: string): number {
  let d = decimalsCache.get(name);
  if (d === undefined) {
    const unit = unitOf(name);
    d = unit === undefined ? DEFAULT_DECIMALS : DECIMALS_BY_UNIT[unit];
    if (decimalsCache.size < 50_000) decimalsCache.set(name, d);
  }
  return d;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/** `v` rounded to `decimals` places; values too large to scale safely are returned as they are. */
export function quantize(v: number, decimals: number): number {
  const scale = POW10[decimals]!;
  const scaled = v * scale;
  if (!Number.isFinite(scaled) || Math.abs(scaled) >= 2 ** 52) return v;
  return Math.round(scaled) / scale;
}

/** Rounds every value of a metric map in place, each to its unit's resolution. */
export function quantizeValues(m: Record<string, number>): void {
  for (const name in m) m[name] = quantize(m[name]!, decimalsOf(name));
}
