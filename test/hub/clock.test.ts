// Device clocks: the hub estimates each device's offset from the batches' sentAt, follows a
// sudden jump (NTP sync), stores the samples of a device that is far off on the hub's clock,
// and refuses samples that would land more than 10 minutes in the future.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClockEstimator, correctionFor, SMOOTHING } from '../../dashboard/server/clock.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { DeviceSummary } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const BEHIND_MS = (3 * 60 + 12) * 60_000; // 3 h 12 min

describe('ClockEstimator', () => {
  it('smooths small differences and follows a jump at once', () => {
    const c = new ClockEstimator(1000);
    expect(c.observe(11_200, 10_000).offsetMs).toBe(Math.round(1000 + SMOOTHING * 200));
    const jump = c.observe(10_000 + 3_600_000, 10_000);
    expect(jump).toEqual({ offsetMs: 3_600_000, stepped: true });
    expect(new ClockEstimator().observe(5, 10).offsetMs).toBe(-5);
  });
  it('corrects only beyond 2 minutes, in whole seconds', () => {
    expect(correctionFor(null)).toBe(0);
    expect(correctionFor(119_000)).toBe(0);
    expect(correctionFor(-BEHIND_MS - 420)).toBe(-BEHIND_MS);
  });
});

describe('hub and device clocks', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let agentUrl: string;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    agentUrl = `ws://127.0.0.1:${hub.port}/ws/agent`;
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  const batch = (seq: number, sentAt: number, times: number[]) => ({
    type: 'batch',
    v: PROTOCOL_VERSION,
    seq,
    sentAt,
    samples: times.map((t, i) => ({ t, m: { 'cpu.util': i } })),
  });
  const storedTimes = (id: string): number[] => {
    const row = hub.store.getDevice(id)!;
    return (hub.store.rawSamples(row.num, ['cpu.util'], 0, Number.MAX_SAFE_INTEGER)['cpu.util'] ?? []).map(([t]) => t);
  };
  const summary = async (id: string) => (await (await fetch(`http://127.0.0.1:${hub.port}/api/v1/devices/${id}`)).json()) as { device: DeviceSummary } & DeviceSummary;

  it('stores a device that is 3 h 12 min behind on the hub clock, and follows its NTP sync', async () => {
    const peer = await TestPeer.connect(agentUrl);
    const now = Date.now();
    peer.send(helloFrame('clock-behind', { clock: now - BEHIND_MS }));
    await peer.waitFor((f) => f.type === 'welcome');
    // Three samples taken 1.5 s, 1 s and 0.5 s ago, on the device's wrong clock.
    const devNow = Date.now() - BEHIND_MS;
    peer.send(batch(1, devNow, [devNow - 1500, devNow - 1000, devNow - 500]));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1);
    const hubNow = Date.now();
    const times = storedTimes('clock-behind');
    expect(times).toHaveLength(3);
    // On the hub's timeline (within the 1 s rounding of the correction plus network delay).
    for (const [i, t] of times.entries()) expect(Math.abs(t - (hubNow - 1500 + i * 500))).toBeLessThan(2000);
    const row = hub.store.getDevice('clock-behind')!;
    expect(row.clockCorrected).toBe(true);
    expect(Math.abs(row.clockOffsetMs! + BEHIND_MS)).toBeLessThan(2000);
    const body = await summary('clock-behind');
    const dev = body.device ?? body;
    expect(dev.clockCorrected).toBe(true);
    expect(Math.abs(dev.clockOffsetMs! + BEHIND_MS)).toBeLessThan(2000);

    // NTP syncs: the next batch is on the right clock, and the hub follows at once.
    const synced = Date.now();
    peer.send(batch(2, synced, [synced - 200]));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 2);
    expect(storedTimes('clock-behind')).toContain(synced - 200);
    const after = hub.store.getDevice('clock-behind')!;
    expect(after.clockCorrected).toBe(false);
    expect(Math.abs(after.clockOffsetMs!)).toBeLessThan(2000);
    peer.close();
  });

  it('puts a device that thinks it is 1970 on the hub clock', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('clock-1970', { clock: 60_000 }));
    await peer.waitFor((f) => f.type === 'welcome');
    peer.send(batch(1, 61_000, [60_500]));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1);
    const [t] = storedTimes('clock-1970');
    expect(Math.abs(t! - (Date.now() - 500))).toBeLessThan(2000);
    peer.close();
  });

  it('refuses samples more than 10 minutes in the future, says why, and counts them', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('clock-future'));
    await peer.waitFor((f) => f.type === 'welcome');
    const now = Date.now();
    // The clock is right (sentAt = now), but one sample claims to be 20 minutes ahead.
    peer.send(batch(1, now, [now - 500, now + 20 * 60_000]));
    const err = await peer.waitFor((f) => f.type === 'error' && f.seq === 1);
    expect(err.code).toBe('invalid_message');
    expect(String(err.message)).toMatch(/future/);
    expect(peer.received.some((f) => f.type === 'ack')).toBe(false);
    expect(storedTimes('clock-future')).toEqual([]);
    expect(hub.store.getDevice('clock-future')!.rejectedSamples).toBe(1);
    const health = (await (await fetch(`http://127.0.0.1:${hub.port}/healthz`)).json()) as { futureSamplesRejected: number };
    expect(health.futureSamplesRejected).toBeGreaterThanOrEqual(1);
    // A sample 5 minutes ahead (a clock not bad enough to correct, within bounds) is stored.
    peer.send(batch(2, now, [now + 5 * 60_000]));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 2);
    peer.close();
  });
});
