// The storage benchmark's simulated fleet: same seed, same samples; realistic size; only
// catalog metrics; values finite and held to their unit's resolution, as the agent sends them.
import { describe, expect, it } from 'vitest';
import { createFleet, DEVICE_KINDS, grainOf } from '../../bench/storage-workload.js';
import { describeMetric } from '../../shared/catalog.js';
import { decimalsOf, quantize } from '../../shared/quantize.js';
import type { Sample } from '../../shared/protocol.js';

const START = Date.UTC(2026, 0, 5);
/** Ten minutes of every kind: long enough for bursts, DVFS steps and models to come and go. */
const SECONDS = 600;

function run(seed: number, devices = DEVICE_KINDS.length): Sample[][] {
  const fleet = createFleet({ devices, seed, startMs: START });
  return fleet.map((d) => Array.from({ length: SECONDS }, () => d.next()));
}

describe('storage workload', () => {
  const streams = run(7);

  it('gives the same samples for the same seed, and others for another seed', () => {
    // As text: a deep comparison of 4,200 samples takes seconds, a string compare none.
    expect(JSON.stringify(run(7)) === JSON.stringify(streams)).toBe(true);
    expect(run(8)[0]![100]).not.toEqual(streams[0]![100]);
  });

  it('sends about 120 values per sample across the fleet, every kind well filled', () => {
    const perKind = streams.map((s) => s.reduce((n, x) => n + Object.keys(x.m).length, 0) / s.length);
    const mean = perKind.reduce((a, b) => a + b, 0) / perKind.length;
    expect(mean).toBeGreaterThan(105);
    expect(mean).toBeLessThan(135);
    for (const n of perKind) {
      expect(n).toBeGreaterThan(60);
      expect(n).toBeLessThan(160);
    }
  });

  it('names only catalog metrics', () => {
    const names = new Set(streams.flatMap((s) => s.flatMap((x) => Object.keys(x.m))));
    const unknown = [...names].filter((n) => describeMetric(n) === null);
    expect(unknown).toEqual([]);
  });

  it('sends finite values already quantized to their unit', () => {
    const bad: string[] = [];
    for (const stream of streams) {
      for (const { m } of stream) {
        for (const name in m) {
          const v = m[name]!;
          if (!Number.isFinite(v) || quantize(v, decimalsOf(name)) !== v) bad.push(`${name}=${v}`);
        }
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('times samples on the agent grid: whole seconds + ~300 ms, a few ms of jitter, 1 Hz', () => {
    for (const stream of streams) {
      stream.forEach((s, i) => {
        const offset = s.t - START - i * 1000;
        expect(offset).toBeGreaterThanOrEqual(300 - 15);
        expect(offset).toBeLessThan(300 + 15 + 81);
      });
    }
  });

  it('keeps signals moving but not white: temperatures mostly hold between seconds', () => {
    const temps = streams[0]!.map((s) => s.m['temp.cpu']!);
    const changes = temps.slice(1).filter((v, i) => v !== temps[i]).length;
    expect(changes).toBeGreaterThan(10);
    expect(changes).toBeLessThan(temps.length - 1);
    expect(new Set(streams[0]!.map((s) => s.m['mem.total'])).size).toBe(1);
  });

  it('finds the resolution a capture is printed at', () => {
    expect(grainOf([53.968, 52.437, 50.75], '°C')).toBe(1 / 32);
    expect(grainOf([15, 11, 14], '%')).toBe(1);
    expect(grainOf([694.81, 693.08], 'W')).toBe(0.01);
    expect(grainOf([6185 * 1_048_576], 'bytes')).toBe(1_048_576);
  });
});
