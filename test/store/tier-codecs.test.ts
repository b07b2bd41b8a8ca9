import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeColumn, decodeTimes, encodeColumn, encodeTimes } from '../../dashboard/store/tiers/chunk-codec.js';
import { decodeHead, encodeHead } from '../../dashboard/store/tiers/head-codec.js';
import { decodeRollup, encodeRollup } from '../../dashboard/store/tiers/rollup-codec.js';
import { ByteReader, ByteWriter } from '../../dashboard/store/tiers/byte-io.js';
import { quantize } from '../../shared/quantize.js';

const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)));

describe('chunk codec', () => {
  it('round-trips varints across the whole safe range, signed and unsigned', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 51), max: 2 ** 51 }), { maxLength: 50 }), fc.array(fc.maxSafeNat(), { maxLength: 50 }), (signed, unsigned) => {
        const w = new ByteWriter(8);
        for (const v of signed) w.svarint(v);
        for (const v of unsigned) w.uvarint(v);
        const r = new ByteReader(w.bytes());
        expect(signed.map(() => r.svarint())).toEqual(signed);
        expect(unsigned.map(() => r.uvarint())).toEqual(unsigned);
        expect(r.done).toBe(true);
      }),
    );
  });

  it('round-trips sample times exactly, including steps back and big gaps', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4_000_000_000_000 }), { maxLength: 300 }), (times) => {
        expect(decodeTimes(encodeTimes(times))).toEqual(times);
      }),
    );
  });

  it('round-trips any column bit for bit: decimals, arbitrary doubles, extremes and absent values', () => {
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -1e9, max: 1e9 }).map((i) => i / 100),
      fc.constantFrom(0, 1, 1e15, -1e-9, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53, 123456.789),
      fc.constant(NaN),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 400 }), (values) => {
        const decoded = decodeColumn(encodeColumn(values, values.length), values.length);
        expect(sameValues(decoded, values)).toBe(true);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 100) },
    );
  });

  it('keeps a quantized metric near a byte a value and refuses a column read with the wrong length', () => {
    let v = 40;
    const temps = Array.from({ length: 900 }, (_, i) => quantize((v += Math.sin(i / 30) * 0.05 + (i % 7 === 0 ? 0.25 : 0)), 3));
    const blob = encodeColumn(temps, temps.length);
    expect(blob.length / temps.length).toBeLessThan(2);
    expect(Array.from(decodeColumn(blob, temps.length))).toEqual(temps);
    expect(() => decodeColumn(blob, 899)).toThrow(/900 samples but its window has 899/);
  });

  it('throws a clear error on truncated data instead of reading garbage', () => {
    const w = new ByteWriter();
    w.uvarint(2 ** 40);
    expect(() => new ByteReader(w.bytes().subarray(0, 2)).uvarint()).toThrow(/truncated data/);
  });
});

describe('head and rollup codecs', () => {
  it('round-trips a sample row', () => {
    const ids = [1, 300, 70_000];
    const values = [0.5, -1e300, 42];
    const out: [number, number][] = [];
    decodeHead(encodeHead(ids, values), (id, v) => out.push([id, v]));
    expect(out).toEqual([
      [1, 0.5],
      [300, -1e300],
      [70_000, 42],
    ]);
  });

  it('round-trips a rollup block, sums of decimals exactly', () => {
    const t = [0, 60_000, 180_000];
    const block = { t, n: [60, 60, 12], sum: [0.1 + 0.2 + 0.3, 1234.56, 7], lo: [0.1, 10.25, 0], hi: [0.3, 30.75, 7] };
    const back = decodeRollup(encodeRollup(block));
    expect(back.t).toEqual(t);
    expect(back.n).toEqual(block.n);
    expect(back.sum).toEqual([0.6, 1234.56, 7]);
    expect(back.lo).toEqual(block.lo);
    expect(back.hi).toEqual(block.hi);
  });
});
