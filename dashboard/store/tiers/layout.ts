// How history is cut up. Raw samples are sealed per device in fixed windows; rollups are kept
// per metric in blocks of buckets. All boundaries are multiples of their size since the epoch
// (device clock), so a time maps to its window or block by arithmetic alone.
import type { StorageTier } from '../../../shared/live.js';

/** Raw samples of one device are sealed in windows of this length. */
export const WINDOW_MS = 15 * 60_000;

export interface RollupTier {
  tier: Exclude<StorageTier, 'raw'>;
  /** Bucket width, ms (the `res` column of `rollups`). */
  res: number;
  /** Buckets are stored in blocks of this span, one blob per metric. */
  blockMs: number;
}

/**
 * Every seal rewrites the block its window falls in, once per metric, so a block's size is what
 * a seal costs: 120 minutes or 48 hours keep that small, while still holding enough buckets to
 * compress well and few enough rows for a two-year chart.
 */
export const ROLLUP_TIERS: readonly RollupTier[] = [
  { tier: '1m', res: 60_000, blockMs: 2 * 3_600_000 },
  { tier: '1h', res: 3_600_000, blockMs: 2 * 24 * 3_600_000 },
];

export function rollupTier(tier: Exclude<StorageTier, 'raw'>): RollupTier {
  return ROLLUP_TIERS.find((r) => r.tier === tier)!;
}

export interface RetentionSettings {
  /** How long each tier is kept, ms (against the hub's clock). */
  rawMs: number;
  minuteMs: number;
  hourMs: number;
  /** Above this many bytes in use, the oldest data is dropped (raw first); null: no cap. */
  sizeCapBytes: number | null;
}

const DAY_MS = 24 * 3_600_000;
export const DEFAULT_RETENTION: RetentionSettings = {
  rawMs: 7 * DAY_MS,
  minuteMs: 90 * DAY_MS,
  hourMs: 730 * DAY_MS,
  sizeCapBytes: null,
};

export function retentionOf(settings: RetentionSettings, tier: StorageTier): number {
  return tier === 'raw' ? settings.rawMs : tier === '1m' ? settings.minuteMs : settings.hourMs;
}

export function floorTo(t: number, size: number): number {
  return Math.floor(t / size) * size;
}
