// Clock steps while batches waited in a device's spool (clock.ts ClockSteps): the step
// arithmetic within one boot, the rule across a reboot, and the hub end to end over a real
// ws socket: a backlog spooled 3 h ahead and sent after NTP fixed the clock is stored at the
// right times with one clock event, while a batch without the new fields (an older agent) is
// refused as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClockSteps, RETIME_BEYOND_MS, wallStepMs } from '../../dashboard/server/clock.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { DeviceResponse } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type Batch } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const H3 = 3 * 3_600_000;
const T = 1_780_000_000_000; // a fixed hub time for the pure tests

/** A batch of one sample at the creation wall time, like the agent's. */
function batch(seq: number, created: { boot: string; mono: number; wall: number }, sent: { boot: string; mono: number; at: number }): Batch {
  return {
    type: 'batch',
    v: PROTOCOL_VERSION,
    seq,
    samples: [{ t: created.wall, m: { 'cpu.util': seq } }],
    clock: created,
    sentAt: sent.at,
    sentMono: sent.mono,
    sentBoot: sent.boot,
  };
}

describe('wallStepMs', () => {
  it('is (wall − mono) at creation minus (sentAt − sentMono) at send, within one boot', () => {
    // Created 3 h ahead at mono 1000 s; sent after NTP at mono 1600 s, right clock.
    const b = batch(1, { boot: 'b1', mono: 1_000_000, wall: T - 600_000 + H3 }, { boot: 'b1', mono: 1_600_000, at: T });
    expect(wallStepMs(b)).toBe(H3);
    // Stepped forward (a board that booted in 1970, then NTP): a negative step.
    const fwd = batch(2, { boot: 'b1', mono: 1_000_000, wall: 5_000 }, { boot: 'b1', mono: 1_600_000, at: T });
    expect(wallStepMs(fwd)).toBe(5_000 - 1_000_000 - (T - 1_600_000));
  });
  it('is null across a reboot and for a batch without the fields (older agent)', () => {
    expect(wallStepMs(batch(1, { boot: 'old', mono: 5, wall: T }, { boot: 'new', mono: 9, at: T }))).toBeNull();
    expect(wallStepMs({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples: [{ t: T, m: {} }], sentAt: T })).toBeNull();
  });
});

