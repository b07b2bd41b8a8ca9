// The Raspberry Pi's power trouble: a weak USB supply sags under load, the firmware flags
// under-voltage and caps the ARM clock, and the "since boot" bits stay set after the supply
// recovers. What get_throttled reports, bit for bit (bits 0–3 now, 16–19 since boot), so the
// Pi panel's red (now) and amber (since boot) badges follow the real decoding.

import { throttleMetrics } from '../agent/parsers/vcgencmd/throttled.js';

export interface Episode {
  /** Wall clock, ms. */
  readonly from: number;
  readonly to: number;
}

const UNDER_VOLTAGE = 1 << 0;
const FREQ_CAPPED = 1 << 1;
const THROTTLED = 1 << 2;
const SINCE_BOOT_SHIFT = 16;

/** Live episodes: the first 45 s of every 10 minutes after `liveFrom` (the demo opens on one). */
export function liveEpisodes(liveFrom: number, periodMs = 600_000, lengthMs = 45_000): (t: number) => Episode | null {
  return (t) => {
    if (t < liveFrom) return null;
    const from = liveFrom + Math.floor((t - liveFrom) / periodMs) * periodMs;
    return { from, to: from + lengthMs };
  };
}

/**
 * Sets the sample's pi.throttle.* flags (and the capped ARM clock) for time `t`. `bootAt` is
 * when the simulated board booted; the since-boot bits remember every episode after it.
 */
export function applyThrottle(m: Record<string, number>, t: number, episodes: readonly Episode[], live: (t: number) => Episode | null, bootAt: number): void {
  const now = [...episodes, live(t)].some((e) => e !== null && t >= e.from && t < e.to);
  const before = [...episodes, live(t)].some((e) => e !== null && e.from >= bootAt && e.from <= t);
  const bits = (now ? UNDER_VOLTAGE | FREQ_CAPPED | THROTTLED : 0) | (before ? (UNDER_VOLTAGE | FREQ_CAPPED | THROTTLED) << SINCE_BOOT_SHIFT : 0);
  // The agent's own decoding of get_throttled, so the flags are named as a real Pi's are.
  Object.assign(m, throttleMetrics(bits));
  // Capped: the firmware holds the ARM at its lowest level (600 MHz on a Pi 4) until power is back.
  if (now && m['pi.clock.arm'] !== undefined) m['pi.clock.arm'] = 600;
  if (now && m['cpu.freq'] !== undefined) m['cpu.freq'] = 600;
}
