// One remote-write outbox row: a committed batch's metric values {t, m}, packed once at ingest
// (inside the commit) and unpacked by each destination's sender. Self-contained, with its own
// table of metric names, so a row never depends on ids elsewhere in the database. Times are
// deltas (batches are a few samples a second apart), values float64 as stored: exact.
//
//   u8 version (1) · uvarint names · per name: uvarint bytes, UTF-8
//   uvarint samples · per sample: svarint Δt, uvarint values · per value: uvarint name index, f64
import { ByteReader, ByteWriter } from './tiers/byte-io.js';

const VERSION = 1;
const writer = new ByteWriter(16 * 1024);

/** A sample as the outbox keeps it: its time (device clock, ms, corrected as stored) and values. */
export interface OutboxSample {
  t: number;
  m: Record<string, number>;
}

export interface PackedBatch {
  data: Buffer;
  /** Metric values packed (what the remote-write counts call samples). */
  values: number;
}

/** Packs the metric values of a batch; samples without values are left out. */
export function packSamples(samples: readonly OutboxSample[]): PackedBatch {
  const index = new Map<string, number>();
  let values = 0;
  for (const s of samples) {
    for (const name in s.m) {
      if (!index.has(name)) index.set(name, index.size);
      values++;
    }
  }
  writer.reset();
  writer.u8(VERSION);
  writer.uvarint(index.size);
  for (const name of index.keys()) {
    const bytes = Buffer.from(name, 'utf8');
    writer.uvarint(bytes.length);
    for (const b of bytes) writer.u8(b);
  }
  let kept = 0;
  for (const s of samples) if (hasValues(s)) kept++;
  writer.uvarint(kept);
  let prev = 0;
  for (const s of samples) {
    if (!hasValues(s)) continue;
    writer.svarint(s.t - prev);
    prev = s.t;
    let k = 0;
    for (const _ in s.m) k++;
    writer.uvarint(k);
    for (const name in s.m) {
      writer.uvarint(index.get(name)!);
      writer.f64(s.m[name]!);
    }
  }
  return { data: writer.bytes(), values };
}

/** Unpacks what packSamples wrote; throws, naming the offset, on a truncated or unknown row. */
export function unpackSamples(data: Buffer): OutboxSample[] {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== VERSION) throw new Error(`remote-write outbox row has format version ${version}; this edgewatch reads version ${VERSION}`);
  const names: string[] = [];
  for (let n = r.uvarint(); n > 0; n--) names.push(r.slice(r.uvarint()).toString('utf8'));
  const out: OutboxSample[] = [];
  let t = 0;
  for (let n = r.uvarint(); n > 0; n--) {
    t += r.svarint();
    const m: Record<string, number> = {};
    for (let k = r.uvarint(); k > 0; k--) {
      const idx = r.uvarint();
      const name = names[idx];
      if (name === undefined) throw new Error(`remote-write outbox row names metric #${idx} of ${names.length} at offset ${r.pos}`);
      m[name] = r.f64();
    }
    out.push({ t, m });
  }
  return out;
}

function hasValues(s: OutboxSample): boolean {
  for (const _ in s.m) return true;
  return false;
}