describe('ClockSteps.retime', () => {
  it('moves a same-boot backlog back by the step, in whole seconds, and leaves small differences alone', () => {
    const steps = new ClockSteps();
    const b = batch(1, { boot: 'b1', mono: 1_000_000, wall: T - 600_000 + H3 + 3 }, { boot: 'b1', mono: 1_600_000, at: T });
    b.samples[0]!.i = [{ model: 'm', t: T - 600_000 + H3, count: 1, sum: 1, sumSq: 1, min: 1, max: 1, items: 1, buckets: [[0, 1]] }];
    const r = steps.retime(b, T + 2, 0, 1000);
    expect(r.shiftMs).toBe(H3);
    expect(r.crossBoot).toBe(false);
    expect(r.samples[0]!.t).toBe(T - 600_000 + 3);
    // Inference seconds move by the same whole seconds: they stay aligned on second boundaries.
    expect(r.samples[0]!.i![0]!.t).toBe(T - 600_000);
    // Jitter between reading the two clocks is no step.
    const small = batch(2, { boot: 'b1', mono: 1_000_000, wall: T - 600_000 + RETIME_BEYOND_MS }, { boot: 'b1', mono: 1_600_000, at: T });
    expect(steps.retime(small, T, 0, 1000)).toMatchObject({ shiftMs: 0, samples: small.samples });
  });

  it('leaves a batch of an older agent (no clock fields) exactly as it was', () => {
    const old: Batch = { type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples: [{ t: T + H3, m: { x: 1 } }], sentAt: T };
    const r = new ClockSteps().retime(old, T, 0, 1000);
    expect(r).toEqual({ samples: old.samples, shiftMs: 0, crossBoot: false });
  });

  it('across a reboot, places an unknown boot by its monotonic distance before the new boot, never in the future', () => {
    const steps = new ClockSteps();
    const interval = 1000;
    // New boot began 60 s before T (sentMono 60 s). Its newest batch, seq 100, was made at T − 1 s.
    const live = batch(100, { boot: 'new', mono: 59_000, wall: T - 1000 }, { boot: 'new', mono: 60_000, at: T });
    expect(steps.retime(live, T, 0, interval).shiftMs).toBe(0);
    // The old boot ran 3 h ahead. Seq 10 (its oldest spooled) is 90 ticks before seq 100: it
    // was made at T − 1 s − 90 s at the latest, and that is where it goes (earlier than the boot start at T − 60 s).
    const o1 = batch(10, { boot: 'old', mono: 500_000, wall: T - 200_000 + H3 }, { boot: 'new', mono: 60_100, at: T + 100 });
    const r1 = steps.retime(o1, T + 100, 0, interval);
    expect(r1.crossBoot).toBe(true);
    const latest = T - 1000 - 90 * interval;
    expect(r1.samples[0]!.t).toBe(o1.samples[0]!.t - r1.shiftMs);
    expect(Math.abs(r1.samples[0]!.t - latest)).toBeLessThanOrEqual(500);
    // The next one of that boot follows at its monotonic distance (+5 s), not at the same moment.
    const o2 = batch(15, { boot: 'old', mono: 505_000, wall: T - 195_000 + H3 }, { boot: 'new', mono: 60_200, at: T + 200 });
    const r2 = steps.retime(o2, T + 200, 0, interval);
    expect(r2.samples[0]!.t - r1.samples[0]!.t).toBe(5_000);
    // An old-boot sample whose own time is plausible (before the new boot) is kept as it is.
    const fine = new ClockSteps();
    fine.retime(live, T, 0, interval);
    const ok = batch(10, { boot: 'old2', mono: 1_000, wall: T - 3_600_000 }, { boot: 'new', mono: 60_100, at: T + 100 });
    expect(fine.retime(ok, T + 100, 0, interval)).toMatchObject({ shiftMs: 0, crossBoot: false });
    // Whatever the anchor says, nothing lands after the hub's receive time.
    const odd = new ClockSteps();
    const o3 = batch(1, { boot: 'x', mono: 10, wall: T + H3 }, { boot: 'new', mono: 600_000, at: T });
    for (const s of odd.retime(o3, T, 0, interval).samples) expect(s.t).toBeLessThanOrEqual(T);
  });

  it('across a reboot, uses the exact anchor of an old boot the hub heard live', () => {
    const steps = new ClockSteps();
    // Heard live: boot "a" at mono 1000 s was received at T − 3600 s (its wall clock 3 h ahead).
    steps.retime(batch(1, { boot: 'a', mono: 999_000, wall: T - 3_601_000 + H3 }, { boot: 'a', mono: 1_000_000, at: T - 3_600_000 + H3 }), T - 3_600_000, H3, 1000);
    // After a reboot, a spooled batch of boot "a" made 10 min later (mono +600 s).
    const b = batch(2, { boot: 'a', mono: 1_600_000, wall: T - 3_000_000 + H3 }, { boot: 'b', mono: 30_000, at: T });
    const r = steps.retime(b, T, 0, 1000);
    expect(r.crossBoot).toBe(true);
    expect(r.samples[0]!.t).toBe(T - 3_000_000);
  });
});

describe('ClockSteps.record', () => {
  it('aggregates a backlog into one event and starts another for another step', () => {
    const steps = new ClockSteps();
    const a = steps.record(H3, 1, 100, 100, T);
    expect(a.started).toBe(true);
    for (let i = 1; i < 20; i++) expect(steps.record(H3 + (i % 2 ? 1000 : 0), 1, 100 + i, 100 + i, T + i).started).toBe(false);
    const last = steps.record(H3, 1, 50, 200, T + 30);
    expect(last.event).toEqual({ at: T, stepMs: H3, samples: 21, firstT: 50, lastT: 200 });
    const other = steps.record(-60_000, 2, 300, 301, T + 40);
    expect(other).toEqual({ started: true, event: { at: T + 40, stepMs: -60_000, samples: 2, firstT: 300, lastT: 301 } });
  });
});

