// Disk trouble: when SQLite cannot write (here: a full database via PRAGMA max_page_count, and
// a read-only one via PRAGMA query_only), the hub stops acking, says why on /healthz and the
// live feed, keeps serving reads, and recovers by itself once a probe write commits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { eventually } from '../helpers/processes.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const UNLIMITED_PAGES = 1_073_741_823;

/** A batch big enough to need new database pages: 200 samples × 40 metrics. */
function bigBatch(seq: number, t0: number) {
  const samples = Array.from({ length: 200 }, (_, i) => ({
    t: t0 + i * 100,
    m: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`disk.test_${k}`, i * 1000 + k + Math.random()])),
  }));
  return { type: 'batch', v: PROTOCOL_VERSION, seq, samples };
}

describe('hub with a disk that cannot be written', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), storeProbeMs: 200 });
    base = `http://127.0.0.1:${hub.port}`;
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  const health = async () => {
    const res = await fetch(`${base}/healthz`);
    return { status: res.status, body: (await res.json()) as { ok: boolean; writes: string; reason?: string; code?: string } };
  };
  const countSamples = (deviceId: string): number => {
    const row = hub.store.getDevice(deviceId)!;
    const metrics = hub.store.metricNames(row.num);
    return Object.values(hub.store.rawSamples(row.num, metrics, 0, Number.MAX_SAFE_INTEGER)).reduce((n, rows) => n + rows.length, 0);
  };

  it('full disk: no ack but store_unavailable, reads work, /healthz 503 and the live feed says why; then it recovers by itself', async () => {
    const viewer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/live`);
    expect((await viewer.waitFor((f) => f.type === 'hub')).status).toMatchObject({ writable: true });

    const peer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    peer.send(helloFrame('disk-a'));
    await peer.waitFor((f) => f.type === 'welcome');
    const t0 = Date.now() - 60_000;
    peer.send(bigBatch(1, t0));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1);
    expect(countSamples('disk-a')).toBe(200 * 40);

    // The disk is "full": the database may not grow past its current size (+1 page).
    hub.store.setMaxPageCount(hub.store.pageCount() + 1);
    const batch2 = bigBatch(2, t0 + 20_000);
    peer.send(batch2);
    const err = await peer.waitFor((f) => f.type === 'error' && f.seq === 2);
    expect(err.code).toBe('store_unavailable');
    expect(String(err.message)).toMatch(/full/);
    // Never acked, nothing of it stored.
    await new Promise((r) => setTimeout(r, 300));
    expect(peer.received.some((f) => f.type === 'ack' && f.seq === 2)).toBe(false);
    expect(countSamples('disk-a')).toBe(200 * 40);
    expect(hub.store.getDevice('disk-a')!.lastSeq).toBe(1);

    // Reads keep working.
    const devices = await fetch(`${base}/api/v1/devices`);
    expect(devices.status).toBe(200);
    expect(((await devices.json()) as { devices: { id: string }[] }).devices.map((d) => d.id)).toContain('disk-a');

    // /healthz says 503 and why; browsers are told.
    const sick = await health();
    expect(sick.status).toBe(503);
    expect(sick.body).toMatchObject({ ok: false, writes: 'failing', code: 'SQLITE_FULL' });
    expect(sick.body.reason).toMatch(/full/);
    const banner = await viewer.waitFor((f) => f.type === 'hub' && (f.status as { writable: boolean }).writable === false);
    expect((banner.status as { reason: string }).reason).toMatch(/full/);

    // While failing, a batch is refused at once (no commit attempted) and still not acked.
    peer.send(bigBatch(3, t0 + 40_000));
    expect((await peer.waitFor((f) => f.type === 'error' && f.seq === 3)).code).toBe('store_unavailable');

    // Space again: the probe notices by itself, acking resumes, the resent batch is stored.
    hub.store.setMaxPageCount(UNLIMITED_PAGES);
    await eventually('/healthz 200 after the disk has room again', async () => (await health()).status === 200, 5000, 50);
    await viewer.waitFor((f) => f.type === 'hub' && (f.status as { writable: boolean }).writable === true);
    peer.send(batch2);
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 2);
    expect(countSamples('disk-a')).toBe(2 * 200 * 40);
    expect(hub.store.getDevice('disk-a')!.lastSeq).toBe(2);
    expect((await health()).body).toMatchObject({ ok: true, writes: 'ok' });
    peer.close();
    viewer.close();
  });

  it('read-only database: store_unavailable (SQLITE_READONLY) until it is writable again', async () => {
    const peer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    peer.send(helloFrame('disk-b'));
    await peer.waitFor((f) => f.type === 'welcome');
    const t0 = Date.now() - 60_000;
    hub.store.setQueryOnly(true);
    try {
      peer.send(bigBatch(1, t0));
      const err = await peer.waitFor((f) => f.type === 'error' && f.seq === 1);
      expect(err.code).toBe('store_unavailable');
      const sick = await health();
      expect(sick.status).toBe(503);
      expect(sick.body.code).toMatch(/^SQLITE_READONLY/);
      expect(sick.body.reason).toMatch(/read-only/);
      expect((await fetch(`${base}/api/v1/devices/disk-b`)).status).toBe(200);
    } finally {
      hub.store.setQueryOnly(false);
    }
    await eventually('/healthz 200 once writable', async () => (await health()).status === 200, 5000, 50);
    peer.send(bigBatch(1, t0));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1);
    expect(countSamples('disk-b')).toBe(200 * 40);
    expect(peer.received.filter((f) => f.type === 'ack')).toHaveLength(1);
    peer.close();
  });
});
