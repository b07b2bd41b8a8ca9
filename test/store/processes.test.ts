// Process tables in the real SQLite store: stored with their batch, once; read back at or
// before a time; pruned after 3 days, at most once a minute per device.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { inflateRawSync } from 'node:zlib';
import { PROCESS_PRUNE_EVERY_MS, PROCESS_RETENTION_MS, Store, type BatchToCommit } from '../../dashboard/store/store.js';
import type { ProcessTable, Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = 1_790_000_000_000;
const DAY = 24 * 3_600_000;

function table(marker: number): ProcessTable {
  return {
    total: 200 + marker,
    rows: [
      { pid: 4242, name: 'python3', cmd: `python3 train.py --run ${marker}`, user: 'ml', cpu: 97.5, rss: 3_221_225_472, readBps: 1024, writeBps: 0, gpuMem: 8_589_934_592, threads: 24 },
      { pid: 2, name: 'kthreadd', cmd: '[kthreadd]', cpu: 0, rss: 0 },
    ],
  };
}

describe('Store process tables (real SQLite file)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let num: number;
  let seq: number;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.dir);
    num = store.upsertDevice(helloFrame('pi'), 0).num;
    seq = 0;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  const batch = (samples: Sample[], receivedAt = T0): BatchToCommit => ({ deviceNum: num, seq: ++seq, receivedAt, samples });

  it('stores tables with their batch, keeps them out of the device latest sample, and reads at or before a time', () => {
    const samples: Sample[] = [
      { t: T0, m: { 'cpu.util': 1 }, p: table(0) },
      { t: T0 + 1000, m: { 'cpu.util': 2 } },
      { t: T0 + 5000, m: { 'cpu.util': 3, 'procs.count': 205 }, p: table(5) },
    ];
    expect(store.commitBatches([batch(samples)])).toEqual([{ stored: true }]);

    expect(store.latestProcesses(num)).toEqual({ t: T0 + 5000, table: table(5) });
    expect(store.latestProcesses(num, T0 + 4999)).toEqual({ t: T0, table: table(0) });
    expect(store.latestProcesses(num, T0)).toEqual({ t: T0, table: table(0) });
    expect(store.latestProcesses(num, T0 - 1)).toBeNull();
    expect(store.latestProcesses(num + 1)).toBeNull();
    // The newest sample had a table; the device summary's copy does not.
    expect(store.getDevice('pi')!.latest).toEqual({ t: T0 + 5000, m: { 'cpu.util': 3, 'procs.count': 205 } });
    // The metrics of those samples are stored as usual.
    expect(store.series({ deviceNum: num, deviceId: 'pi', metrics: ['procs.count'], from: T0, to: T0 + 10_000, points: 100 }).series['procs.count']).toEqual([
      [T0 + 5000, 205, 205, 205],
    ]);
  });

  it('stores rows deflated, not as plain JSON', () => {
    store.commitBatches([batch([{ t: T0, m: {}, p: table(1) }])]);
    store.close();
    const db = new Database(store.path, { readonly: true });
    const row = db.prepare('SELECT total, rows FROM process_snapshots').get() as { total: number; rows: Buffer };
    db.close();
    expect(row.total).toBe(201);
    expect(row.rows.includes(Buffer.from('python3'))).toBe(false);
    expect(JSON.parse(inflateRawSync(row.rows).toString())).toEqual(table(1).rows);
    store = Store.open(tmp.dir);
  });

  it('stores nothing again for a resent batch, and keeps the first table for a repeated time', () => {
    const first = batch([{ t: T0, m: { 'cpu.util': 1 }, p: table(1) }]);
    expect(store.commitBatches([first])).toEqual([{ stored: true }]);
    // Same seq with another table: a duplicate batch.
    expect(store.commitBatches([{ ...first, samples: [{ t: T0, m: { 'cpu.util': 9 }, p: table(9) }] }])).toEqual([{ stored: false }]);
    // A new batch with a table at the same t (device clock stepped back): ignored, no error.
    expect(store.commitBatches([batch([{ t: T0, m: { 'cpu.util': 2 }, p: table(2) }])])).toEqual([{ stored: true }]);
    expect(store.latestProcesses(num)).toEqual({ t: T0, table: table(1) });
  });

  it('prunes tables older than 3 days, at most once a minute per device, leaving other devices alone', () => {
    const other = store.upsertDevice(helloFrame('jetson'), 0).num;
    store.commitBatches([
      batch([
        { t: T0, m: {}, p: table(0) },
        { t: T0 + DAY, m: {}, p: table(1) },
      ]),
      { deviceNum: other, seq: 1, receivedAt: T0, samples: [{ t: T0, m: {}, p: table(7) }] },
    ]);
    // 3 days and 1 ms after the first table, but within the minute of the last prune: kept.
    const later = T0 + PROCESS_RETENTION_MS + 1;
    store.commitBatches([batch([{ t: later, m: {}, p: table(2) }], T0 + PROCESS_PRUNE_EVERY_MS - 1)]);
    expect(store.latestProcesses(num, T0)).toEqual({ t: T0, table: table(0) });

    // A minute on: the first table goes, the one from a day later stays (and so do other devices').
    store.commitBatches([batch([{ t: later + 5000, m: {}, p: table(3) }], T0 + PROCESS_PRUNE_EVERY_MS)]);
    expect(store.latestProcesses(num, T0 + DAY - 1)).toBeNull();
    expect(store.latestProcesses(num, T0 + DAY)).toEqual({ t: T0 + DAY, table: table(1) });
    expect(store.latestProcesses(num)).toEqual({ t: later + 5000, table: table(3) });
    expect(store.latestProcesses(other)).toEqual({ t: T0, table: table(7) });
  });

  it('prunes a large backlog in bounded slices', () => {
    // 1500 stale tables, then one fresh: the first prune takes 1000, the next minute the rest.
    const stale: Sample[] = Array.from({ length: 1500 }, (_, i) => ({ t: T0 + i, m: {}, p: { rows: [], total: i } }));
    store.commitBatches([batch(stale, T0)]);
    const fresh = T0 + PROCESS_RETENTION_MS + 10_000;
    store.commitBatches([batch([{ t: fresh, m: {}, p: table(1) }], T0 + PROCESS_PRUNE_EVERY_MS)]);
    expect(store.latestProcesses(num, T0 + 999)).toBeNull();
    expect(store.latestProcesses(num, T0 + 1000)).toEqual({ t: T0 + 1000, table: { rows: [], total: 1000 } });
    store.commitBatches([batch([{ t: fresh + 5000, m: {}, p: table(2) }], T0 + 2 * PROCESS_PRUNE_EVERY_MS)]);
    expect(store.latestProcesses(num, fresh - 1)).toBeNull();
  });
});
