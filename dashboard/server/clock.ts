// Device clocks. A Raspberry Pi without an RTC boots in 1970 until NTP syncs; a lab box may be
// hours off. The hub estimates each device's offset (device clock − hub clock) from the agent's
// send time of each batch (`sentAt`, or the hello's `clock`) against its own receive time, and
// when the device is far off stores samples on the hub's timeline instead (t − offset).
import type { Sample } from '../../shared/protocol.js';

/** A device this far off (either way) has its sample times corrected onto the hub's clock. */
export const CORRECT_BEYOND_MS = 2 * 60_000;
/** After correction, a sample more than this far in the hub's future is refused. */
export const MAX_FUTURE_MS = 10 * 60_000;
/** A reading this far from the estimate is a clock step (NTP sync, manual set): follow it at once. */
export const STEP_MS = 5_000;
/** Weight of a new reading in the running estimate (exponential smoothing). */
export const SMOOTHING = 0.2;
/** Corrections are whole seconds: stable sample times, per-second inference rows stay aligned. */
const CORRECTION_STEP_MS = 1000;

/**
 * Running estimate of one device's clock offset. Each reading is sentAt − receivedAt (device −
 * hub, so ahead is positive; biased low by the one-way network delay, milliseconds on a LAN).
 * Small differences are smoothed; a difference over STEP_MS replaces the estimate outright, so a
 * device whose NTP finally syncs is followed by its very next batch.
 */
export class ClockEstimator {
  private estimate: number | null;

  constructor(initialOffsetMs: number | null = null) {
    this.estimate = initialOffsetMs;
  }

  /** Adds a reading and returns the new estimate (ms). `stepped` tells a jump was followed. */
  observe(sentAt: number, receivedAt: number): { offsetMs: number; stepped: boolean } {
    const raw = sentAt - receivedAt;
    const prev = this.estimate;
    const stepped = prev !== null && Math.abs(raw - prev) > STEP_MS;
    this.estimate = prev === null || stepped ? raw : prev + SMOOTHING * (raw - prev);
    return { offsetMs: Math.round(this.estimate), stepped };
  }

  get offsetMs(): number | null {
    return this.estimate === null ? null : Math.round(this.estimate);
  }
}

/** What to subtract from this device's sample times: 0 unless it is more than 2 minutes off. */
export function correctionFor(offsetMs: number | null): number {
  if (offsetMs === null || Math.abs(offsetMs) <= CORRECT_BEYOND_MS) return 0;
  return Math.round(offsetMs / CORRECTION_STEP_MS) * CORRECTION_STEP_MS;
}

/** Samples moved onto the hub's clock (t − correction), with their inference and experiment times. */
export function correctSamples(samples: Sample[], correction: number): Sample[] {
  if (correction === 0) return samples;
  const shift = (t: number): number => Math.max(0, t - correction);
  return samples.map((s) => ({
    ...s,
    t: shift(s.t),
    ...(s.i ? { i: s.i.map((a) => ({ ...a, t: shift(a.t) })) } : {}),
    ...(s.e ? { e: s.e.map((e) => ({ ...e, start: shift(e.start), ...(typeof e.end === 'number' ? { end: shift(e.end) } : {}) })) } : {}),
  }));
}

/** Samples (already corrected) that lie more than MAX_FUTURE_MS in the hub's future. */
export function futureSamples(samples: readonly Sample[], hubNow: number): number {
  let n = 0;
  for (const s of samples) if (s.t > hubNow + MAX_FUTURE_MS) n++;
  return n;
}
