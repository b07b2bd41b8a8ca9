// Where the sampler's ticks fall: GRID_PHASE_MS after whole multiples of the interval on the
// wall clock, the first one at least half an interval after the priming tick.
import { describe, expect, it } from 'vitest';
import { firstSlotDelay, GRID_PHASE_MS } from '../../agent/sampler.js';

describe('firstSlotDelay', () => {
  const second = Date.UTC(2026, 10, 28, 5, 0, 7); // a whole second

  it('lands on the next whole interval plus the phase', () => {
    for (const [offset, interval] of [
      [0, 1000],
      [120, 1000],
      [299, 1000],
      [301, 1000],
      [999, 1000],
      [0, 500],
      [410, 500],
      [1234, 2000],
      [7, 5000],
    ] as const) {
      const now = second + offset;
      const delay = firstSlotDelay(now, interval);
      expect(((now + delay - GRID_PHASE_MS) % interval + interval) % interval, `offset ${offset}, interval ${interval}`).toBe(0);
      expect(delay).toBeGreaterThanOrEqual(interval / 2);
      expect(delay).toBeLessThan(interval * 1.5);
    }
  });

  it('skips a slot that would come only a few milliseconds after the priming tick', () => {
    expect(firstSlotDelay(second + GRID_PHASE_MS - 5, 1000)).toBe(1005);
    expect(firstSlotDelay(second + GRID_PHASE_MS + 5, 1000)).toBe(995);
  });
});
