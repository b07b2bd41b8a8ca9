import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../dashboard/store/migrations.js';
import { Store } from '../../dashboard/store/store.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('Store (real SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.dir);
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('opens in WAL mode with the schema migrated, and reopens without re-running migrations', () => {
    store.close();
    const db = new Database(store.path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    store = Store.open(tmp.dir);
    expect(store.listDevices()).toEqual([]);
  });

  it('refuses a database from a newer edgewatch with a clear error', () => {
    store.close();
    const db = new Database(store.path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => Store.open(tmp.dir)).toThrow(/schema version 99 is newer/);
    // Put it back so afterEach can close a store.
    const fix = new Database(store.path);
    fix.pragma(`user_version = ${MIGRATIONS.length}`);
    fix.close();
    store = Store.open(tmp.dir);
  });

  it('estimates the device clock offset from the hello stamp', () => {
    // A Pi without RTC that booted thinking it is 1970.
    const row = store.upsertDevice(helloFrame('pi-rtc', { clock: 5_000 }), 1_795_000_000_000);
    expect(row.clockOffsetMs).toBe(5_000 - 1_795_000_000_000);
  });

  it('creates a device on first hello and refreshes its identity on the next', () => {
    const first = store.upsertDevice(helloFrame('pi-1'), 1000);
    expect(first).toMatchObject({ id: 'pi-1', name: 'device pi-1', firstSeen: 1000, lastSeq: null });
    const again = store.upsertDevice(helloFrame('pi-1', { device: { id: 'pi-1', name: 'renamed' } }), 5000);
    expect(again.num).toBe(first.num);
    expect(again.name).toBe('renamed');
    expect(again.firstSeen).toBe(1000);
  });

  it('stores a batch once: a resent batch is recognised and stores nothing again', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    const batch = { deviceNum: dev.num, seq: 7, receivedAt: 2000, samples: [{ t: 1000, m: { 'cpu.util': 12.5, 'mem.used': 1e9 } }] };
    expect(store.commitBatches([batch])).toEqual([{ stored: true }]);
    expect(store.commitBatches([batch])).toEqual([{ stored: false }]);
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: 0, to: 10_000, points: 100 });
    expect(res.series['cpu.util']).toEqual([[1000, 12.5, 12.5, 12.5]]);
    const row = store.getDevice('d')!;
    expect(row.lastSeq).toBe(7);
    expect(row.lastSeen).toBe(2000);
    expect(row.latest).toEqual({ t: 1000, m: { 'cpu.util': 12.5, 'mem.used': 1e9 } });
    expect(store.metricNames(dev.num)).toEqual(['cpu.util', 'mem.used']);
  });

  it('keeps last_seq at the highest committed number when batches arrive out of order', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    store.commitBatches([
      { deviceNum: dev.num, seq: 5, receivedAt: 1, samples: [{ t: 5000, m: { 'cpu.util': 5 } }] },
      { deviceNum: dev.num, seq: 3, receivedAt: 1, samples: [{ t: 3000, m: { 'cpu.util': 3 } }] },
    ]);
    const row = store.getDevice('d')!;
    expect(row.lastSeq).toBe(5);
    // The latest sample is the newest by device time, not the last committed.
    expect(row.latest?.t).toBe(5000);
  });

  it('downsamples long ranges into buckets that keep min and max (spikes stay visible)', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    const samples = Array.from({ length: 600 }, (_, i) => ({ t: i * 1000, m: { 'gpu.0.util': i === 250 ? 100 : 10 } }));
    store.commitBatches([{ deviceNum: dev.num, seq: 1, receivedAt: 0, samples }]);
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['gpu.0.util'], from: 0, to: 600_000, points: 60 });
    expect(res.stepMs).toBe(10_000);
    const pts = res.series['gpu.0.util']!;
    expect(pts).toHaveLength(60);
    const spike = pts.find(([t]) => t === 250_000)!;
    expect(spike[1]).toBeCloseTo(19, 5); // mean of nine 10s and one 100
    expect(spike[2]).toBe(10);
    expect(spike[3]).toBe(100);
    expect(pts.every(([, , lo]) => lo === 10)).toBe(true);
  });

  it('answers long ranges from the per-minute rollup with the same mean, min and max as the raw rows', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    const day = 86_400_000;
    // Two days at 1 Hz, sent the way agents send: one sample per batch, minutes split
    // across batches, so the rollup is built up incrementally.
    const value = (i: number) => (i % 3600 === 1800 ? 250 : 20 + (i % 60));
    for (let i = 0; i < 2 * 86_400; i += 300) {
      const samples = Array.from({ length: 300 }, (_, j) => ({ t: (i + j) * 1000, m: { 'gpu.0.power': value(i + j) } }));
      store.commitBatches([{ deviceNum: dev.num, seq: i / 300 + 1, receivedAt: 0, samples }]);
    }
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['gpu.0.power'], from: 0, to: 2 * day, points: 480 });
    expect(res.stepMs).toBe(360_000); // 6-minute buckets, from 1-minute rollups
    const pts = res.series['gpu.0.power']!;
    expect(pts).toHaveLength(480);
    for (const [t, mean, lo, hi] of pts) {
      const raw = Array.from({ length: 360 }, (_, k) => value(t / 1000 + k));
      expect(mean).toBeCloseTo(raw.reduce((a, b) => a + b, 0) / raw.length, 9);
      expect(lo).toBe(Math.min(...raw));
      expect(hi).toBe(Math.max(...raw));
    }
    expect(pts.filter(([, , , hi]) => hi === 250)).toHaveLength(48); // one spike an hour survives
  });

  it('does not count a repeated timestamp twice (a device clock that stepped back)', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    store.commitBatches([{ deviceNum: dev.num, seq: 1, receivedAt: 0, samples: [{ t: 60_000, m: { 'cpu.util': 10 } }] }]);
    store.commitBatches([{ deviceNum: dev.num, seq: 2, receivedAt: 0, samples: [{ t: 60_000, m: { 'cpu.util': 90 } }, { t: 61_000, m: { 'cpu.util': 30 } }] }]);
    const raw = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: 0, to: 120_000, points: 1000 });
    expect(raw.series['cpu.util']).toEqual([[60_000, 10, 10, 10], [61_000, 30, 30, 30]]);
    const rolled = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['cpu.util'], from: 0, to: 120_000, points: 2 });
    expect(rolled.series['cpu.util']).toEqual([[60_000, 20, 10, 30]]);
  });

  it('returns raw samples when the range holds fewer samples than points, and an empty series for unknown metrics', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    store.commitBatches([{ deviceNum: dev.num, seq: 1, receivedAt: 0, samples: [{ t: 1000, m: { 'load.1': 0.5 } }, { t: 2000, m: { 'load.1': 0.7 } }] }]);
    const res = store.series({ deviceNum: dev.num, deviceId: 'd', metrics: ['load.1', 'gpu.9.util'], from: 0, to: 60_000, points: 500 });
    expect(res.stepMs).toBe(0);
    expect(res.series['load.1']).toEqual([
      [1000, 0.5, 0.5, 0.5],
      [2000, 0.7, 0.7, 0.7],
    ]);
    expect(res.series['gpu.9.util']).toEqual([]);
  });

  it('rolls back a whole group when one write fails, so nothing half-stored gets acked', () => {
    const dev = store.upsertDevice(helloFrame('d'), 0);
    const good = { deviceNum: dev.num, seq: 1, receivedAt: 0, samples: [{ t: 1, m: { 'cpu.util': 1 } }] };
    // A value SQLite refuses (NOT NULL) inside the same transaction as a good batch.
    const bad = { deviceNum: dev.num, seq: 2, receivedAt: 0, samples: [{ t: 2, m: { 'cpu.util': null as unknown as number } }] };
    expect(() => store.commitBatches([good, bad])).toThrow();
    expect(store.getDevice('d')!.lastSeq).toBeNull();
    expect(store.commitBatches([good])).toEqual([{ stored: true }]);
  });
});