describe('hub: a backlog spooled 3 h ahead, sent after the clock was fixed', () => {
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

  const storedTimes = (id: string): number[] => {
    const row = hub.store.getDevice(id)!;
    return (hub.store.rawSamples(row.num, ['cpu.util'], 0, Number.MAX_SAFE_INTEGER)['cpu.util'] ?? []).map(([t]) => t);
  };

  it('stores every sample at its real time, records one clock event, and the device API shows it', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('step-back', { clock: Date.now() }));
    await peer.waitFor((f) => f.type === 'welcome');
    const now = Date.now();
    const mono0 = 5_000_000;
    // 30 samples taken 60 s … 31 s ago, one a second, on a clock 3 h ahead; sent now, clock right.
    const real = Array.from({ length: 30 }, (_, i) => now - 60_000 + i * 1000);
    for (const [i, t] of real.entries()) {
      const created = { boot: 'boot1', mono: mono0 + (t - now), wall: t + H3 };
      const b = batch(i + 1, created, { boot: 'boot1', mono: mono0 + (Date.now() - now), at: Date.now() });
      b.samples[0]!.t = t + H3;
      peer.send(b);
    }
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 30);
    expect(peer.received.filter((f) => f.type === 'error')).toEqual([]);
    const times = storedTimes('step-back').sort((a, b) => a - b);
    expect(times).toHaveLength(30);
    for (const [i, t] of times.entries()) expect(Math.abs(t - real[i]!)).toBeLessThanOrEqual(1000);
    const row = hub.store.getDevice('step-back')!;
    const events = hub.store.clockEvents(row.num);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ stepMs: H3, samples: 30 });
    expect(Math.abs(events[0]!.firstT - real[0]!)).toBeLessThanOrEqual(1000);
    expect(Math.abs(events[0]!.lastT - real[29]!)).toBeLessThanOrEqual(1000);
    const body = (await (await fetch(`http://127.0.0.1:${hub.port}/api/v1/devices/step-back`)).json()) as DeviceResponse;
    expect(body.clockEvents).toEqual(events);
    peer.close();
  });

  it('keeps one event for a backlog whose delivery spans a reconnect', async () => {
    const now = Date.now();
    const mono0 = 9_000_000;
    const send = async (seqs: number[]): Promise<void> => {
      const peer = await TestPeer.connect(agentUrl);
      peer.send(helloFrame('step-reconnect', { clock: Date.now() }));
      await peer.waitFor((f) => f.type === 'welcome');
      for (const seq of seqs) {
        const t = now - 100_000 + seq * 1000;
        peer.send(batch(seq, { boot: 'boot9', mono: mono0 + (t - now), wall: t + H3 }, { boot: 'boot9', mono: mono0 + (Date.now() - now), at: Date.now() }));
      }
      await peer.waitFor((f) => f.type === 'ack' && f.seq === seqs.at(-1));
      peer.close();
    };
    await send([1, 2, 3, 4, 5]);
    await send([6, 7, 8, 9, 10]);
    const events = hub.store.clockEvents(hub.store.getDevice('step-reconnect')!.num);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ stepMs: H3, samples: 10 });
  });

  it('still refuses the same backlog from an agent without the clock fields, as before', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('old-agent', { clock: Date.now() }));
    await peer.waitFor((f) => f.type === 'welcome');
    const now = Date.now();
    peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, sentAt: now, samples: [{ t: now - 30_000 + H3, m: { 'cpu.util': 1 } }] });
    const err = await peer.waitFor((f) => f.type === 'error' && f.seq === 1);
    expect(String(err.message)).toMatch(/future/);
    expect(storedTimes('old-agent')).toEqual([]);
    expect(hub.store.clockEvents(hub.store.getDevice('old-agent')!.num)).toEqual([]);
    peer.close();
  });
});
