// One raw_head row: the values of one sample as (metric id, float64) pairs. Written once per
// sample at ingest and read back only when the window is sealed (or a recent range is
// charted), so it favours cheap encoding over size: ~9–10 bytes a value for ~15 minutes.
import { ByteReader, ByteWriter } from './byte-io.js';

const writer = new ByteWriter(4096);

/** Packs parallel arrays of metric ids and values. */
export function encodeHead(ids: readonly number[], values: readonly number[]): Buffer {
  writer.reset();
  for (let i = 0; i < ids.length; i++) {
    writer.uvarint(ids[i]!);
    writer.f64(values[i]!);
  }
  return writer.bytes();
}

/** Calls `each` for every (metric id, value) pair of a packed row. */
export function decodeHead(data: Buffer, each: (metricId: number, value: number) => void): void {
  const r = new ByteReader(data);
  while (!r.done) {
    const id = r.uvarint();
    each(id, r.f64());
  }
}
