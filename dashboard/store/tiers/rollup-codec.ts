// One block of one metric's rollup buckets: bucket starts, and per bucket the count, sum,
// min and max of the raw values in it. Stored as five columns in chunk-codec's encodings.
// Sums are rounded to 6 decimals first: a sum of values held to ≤ 6 decimals is itself such a
// decimal, and the rounding removes the float noise that would force the 8-byte encoding.
import { ByteReader, ByteWriter } from './byte-io.js';
import { decodeColumn, decodeTimes, encodeColumn, encodeTimes } from './chunk-codec.js';

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

export function encodeRollup(b: RollupBlock): Buffer {
  const len = b.t.length;
  const sums = b.sum.map((s) => (Math.abs(s) < 2 ** 52 / SUM_SCALE ? Math.round(s * SUM_SCALE) / SUM_SCALE : s));
  const parts = [encodeTimes(b.t), encodeColumn(b.n, len), encodeColumn(sums, len), encodeColumn(b.lo, len), encodeColumn(b.hi, len)];
  const w = new ByteWriter(256);
  for (const p of parts) w.uvarint(p.length);
  const header = w.bytes();
  return Buffer.concat([header, ...parts]);
}

export function decodeRollup(blob: Buffer): RollupBlock {
  const r = new ByteReader(blob);
  const lengths = [r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()];
  const parts = lengths.map((l) => r.slice(l));
  const t = decodeTimes(parts[0]!);
  const col = (i: number): number[] => Array.from(decodeColumn(parts[i]!, t.length));
  return { t, n: col(1), sum: col(2), lo: col(3), hi: col(4) };
}

/** Per-bucket accumulator used while sealing: bucket start → [n, sum, lo, hi]. */
export type BucketAcc = Map<number, [number, number, number, number]>;

export function addToAcc(acc: BucketAcc, bucket: number, v: number): void {
  const cur = acc.get(bucket);
  if (cur === undefined) acc.set(bucket, [1, v, v, v]);
  else {
    cur[0] += 1;
    cur[1] += v;
    if (v < cur[2]) cur[2] = v;
    if (v > cur[3]) cur[3] = v;
  }
}

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
