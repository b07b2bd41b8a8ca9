// End to end in one process: a real hub on 127.0.0.1 (temp SQLite), a real agent with its
// inference receiver on a free port, UDP timings from "user code", and what a live viewer of
// the hub sees: committed samples carrying the histograms, experiment events and infer.* metrics.
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { loadCollector } from '../../agent/collectors/load.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ExperimentEvent, InferenceAggregate, Sample } from '../../shared/protocol.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

function sendUdp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      socket.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

describe('inference timings through a real agent and hub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: Hub;
  let agent: RunningAgent;
  let viewer: TestPeer;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    viewer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/live`);
    await viewer.waitFor((f) => f.type === 'snapshot');
    agent = await startAgent({
      hubUrl: hub.agentUrl,
      intervalMs: 500,
      processIntervalMs: 0,
      inferencePort: 0,
      stateDir: `${tmp.dir}/agent-state`,
      deviceId: 'infer-agent',
      collectors: [loadCollector],
      skipInventory: true,
      log: silentLogger(),
    });
  });
  afterAll(async () => {
    await agent?.stop();
    viewer?.close();
    await hub?.close();
    tmp?.remove();
  });

  const samplesWith = (match: (s: Sample) => boolean) => (f: Record<string, unknown>) =>
    f.type === 'samples' && f.deviceId === 'infer-agent' && (f.samples as Sample[]).some(match);

  it('listens on a free port and reports it', () => {
    expect(agent.inferencePort).toBeGreaterThan(0);
  });

  it('turns UDP timings into a committed sample with histograms and infer.* metrics within 2 s', async () => {
    const port = agent.inferencePort!;
    const latencies = Array.from({ length: 50 }, (_, i) => 10 + i / 10);
    const lines = latencies.map((ms) => `ew1 e2e-model ${ms} b=4`);
    // Sent late in a second, so the 2 s bound measures the pipeline (sealed 250 ms after the
    // second ends, then the next 500 ms tick), not where in its second the test happened to start.
    await new Promise((r) => setTimeout(r, (1700 - (Date.now() % 1000)) % 1000));
    const sentAt = Date.now();
    await sendUdp(port, lines.slice(0, 25).join('\n'));
    await sendUdp(port, lines.slice(25).join('\n'));

    const frame = await viewer.waitFor(samplesWith((s) => s.i?.some((a) => a.model === 'e2e-model') ?? false), 5000);
    const elapsed = Date.now() - sentAt;
    const aggregates = (frame.samples as Sample[]).flatMap((s) => s.i ?? []).filter((a) => a.model === 'e2e-model');
    // The timings may straddle a second boundary: together they are all there.
    const merged = new LogHistogram();
    for (const a of aggregates) merged.merge(a);
    const more = await collectRest(aggregates);
    for (const a of more) merged.merge(a);
    expect(merged.count).toBe(50);
    expect(merged.sum).toBeCloseTo(latencies.reduce((s, x) => s + x, 0), 6);
    expect([...aggregates, ...more].reduce((s, a) => s + a.items, 0)).toBe(200);
    expect(merged.min).toBe(10);
    expect(merged.max).toBeCloseTo(14.9, 9);
    // Sealed at the end of the second plus 250 ms, drained on the next 500 ms tick.
    expect(elapsed).toBeLessThan(2000);

    // The sample that sealed the second carries its infer.* metrics.
    const metricFrame = await viewer.waitFor(samplesWith((s) => s.m['infer.e2e_model.rate'] !== undefined), 1000);
    const withMetrics = (metricFrame.samples as Sample[]).find((s) => s.m['infer.e2e_model.rate'] !== undefined);
    expect(withMetrics!.m['infer.e2e_model.items_rate']).toBe(4 * withMetrics!.m['infer.e2e_model.rate']!);
    expect(withMetrics!.m['infer.e2e_model.latency.max']).toBeLessThanOrEqual(14.9 + 1e-9);

    // Committed, not just relayed: the hub's store has the metric names.
    const device = hub.store.getDevice('infer-agent')!;
    expect(hub.store.metricNames(device.num)).toEqual(expect.arrayContaining(['infer.e2e_model.rate', 'infer.e2e_model.latency.p99']));
  });

  it('sends experiment starts and ends, and timings reported under the experiment', async () => {
    const base = `http://127.0.0.1:${agent.inferencePort}`;
    const started = (await (await fetch(`${base}/v1/experiments`, { method: 'POST', body: JSON.stringify({ name: 'e2e run', params: 1000 }) })).json()) as { id: string; start: number };
    await sendUdp(agent.inferencePort!, `ew1 e2e-model 5 x=${started.id}`);
    const res = await fetch(`${base}/v1/experiments/${started.id}/end`, { method: 'POST' });
    expect(res.status).toBe(200);
    const { end } = (await res.json()) as { end: number };

    const frame = await viewer.waitFor(samplesWith((s) => s.e?.some((e) => e.id === started.id) ?? false), 5000);
    const events = (frame.samples as Sample[]).flatMap((s) => s.e ?? []).filter((e) => e.id === started.id);
    // Started and ended within one tick, or on two ticks: either way once each.
    const all: ExperimentEvent[] = [...events];
    if (!all.some((e) => e.end != null)) {
      const later = await viewer.waitFor(samplesWith((s) => s.e?.some((e) => e.id === started.id && e.end != null) ?? false), 5000);
      all.push(...(later.samples as Sample[]).flatMap((s) => s.e ?? []).filter((e) => e.id === started.id));
    }
    const ended = all.filter((e) => e.end != null).at(-1)!;
    expect(ended).toMatchObject({ id: started.id, name: 'e2e run', params: 1000, start: started.start, end, dropped: 0, firstCallMs: 5 });

    const withTiming = await viewer.waitFor(samplesWith((s) => s.i?.some((a) => a.experiment === started.id) ?? false), 5000);
    const agg = (withTiming.samples as Sample[]).flatMap((s) => s.i ?? []).find((a) => a.experiment === started.id)!;
    expect(agg).toMatchObject({ model: 'e2e-model', count: 1, sum: 5, items: 1 });
  });

  it('runs on without the receiver, with a warning saying what to do, when the port is taken', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    const second = await startAgent({
      hubUrl: hub.agentUrl,
      intervalMs: 500,
      processIntervalMs: 0,
      inferencePort: agent.inferencePort!,
      stateDir: `${tmp.dir}/agent-state-2`,
      deviceId: 'infer-agent-2',
      collectors: [loadCollector],
      skipInventory: true,
      log,
    });
    try {
      expect(second.inferencePort).toBeNull();
      const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; port: number }).find((l) => /inference receiver is off/.test(l.msg));
      expect(warning).toBeDefined();
      expect(warning!.port).toBe(agent.inferencePort);
      expect(warning!.msg).toMatch(new RegExp(`port ${agent.inferencePort} on 127\\.0\\.0\\.1 is in use`));
      expect(warning!.msg).toMatch(/--inference-port/);
      // And it still samples.
      await viewer.waitFor((f) => f.type === 'samples' && f.deviceId === 'infer-agent-2', 5000);
    } finally {
      await second.stop();
    }
  });

  it('turns the receiver off with inferencePort null', async () => {
    const off = await startAgent({
      hubUrl: hub.agentUrl,
      intervalMs: 500,
      processIntervalMs: 0,
      inferencePort: null,
      stateDir: `${tmp.dir}/agent-state-3`,
      deviceId: 'infer-agent-3',
      collectors: [loadCollector],
      skipInventory: true,
      log: silentLogger(),
    });
    expect(off.inferencePort).toBeNull();
    await off.stop();
  });

  /** Aggregates for the same model in the following second, if the timings straddled one. */
  async function collectRest(seen: InferenceAggregate[]): Promise<InferenceAggregate[]> {
    const count = seen.reduce((s, a) => s + a.count, 0);
    if (count >= 50) return [];
    const newest = Math.max(...seen.map((a) => a.t));
    const frame = await viewer.waitFor(samplesWith((s) => s.i?.some((a) => a.model === 'e2e-model' && a.t > newest) ?? false), 3000);
    return (frame.samples as Sample[]).flatMap((s) => s.i ?? []).filter((a) => a.model === 'e2e-model' && a.t > newest);
  }
});
