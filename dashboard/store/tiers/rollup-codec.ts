// One block of one metric's rollup buckets: bucket starts, and per bucket the count, sum,
// min and max of the raw values in it. Stored as five columns in chunk-codec's encodings,
// deflated together (one zlib call per block: a seal rewrites two blocks per metric).
// Sums are rounded to 6 decimals first: a sum of values held to ≤ 6 decimals is itself such a
// decimal, and the rounding removes the float noise that would force the 8-byte encoding.
import { ByteReader, ByteWriter } from './byte-io.js';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { getColumn, getTimes, putColumn, putTimes } from './chunk-codec.js';

export interface RollupBlock {
  /** Bucket starts, ascending. */
  t: number[];
  n: number[];
  sum: number[];
  lo: number[];
  hi: number[];
}

export function emptyBlock(): RollupBlock {
  return { t: [], n: [], sum: [], lo: [], hi: [] };
}

const SUM_SCALE = 1e6;
const writer = new ByteWriter(16 * 1024);

/** The five columns, uncompressed one after the other, then deflated once. */
export function encodeRollup(b: RollupBlock): Buffer {
  const len = b.t.length;
  const sums = b.sum.map((s) => (Math.abs(s) < 2 ** 52 / SUM_SCALE ? Math.round(s * SUM_SCALE) / SUM_SCALE : s));
  writer.reset();
  putTimes(writer, b.t);
  for (const col of [b.n, sums, b.lo, b.hi]) putColumn(writer, col, len);
  return deflateRawSync(writer.view());
}

export function decodeRollup(blob: Buffer): RollupBlock {
  const r = new ByteReader(inflateRawSync(blob));
  const t = getTimes(r);
  const col = (): number[] => Array.from(getColumn(r, t.length));
  return { t, n: col(), sum: col(), lo: col(), hi: col() };
}

/** Buckets to merge into a block: bucket start → [n, sum, lo, hi]. */
export type BucketAcc = Map<number, [number, number, number, number]>;

/** Adds accumulated buckets into a block (buckets present in both are combined). */
export function mergeIntoBlock(block: RollupBlock, acc: BucketAcc): RollupBlock {
  const byT = new Map<number, [number, number, number, number]>();
  for (let i = 0; i < block.t.length; i++) byT.set(block.t[i]!, [block.n[i]!, block.sum[i]!, block.lo[i]!, block.hi[i]!]);
  for (const [t, a] of acc) {
    const cur = byT.get(t);
    if (cur === undefined) byT.set(t, [a[0], a[1], a[2], a[3]]);
    else {
      cur[0] += a[0];
      cur[1] += a[1];
      if (a[2] < cur[2]) cur[2] = a[2];
      if (a[3] > cur[3]) cur[3] = a[3];
    }
  }
  const out = emptyBlock();
  for (const t of [...byT.keys()].sort((x, y) => x - y)) {
    const a = byT.get(t)!;
    out.t.push(t);
    out.n.push(a[0]);
    out.sum.push(a[1]);
    out.lo.push(a[2]);
    out.hi.push(a[3]);
  }
  return out;
}
