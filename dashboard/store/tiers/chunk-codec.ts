// Sealed windows, stored column-wise as Gorilla-style stores do, but tuned for what agents
// send: values held to their unit's decimal resolution (shared/quantize.ts).
//
// - Times (one column per device window, shared by all its metrics): first time, first delta,
//   then delta-of-delta as zigzag varints. Ticks land on whole seconds + ~300 ms with a few ms
//   of jitter, so nearly every entry is one byte.
// - Values (one column per metric): if every value of the window is an exact decimal with
//   k ≤ 6 places, the integers v·10^k are stored as zigzag deltas (a flat or slowly moving
//   signal is one byte a value, then deflate shrinks runs); otherwise each float64 is XORed
//   with the previous one (Gorilla's insight: neighbours share sign, exponent and high
//   mantissa bits, so the XOR is mostly zero bytes) and left to deflate.
// - A metric absent from some samples of the window carries a presence bitmap.
// Every column is raw-deflated; the first byte says how it was encoded.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ByteReader, ByteWriter } from './byte-io.js';

const RAW_F64 = 15;
const HAS_BITMAP = 1;
const MAX_DECIMALS = 6;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];
/** Scaled integers stay well inside 2^53 so deltas and zigzag stay exact. */
const MAX_SCALED = 2 ** 50;

const writer = new ByteWriter(64 * 1024);

export function encodeTimes(times: ArrayLike<number>): Buffer {
  writer.reset();
  putTimes(writer, times);
  return deflateRawSync(writer.view());
}

export function decodeTimes(blob: Buffer): number[] {
  return getTimes(new ByteReader(inflateRawSync(blob)));
}

/** Writes a time column, uncompressed (for blobs that hold several columns, deflated once). */
export function putTimes(writer: ByteWriter, times: ArrayLike<number>): void {
  writer.uvarint(times.length);
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (i === 0) writer.uvarint(t);
    else {
      const delta = t - prev;
      writer.svarint(delta - prevDelta);
      prevDelta = delta;
    }
    prev = t;
  }
}

export function getTimes(r: ByteReader): number[] {
  const n = r.uvarint();
  const out = new Array<number>(n);
  let prev = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) prev = r.uvarint();
    else {
      delta += r.svarint();
      prev += delta;
    }
    out[i] = prev;
  }
  return out;
}

/** Fewest decimal places that represent every value exactly, or -1 when none up to MAX_DECIMALS does. */
function decimalsFor(values: ArrayLike<number>, present: (i: number) => boolean, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!present(i)) continue;
    const v = values[i]!;
    while (k <= MAX_DECIMALS && !exactAt(v, k)) k++;
    if (k > MAX_DECIMALS) return -1;
  }
  // A value checked at a smaller k may not fit at the final one (its scaled form grows).
  for (let i = 0; i < n; i++) if (present(i) && !exactAt(values[i]!, k)) return -1;
  return k;
}

function exactAt(v: number, k: number): boolean {
  // -0 would come back as 0 from an integer: leave such a column to the float encoding.
  if (Object.is(v, -0)) return false;
  const scaled = Math.round(v * POW10[k]!);
  return Math.abs(scaled) < MAX_SCALED && scaled / POW10[k]! === v;
}

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);

/**
 * One metric's values over a window of `n` samples: `values[i]` belongs to the window's i-th
 * time and is NaN where the metric is absent.
 */
export function encodeColumn(values: ArrayLike<number>, n: number): Buffer {
  writer.reset();
  putColumn(writer, values, n);
  return deflateRawSync(writer.view());
}

/** The values of a column, NaN where absent; `n` must be the window's sample count. */
export function decodeColumn(blob: Buffer, n: number): Float64Array {
  return getColumn(new ByteReader(inflateRawSync(blob)), n);
}

/** Writes a value column, uncompressed (see putTimes). */
export function putColumn(writer: ByteWriter, values: ArrayLike<number>, n: number): void {
  let present = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i]!)) present++;
  const isPresent = (i: number): boolean => !Number.isNaN(values[i]!);
  const k = decimalsFor(values, isPresent, n);
  writer.u8(((k < 0 ? RAW_F64 : k) << 4) | (present < n ? HAS_BITMAP : 0));
  writer.uvarint(n);
  if (present < n) {
    for (let i = 0; i < n; i += 8) {
      let byte = 0;
      for (let b = 0; b < 8 && i + b < n; b++) if (isPresent(i + b)) byte |= 1 << b;
      writer.u8(byte);
    }
  }
  if (k >= 0) {
    const scale = POW10[k]!;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      if (!isPresent(i)) continue;
      const scaled = Math.round(values[i]! * scale);
      writer.svarint(scaled - prev);
      prev = scaled;
    }
  } else {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      if (!isPresent(i)) continue;
      f64[0] = values[i]!;
      writer.u32(words[0]! ^ lo);
      writer.u32(words[1]! ^ hi);
      lo = words[0]!;
      hi = words[1]!;
    }
  }
}

export function getColumn(r: ByteReader, n: number): Float64Array {
  const head = r.u8();
  const stored = r.uvarint();
  if (stored !== n) throw new Error(`column holds ${stored} samples but its window has ${n}`);
  const out = new Float64Array(n).fill(NaN);
  let bitmap: Buffer | null = null;
  if (head & HAS_BITMAP) bitmap = r.slice(Math.ceil(n / 8));
  const isPresent = (i: number): boolean => bitmap === null || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  const k = head >> 4;
  if (k === RAW_F64) {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      if (!isPresent(i)) continue;
      lo ^= r.u32();
      hi ^= r.u32();
      words[0] = lo;
      words[1] = hi;
      out[i] = f64[0]!;
    }
  } else if (k <= MAX_DECIMALS) {
    const scale = POW10[k]!;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      if (!isPresent(i)) continue;
      prev += r.svarint();
      out[i] = prev / scale;
    }
  } else {
    throw new Error(`unknown column encoding ${k}`);
  }
  return out;
}
