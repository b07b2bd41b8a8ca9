import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sampler } from '../../agent/sampler.js';
import type { Collector } from '../../agent/collectors/collector.js';
import { silentLogger } from '../../shared/log.js';
import { decimalsOf, quantize, quantizeValues } from '../../shared/quantize.js';

describe('values held to their unit’s resolution', () => {
  it('knows the resolution of catalog metrics by unit, and a fine default for others', () => {
    expect(decimalsOf('cpu.util')).toBe(2);
    expect(decimalsOf('cpu.core.3.util')).toBe(2);
    expect(decimalsOf('mem.used')).toBe(0);
    expect(decimalsOf('net.eth0.rx_bps')).toBe(0);
    expect(decimalsOf('gpu.0.power')).toBe(3);
    expect(decimalsOf('temp.cpu')).toBe(3);
    expect(decimalsOf('not.in.catalog')).toBe(6);
  });

  it('rounds to the nearest step, is idempotent, and leaves values too large to scale alone', () => {
    expect(quantize(23.456789012345, 2)).toBe(23.46);
    expect(quantize(-0.004, 2)).toBe(-0);
    expect(quantize(1234567.5, 0)).toBe(1234568);
    expect(quantize(1e300, 3)).toBe(1e300);
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 6 }), (v, k) => {
        const q = quantize(v, k);
        expect(Math.abs(q - v)).toBeLessThanOrEqual(0.5 * 10 ** -k * (1 + 1e-9) + Math.abs(v) * 1e-15);
        expect(quantize(q, k)).toBe(q);
      }),
    );
  });

  it('is applied by the sampler to every value it sends', async () => {
    const collector: Collector = {
      name: 'fake',
      sample: (_now, out) => {
        out['cpu.util'] = 100 / 3;
        out['net.eth0.rx_bps'] = 12345.678;
        out['gpu.0.power'] = 71.23456;
      },
    };
    const sampler = new Sampler([collector], 1000, silentLogger(), () => {});
    const sample = await sampler.sampleOnce(1000);
    expect(sample.m).toEqual({ 'cpu.util': 33.33, 'net.eth0.rx_bps': 12346, 'gpu.0.power': 71.235 });
    const m = { x: 0.1 + 0.2 };
    quantizeValues(m);
    expect(m.x).toBe(0.3);
  });
});
