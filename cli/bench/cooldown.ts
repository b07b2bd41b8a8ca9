// Between trials: a pause, then a wait until the board's hottest thermal zone is back under a
// limit, so each trial starts from about the same temperature.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readText } from '../../agent/collectors/sysfs.js';
import { listThermalZones, parseMilliCelsius } from '../../agent/collectors/thermal.js';
import { formatMs } from '../experiment/summary-text.js';

/** How often the temperature is read while cooling down. */
const COOL_POLL_MS = 1000;
const DEFAULT_COOLDOWN_MAX_MS = 5 * 60_000;
/** Tegra's PMIC-Die zone reads a constant alarm level, not a temperature (as the thermal collector skips it). */
const NOT_A_MEASUREMENT = /^pmic[-_]die$/i;

export interface CooldownOptions {
  /** Pause, ms. */
  cooldown?: number;
  /** Wait until the hottest zone is at or below this, °C. */
  cooldownTemp?: number;
  /** Give up waiting after this long, ms. */
  cooldownMax?: number;
  sysRoot: string;
}


/** The pause, then the wait for the temperature; a warning when the board did not cool in time. */
export async function coolDown(opts: CooldownOptions): Promise<string | null> {
  if (opts.cooldown) await sleep(opts.cooldown);
  if (opts.cooldownTemp === undefined) return null;
  const limit = opts.cooldownTemp;
  const maxMs = opts.cooldownMax ?? DEFAULT_COOLDOWN_MAX_MS;
  const startedAt = Date.now();
  let hottest = highestTempC(opts.sysRoot);
  if (hottest === null) return `no thermal zone readable under ${join(opts.sysRoot, 'class/thermal')}: --cooldown-temp cannot wait for anything`;
  while (hottest !== null && hottest > limit) {
    const left = maxMs - (Date.now() - startedAt);
    if (left <= 0) {
      return `still ${hottest.toFixed(1)} °C after ${formatMs(Date.now() - startedAt)} of cooling (--cooldown-temp ${limit}); starting the next trial anyway (a longer --cooldown-max, or a fan, helps)`;
    }
    await sleep(Math.min(COOL_POLL_MS, left));
    hottest = highestTempC(opts.sysRoot);
  }
  return null;
}

/** The hottest thermal zone, °C; null when none can be read. */
export function highestTempC(sysRoot: string): number | null {
  let hottest: number | null = null;
  for (const zone of listThermalZones(sysRoot)) {
    if (NOT_A_MEASUREMENT.test(zone.type)) continue;
    const c = parseMilliCelsius(readText(join(zone.dir, 'temp')));
    if (c !== undefined && (hottest === null || c > hottest)) hottest = c;
  }
  return hottest;
}
