// The compact tiers against a real SQLite file: what goes in comes out the same, sealed or
// not; rollups agree with the raw values they summarise; retention and the size cap drop the
// right data; charts read the tier that fits.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MIGRATIONS } from '../../dashboard/store/migrations.js';
import { DB_FILE_NAME, Store, type BatchToCommit } from '../../dashboard/store/store.js';
import { WINDOW_MS } from '../../dashboard/store/tiers/layout.js';
import type { Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const DAY = 24 * 3_600_000;
const T0 = Date.UTC(2026, 10, 1); // a window boundary
/** A deterministic, spiky signal quantized like the agent's values. */
const signal = (i: number): number => Math.round((50 + 20 * Math.sin(i / 97) + (i % 613 === 0 ? 40 : 0) + ((i * 7919) % 13) / 10) * 100) / 100;

describe('compact history tiers (real SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let seq = 0;

  beforeEach(() => {
    tmp = tempDir('ew-tiers-');
    store = Store.open(tmp.dir);
    seq = 0;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  /** Commits `count` samples at 1 Hz (+300 ms, a few ms of jitter), `perBatch` to a batch. */
  function ingest(deviceNum: number, start: number, count: number, metrics: (i: number) => Record<string, number>, perBatch = 60): void {
    for (let i = 0; i < count; i += perBatch) {
      const samples: Sample[] = [];
      for (let j = i; j < Math.min(count, i + perBatch); j++) samples.push({ t: start + j * 1000 + 300 + (j % 5), m: metrics(j) });
      const item: BatchToCommit = { deviceNum, seq: ++seq, receivedAt: start + i * 1000, samples };
      store.commitBatches([item]);
    }
  }

  it('returns exactly what was stored, from sealed chunks and unsealed rows alike, across windows', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    const n = 3 * 900 + 123;
    ingest(dev.num, T0, n, (i) => ({ 'cpu.util': signal(i), 'mem.used': 1e9 + i * 4096, ...(i % 2 ? { 'temp.cpu': 40 + (i % 10) / 8 } : {}) }));
    const before = store.rawSamples(dev.num, ['cpu.util', 'mem.used', 'temp.cpu'], T0, T0 + n * 1000);
    expect(before['cpu.util']).toHaveLength(n);
    expect(before['temp.cpu']).toHaveLength(Math.floor(n / 2));

    const sealed = store.maintain(T0 + n * 1000, 10_000).sealed;
    expect(sealed).toBe(3); // the fourth window is still open
    const mixed = store.rawSamples(dev.num, ['cpu.util', 'mem.used', 'temp.cpu'], T0, T0 + n * 1000);
    expect(mixed).toEqual(before);
    store.sealAll();
    expect(store.rawSamples(dev.num, ['cpu.util', 'mem.used', 'temp.cpu'], T0, T0 + n * 1000)).toEqual(before);
    // A range inside one window, boundaries inclusive.
    const inner = store.rawSamples(dev.num, ['cpu.util'], T0 + 1300, T0 + 4300)['cpu.util']!;
    expect(inner.map(([t]) => t)).toEqual([T0 + 1301, T0 + 2302, T0 + 3303]);
  });

  it('merges late samples into a sealed window once, and ignores a resent time', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, T0, 900, (i): Record<string, number> => (i % 2 === 0 ? { 'load.1': i } : {}), 900);
    // Odd seconds are missing until a backlog brings them after the window was sealed.
    store.sealAll();
    const late: Sample[] = [];
    for (let j = 1; j < 900; j += 2) late.push({ t: T0 + j * 1000 + 300 + (j % 5), m: { 'load.1': j } });
    store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: T0, samples: late }]);
    // A resend of a time the window already holds, with another value: the first one stays.
    store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: T0, samples: [{ t: T0 + 300, m: { 'load.1': 999 } }] }]);
    store.sealAll();
    const values = store.rawSamples(dev.num, ['load.1'], T0, T0 + WINDOW_MS)['load.1']!.map(([, v]) => v);
    expect(values).toEqual(Array.from({ length: 900 }, (_, i) => i));
    // The rollups counted every value once: 60 per minute, the mean of 0…899 overall.
    const hour = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['load.1'], from: T0, to: T0 + 3_600_000, points: 1 });
    expect(hour.tier).toBe('1h');
    expect(hour.series['load.1']).toEqual([[T0, 449.5, 0, 899]]);
  });

  it('answers long ranges from rollups with the same mean, min and max as the raw values, spikes kept', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    const n = 6 * 3600;
    ingest(dev.num, T0, n, (i) => ({ 'cpu.util': signal(i) }), 600);
    store.sealAll();
    const raw = store.rawSamples(dev.num, ['cpu.util'], T0, T0 + n * 1000)['cpu.util']!;
    for (const [points, tier, step] of [
      [360, '1m', 60_000],
      [6, '1h', 3_600_000],
    ] as const) {
      const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: T0, to: T0 + n * 1000, points });
      expect(res.tier).toBe(tier);
      expect(res.stepMs).toBe(step);
      const pts = res.series['cpu.util']!;
      expect(pts).toHaveLength(points);
      for (const [t, mean, lo, hi] of pts) {
        const inBucket = raw.filter(([rt]) => rt >= t && rt < t + step).map(([, v]) => v);
        expect(mean).toBeCloseTo(inBucket.reduce((a, b) => a + b, 0) / inBucket.length, 9);
        expect(lo).toBe(Math.min(...inBucket));
        expect(hi).toBe(Math.max(...inBucket));
      }
    }
    // The same buckets computed from raw values (tier 'raw') agree.
    const fromRaw = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: T0, to: T0 + n * 1000, points: 6, tier: 'raw' });
    const fromRollup = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: T0, to: T0 + n * 1000, points: 6 });
    expect(fromRaw.tier).toBe('raw');
    fromRaw.series['cpu.util']!.forEach((p, i) => {
      const q = fromRollup.series['cpu.util']![i]!;
      expect(q[0]).toBe(p[0]);
      expect(q[1]).toBeCloseTo(p[1], 9);
      expect([q[2], q[3]]).toEqual([p[2], p[3]]);
    });
  });

  it('adds samples not yet sealed to rollup answers, so the newest minutes are never missing', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, T0, 7200, () => ({ 'load.1': 1 }), 600);
    store.maintain(T0 + 7200 * 1000, 10_000); // seals all but the open window
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['load.1'], from: T0, to: T0 + 7200 * 1000, points: 120 });
    expect(res.tier).toBe('1m');
    const pts = res.series['load.1']!;
    expect(pts).toHaveLength(120);
    expect(pts.every(([, mean, lo, hi]) => mean === 1 && lo === 1 && hi === 1)).toBe(true);
  });

  it('answers a day-long chart of a device seen for minutes from 1-minute rollups, not from the hour its data began in', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    const start = T0 + 47 * 60_000; // data starts late in an hour
    ingest(dev.num, start, 1200, (i) => ({ 'load.1': i < 600 ? 0 : 1 }), 600);
    store.maintain(start + 1200 * 1000, 10_000);
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['load.1'], from: start + 1_200_000 - DAY, to: start + 1_200_000, points: 720 });
    expect(res.tier).toBe('1m');
    // The flag's rise is placed within its 2-minute bucket, not at the top of the hour.
    const firstSet = res.series['load.1']!.find(([, , , hi]) => hi === 1)![0];
    expect(Math.abs(firstSet - (start + 600_000))).toBeLessThan(res.stepMs);
  });

  it('applies retention per tier, counting back from the newest sample of the device, and reads an old range from the tier that still has it', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, T0, 2 * 3600, (i) => ({ 'cpu.util': signal(i) }), 600);
    store.sealAll();
    // However late the hub's clock, nothing goes while the device has sent nothing newer.
    for (let i = 0; i < 20 && store.maintain(T0 + 400 * DAY, 1000).more; i++);
    expect(store.storage(T0).devices[0]!.tiers.map((t) => t.values)).toEqual([7200, 120, 2]);
    // Eight days on the device sends again: its first week of raw samples is past retention.
    const week = T0 + 8 * DAY;
    store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: week, samples: [{ t: week, m: { 'cpu.util': 1 } }] }]);
    for (let i = 0; i < 20 && store.maintain(week, 1000).more; i++);
    const usage = store.storage(week).devices[0]!;
    expect(usage.tiers.map((t) => t.values)).toEqual([1, 120, 2]);
    // Ten minutes of the expired day: no raw any more, so 1-minute rollups answer.
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: T0, to: T0 + 600_000, points: 500 });
    expect(res.tier).toBe('1m');
    expect(res.series['cpu.util']).toHaveLength(10);
    // Batches older than the raw retention by the hub's clock are gone (an agent never resends them).
    const db = new Database(store.path, { readonly: true });
    expect(db.prepare('SELECT seq FROM batches').pluck().all()).toEqual([seq]);
    db.close();
    // 91 days on: the first day's minutes are gone (the day-8 minute stays), the hours stay.
    const later = T0 + 91 * DAY;
    store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: later, samples: [{ t: later, m: { 'cpu.util': 1 } }] }]);
    for (let i = 0; i < 20 && store.maintain(later, 1000).more; i++);
    expect(store.storage(later).devices[0]!.tiers.map((t) => t.values)).toEqual([1, 1, 3]);
  });

  it('drops the oldest raw windows first when the database is over its size cap', () => {
    store.close();
    store = Store.open(tmp.dir, { retention: { sizeCapBytes: 1 } });
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, T0, 3600, (i) => ({ 'cpu.util': signal(i), 'mem.used': 1e9 + ((i * 7919) % 1000) * 4096 }), 600);
    store.sealAll();
    const pages = (): number => {
      const db = new Database(store.path, { readonly: true });
      try {
        expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental: freed pages can go back
        return db.pragma('page_count', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    const before = pages();
    for (let i = 0; i < 50 && store.maintain(T0 + 3600 * 1000, 1000).more; i++);
    const usage = store.storage(T0 + 3600 * 1000).devices[0]!;
    // A 1-byte cap cannot be met: everything droppable went, raw first, then the rollups…
    expect(usage.tiers.map((t) => t.values)).toEqual([0, 0, 0]);
    // …and the pages it held were handed back: the database shrank.
    expect(pages()).toBeLessThan(before * 0.6);

    store.close();
    store = Store.open(tmp.dir, { retention: { sizeCapBytes: 10 * 1024 * 1024 * 1024 } });
    ingest(dev.num, T0 + 3600_000, 1800, (i) => ({ 'cpu.util': signal(i) }), 600);
    store.sealAll();
    store.maintain(T0 + 5400 * 1000, 1000);
    expect(store.storage(T0 + 5400 * 1000).devices[0]!.tiers[0]!.values).toBe(1800);
  });

  it('accounts for storage per device and tier, and stays within 4 bytes a value on a quantized signal', () => {
    const a = store.upsertDevice(helloFrame('a'), T0);
    const b = store.upsertDevice(helloFrame('b'), T0);
    const metrics = (i: number): Record<string, number> => {
      const m: Record<string, number> = {};
      for (let c = 0; c < 16; c++) m[`cpu.core.${c}.util`] = Math.round((30 + 25 * Math.sin((i + c * 50) / 40) + ((i * (c + 3)) % 17)) * 100) / 100;
      m['mem.total'] = 8e9;
      m['mem.used'] = 2e9 + Math.floor(i / 10) * 4096;
      m['temp.cpu'] = Math.round((45 + Math.sin(i / 300) * 5) * 1000) / 1000;
      return m;
    };
    ingest(a.num, T0, 3600, metrics, 600);
    ingest(b.num, T0, 900, metrics, 600);
    store.sealAll();
    const s = store.storage(T0 + 3600_000);
    expect(s.devices.map((d) => d.deviceId)).toEqual(['a', 'b']);
    const rawA = s.devices[0]!.tiers[0]!;
    expect(rawA.values).toBe(3600 * 19);
    expect(rawA.oldest).toBe(T0 + 300);
    expect(s.devices[1]!.tiers[0]!.values).toBe(900 * 19);
    expect(s.devices[0]!.bytes).toBeGreaterThan(s.devices[1]!.bytes);
    expect(s.rawBytesPerValue).not.toBeNull();
    expect(s.rawBytesPerValue!).toBeLessThan(4);
    expect(s.fileBytes).toBeGreaterThan(0);
    expect(s.usedBytes).toBeLessThanOrEqual(s.fileBytes + 4096 * 16);
    expect(s.retentionMs).toEqual({ raw: 7 * DAY, '1m': 90 * DAY, '1h': 730 * DAY });
  });

  it('exports raw rows in time order with nulls for absent metrics, and rollup rows per bucket', () => {
    const dev = store.upsertDevice(helloFrame('d'), T0);
    ingest(dev.num, T0, 1000, (i): Record<string, number> => (i % 3 === 0 ? { 'load.1': i } : { 'load.1': i, 'load.5': -i }), 500);
    store.maintain(T0 + 1000 * 1000, 10_000);
    const rows = [...store.exportRows(dev.num, ['load.5', 'load.1', 'nope.metric'], T0, T0 + 10_000)];
    expect(rows.map(([, v]) => v)).toEqual(Array.from({ length: 10 }, (_, i) => [i % 3 === 0 ? null : -i, i, null]));
    store.sealAll();
    const minutes = [...store.exportRollupRows(dev.num, ['load.1'], T0, T0 + 180_000, '1m')];
    expect(minutes).toEqual([
      [T0, [[29.5, 0, 59, 60]]],
      [T0 + 60_000, [[89.5, 60, 119, 60]]],
      [T0 + 120_000, [[149.5, 120, 179, 60]]],
    ]);
  });

  it('moves a database of the old one-row-per-value layout into the tiers on open', () => {
    store.close();
    tmp.remove();
    tmp = tempDir('ew-tiers-');
    // A database as edgewatch left it at schema 6, with rows in the old table.
    const db = new Database(join(tmp.dir, DB_FILE_NAME));
    for (const sql of MIGRATIONS.slice(0, 6)) db.exec(sql);
    db.pragma('user_version = 6');
    db.exec(`INSERT INTO devices (num, id, name, first_seen, interval_ms) VALUES (1, 'old', 'old', 0, 1000);
             INSERT INTO metric_names (id, name) VALUES (1, 'load.1'), (2, 'load.5');
             INSERT INTO samples VALUES (1, 1, 0, 1.0), (1, 1, 30000, 3.0), (1, 1, 60000, 5.0), (1, 2, 30000, 7.5);`);
    db.close();
    store = Store.open(tmp.dir);
    expect(store.rawSamples(1, ['load.1', 'load.5'], 0, 60_000)).toEqual({
      'load.1': [
        [0, 1],
        [30_000, 3],
        [60_000, 5],
      ],
      'load.5': [[30_000, 7.5]],
    });
    store.sealAll();
    const res = store.series({ deviceNum: 1, deviceId: 'old', metrics: ['load.1'], from: 0, to: 120_000, points: 2 });
    expect(res.series['load.1']).toEqual([
      [0, 2, 1, 3],
      [60_000, 5, 5, 5],
    ]);
    const check = new Database(store.path, { readonly: true });
    expect(check.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('samples', 'rollup_1m')").pluck().get()).toBe(0);
    check.close();
  });
});
