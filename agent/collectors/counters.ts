// Turning two successive readings of a kernel counter into a rate. Shared by the collectors
// whose values are differences (CPU, disk, network).
import { readText } from './sysfs.js';

/** Milliseconds from an arbitrary origin that never jump; injectable so tests can drive time. */
export type MonotonicClock = () => number;

// Wall-clock time is no base for rates: a Raspberry Pi has no RTC and steps its clock when
// NTP first syncs, which would turn one interval into hours or into a negative span.
export const monotonicMs: MonotonicClock = () => performance.now();

export const U32_RANGE = 2 ** 32;

/**
 * Increase of a kernel counter between two readings, or undefined when it cannot be known.
 *
 * A counter that went down was either reset (device re-plugged, interface re-created, CPU
 * hot-plugged) or, if it is a 32-bit counter, wrapped. Pass `mayWrap32` only when the caller
 * has evidence against a reset (e.g. the matching packet counter still went up): then a drop
 * between two values below 2^32 is unwrapped, provided the unwrapped increase is under half
 * the counter's range. A larger one cannot be told apart from a reset in one interval, and a
 * skipped value is better than a bogus spike.
 */
export function counterDelta(prev: number, cur: number, mayWrap32 = false): number | undefined {
  if (cur >= prev) return cur - prev;
  if (mayWrap32 && prev < U32_RANGE && cur < U32_RANGE) {
    const unwrapped = cur + U32_RANGE - prev;
    if (unwrapped < U32_RANGE / 2) return unwrapped;
  }
  return undefined;
}

/**
 * Increase of a counter that wraps to 0 at `range` (RAPL's energy_uj wraps at
 * max_energy_range_uj), or undefined when it cannot be known. A drop is read as one wrap only
 * when the unwrapped increase is under half the range, for the reason given at counterDelta;
 * readings outside the range are not this counter's and give undefined.
 */
export function wrappingDelta(prev: number, cur: number, range: number): number | undefined {
  if (cur >= prev) return cur - prev;
  if (!(range > 0) || prev >= range || cur < 0) return undefined;
  const unwrapped = cur + range - prev;
  return unwrapped < range / 2 ? unwrapped : undefined;
}

/** `delta` units over `elapsedMs` as units per second. */
export function perSecond(delta: number, elapsedMs: number): number {
  return (delta * 1000) / elapsedMs;
}

/**
 * A counter file read once per tick, with the time since the previous good read: what every
 * rate needs. After a failed read the next one starts a fresh interval rather than dividing
 * two intervals' worth of counts by one.
 */
export class TimedCounterFile {
  private prevAt: number | undefined;

  constructor(
    readonly path: string,
    private readonly clock: MonotonicClock,
  ) {}

  /** The file's text and ms since the previous good read (0 on the first), or undefined. */
  read(): { text: string; elapsedMs: number } | undefined {
    const text = readText(this.path);
    const at = this.clock();
    if (text === undefined) {
      this.prevAt = undefined;
      return undefined;
    }
    const elapsedMs = this.prevAt === undefined ? 0 : at - this.prevAt;
    this.prevAt = at;
    return { text, elapsedMs };
  }
}
