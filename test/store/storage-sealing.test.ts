// The storage accounting of sealed and unsealed raw values (GET /api/v1/storage): in the first
// minutes every value sits unsealed, one row per sample time, at many bytes a value; once a
// 15-minute window is sealed its values are counted as sealed at a fraction of that, and the
// two parts add up to the raw tier's values and bytes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, type BatchToCommit } from '../../dashboard/store/store.js';
import { WINDOW_MS } from '../../dashboard/store/tiers/layout.js';
import type { Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = Date.UTC(2026, 10, 1); // a window boundary
const METRICS = 19;

/** 16 cores, memory and a temperature: quantized like the agent's values. */
function metrics(i: number): Record<string, number> {
  const m: Record<string, number> = {};
  for (let c = 0; c < 16; c++) m[`cpu.core.${c}.util`] = Math.round((30 + 25 * Math.sin((i + c * 50) / 40) + ((i * (c + 3)) % 17)) * 100) / 100;
  m['mem.total'] = 8e9;
  m['mem.used'] = 2e9 + Math.floor(i / 10) * 4096;
  m['temp.cpu'] = Math.round((45 + Math.sin(i / 300) * 5) * 1000) / 1000;
  return m;
}

describe('storage accounting: sealed and unsealed raw values', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let seq = 0;

  beforeEach(() => {
    tmp = tempDir('ew-sealing-');
    store = Store.open(tmp.dir);
    seq = 0;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  function ingest(deviceNum: number, from: number, to: number): void {
    for (let i = from; i < to; i += 60) {
      const samples: Sample[] = [];
      for (let j = i; j < Math.min(to, i + 60); j++) samples.push({ t: T0 + j * 1000, m: metrics(j) });
      const item: BatchToCommit = { deviceNum, seq: ++seq, receivedAt: T0 + i * 1000, samples };
      store.commitBatches([item]);
    }
  }

  it('counts the first minutes as unsealed, then a sealed window at a fraction of the bytes per value', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, 0, 11 * 60);
    for (let i = 0; i < 10 && store.maintain(T0 + 11 * 60_000, 1000).more; i++);
    const early = store.storage(T0 + 11 * 60_000);
    expect(early.sealing).toEqual({ windowMs: WINDOW_MS, graceMs: 60_000, idleMs: 5 * 60_000 });
    expect(early.rawSealed).toMatchObject({ values: 0, bytesPerValue: null });
    expect(early.rawUnsealed!.values).toBe(11 * 60 * METRICS);
    const raw = early.devices[0]!.tiers.find((t) => t.tier === 'raw')!;
    expect(raw.sealed).toEqual({ values: 0, bytes: 0 });
    expect(raw.unsealed).toEqual({ values: raw.values, bytes: raw.bytes, windowEnd: T0 + WINDOW_MS });
    expect(raw.bytes).toBe(early.rawUnsealed!.bytes);
    // Unsealed, a value costs several bytes: what a new user sees on the storage page at first.
    expect(early.rawUnsealed!.bytesPerValue!).toBeGreaterThan(4);

    // 31 minutes in, a minute past the second window's end: two windows are sealed.
    ingest(dev.num, 11 * 60, 31 * 60 + 5);
    for (let i = 0; i < 20 && store.maintain(T0 + 32 * 60_000, 1000).more; i++);
    const later = store.storage(T0 + 32 * 60_000 + 20_000);
    expect(later.rawSealed!.values).toBe(2 * 900 * METRICS);
    expect(later.rawUnsealed!.values).toBe((60 + 5) * METRICS);
    expect(later.rawSealed!.bytesPerValue!).toBeLessThan(4);
    expect(later.rawSealed!.bytesPerValue!).toBeLessThan(later.rawUnsealed!.bytesPerValue! / 4);
    const r = later.devices[0]!.tiers.find((t) => t.tier === 'raw')!;
    expect(r.sealed!.values + r.unsealed!.values).toBe(r.values);
    expect(r.sealed!.bytes + r.unsealed!.bytes).toBe(r.bytes);
    expect(r.unsealed!.windowEnd).toBe(T0 + 3 * WINDOW_MS);
    // The overall figure lies between the two.
    expect(later.rawBytesPerValue!).toBeGreaterThan(later.rawSealed!.bytesPerValue!);
    expect(later.rawBytesPerValue!).toBeLessThan(later.rawUnsealed!.bytesPerValue!);

    // Everything sealed: nothing left unsealed, no window pending.
    store.sealAll();
    const all = store.storage(T0 + 40 * 60_000);
    expect(all.rawUnsealed).toMatchObject({ values: 0, bytesPerValue: null });
    expect(all.devices[0]!.tiers[0]!.unsealed).toMatchObject({ values: 0, windowEnd: null });
  });
});
