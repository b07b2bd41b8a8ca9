// The agent's transport against a real hub on 127.0.0.1: acks empty the spool, a hub
// restart is survived, and what was not acked is resent and stored exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { HubConnection } from '../../agent/transport/hub-connection.js';
import { Backoff } from '../../agent/tools/backoff.js';
import { MemorySpool } from '../../agent/transport/spool.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually, freePort } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const fastBackoff = () => new Backoff({ initialMs: 50, maxMs: 200, factor: 2, jitter: 0, healthyAfterMs: 0 });

describe('HubConnection', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const sample = (seq: number) => ({ seq, samples: [{ t: 1_000_000 + seq * 1000, m: { 'cpu.util': seq } }] });

  it('sends spooled batches, forgets them once acked, and resends the rest after a hub restart', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const port = await freePort();
    let hub: Hub = await startHub({ port, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    cleanups.push(() => hub.close());

    const spool = new MemorySpool(1000);
    const conn = new HubConnection({ url: `ws://127.0.0.1:${port}/ws/agent`, hello: () => helloFrame('conn-dev'), spool, log: silentLogger(), backoff: fastBackoff() });
    cleanups.push(() => conn.stop());
    conn.start();
    for (let s = 1; s <= 5; s++) spool.push(sample(s));
    conn.pump();
    await eventually('all five acked', () => spool.batchCount === 0);

    await hub.close();
    // While the hub is down batches pile up in the spool.
    for (let s = 6; s <= 10; s++) spool.push(sample(s));
    conn.pump();
    expect(spool.batchCount).toBe(5);

    hub = await startHub({ port, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    await eventually('reconnect and drain', () => spool.batchCount === 0 && conn.connected, 10_000);

    const dev = hub.store.getDevice('conn-dev')!;
    const series = hub.store.series({ deviceNum: dev.num, deviceId: dev.id, metrics: ['cpu.util'], from: 1_000_000, to: 1_011_000, points: 100 });
    expect(series.series['cpu.util']!.map(([, v]) => v)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(conn.stats.connects).toBe(2);
  });

  it('after a reconnect sends the newest batches at once and the backlog oldest first at a bounded rate', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const port = await freePort();
    const spool = new MemorySpool(10_000);
    const acked: number[] = [];
    const ackedAt = new Map<number, number>();
    const ack = spool.ack.bind(spool);
    spool.ack = (seq: number) => {
      acked.push(seq);
      ackedAt.set(seq, Date.now());
      ack(seq);
    };
    for (let s = 1; s <= 300; s++) spool.push(sample(s));
    const conn = new HubConnection({
      url: `ws://127.0.0.1:${port}/ws/agent`,
      hello: () => helloFrame('backfill-dev'),
      spool,
      log: silentLogger(),
      backoff: fastBackoff(),
      backfillPerSecond: 100,
    });
    cleanups.push(() => conn.stop());
    conn.start();
    const hub = await startHub({ port, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    cleanups.push(() => hub.close());
    await eventually('connected', () => conn.connected, 10_000, 10);
    const connectedAt = Date.now();
    spool.push(sample(301)); // live, while the backlog drains
    conn.pump();
    await eventually('everything acked', () => spool.batchCount === 0, 15_000, 50);

    // The newest batch at the reconnect and the live one went out ahead of most of the backlog.
    expect(acked.indexOf(300)).toBeLessThan(40);
    expect(acked.indexOf(301)).toBeLessThan(80);
    expect(ackedAt.get(301)! - connectedAt).toBeLessThan(1000);
    // The backlog went oldest first, at ≤ 100 batches/s after a burst of 20: 279 more take ≥ 2.7 s.
    expect(acked.filter((s) => s < 300)).toEqual(Array.from({ length: 299 }, (_, i) => i + 1));
    expect(ackedAt.get(299)! - connectedAt).toBeGreaterThan(2000);
    expect(conn.stats.backfilled).toBe(299);
    expect(conn.stats.sent).toBe(301);

    const dev = hub.store.getDevice('backfill-dev')!;
    const series = hub.store.series({ deviceNum: dev.num, deviceId: dev.id, metrics: ['cpu.util'], from: 1_000_000, to: 1_302_000, points: 1000 });
    expect(series.series['cpu.util']!.map(([, v]) => v)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
  });

  it('keeps trying while no hub listens, without losing what it buffered', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const port = await freePort();
    const spool = new MemorySpool(1000);
    const conn = new HubConnection({ url: `ws://127.0.0.1:${port}/ws/agent`, hello: () => helloFrame('late-dev'), spool, log: silentLogger(), backoff: fastBackoff() });
    cleanups.push(() => conn.stop());
    conn.start();
    spool.push(sample(1));
    await new Promise((r) => setTimeout(r, 500));
    expect(spool.batchCount).toBe(1);

    const hub = await startHub({ port, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    cleanups.push(() => hub.close());
    await eventually('the buffered batch to be acked', () => spool.batchCount === 0, 10_000);
    expect(hub.store.getDevice('late-dev')!.lastSeq).toBe(1);
  });
});
