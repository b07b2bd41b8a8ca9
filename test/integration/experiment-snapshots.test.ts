// Experiment snapshots through real hubs on 127.0.0.1 over one SQLite file: an experiment whose
// samples (power, CPU, temperature) and timings are 10 days old is compared at its end; the hub
// is then reopened with raw retention cut to 1 day, its storage maintenance drops the raw
// samples (checked), and compare must still show the same figures, read from the snapshot it
// took at the end. Also: late timings recompute the snapshot (keeping the figures whose raw
// samples are gone), late samples in the window recompute it, a database with an ended
// experiment and no snapshot gets one when a hub opens it, and without a snapshot and without
// raw samples the figures come from the rollups with a note saying so.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub, type HubOptions } from '../../dashboard/server/hub.js';
import { DB_FILE_NAME } from '../../dashboard/store/store.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ComparisonResponse, ExperimentStats } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type InferenceAggregate, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const DAY_MS = 86_400_000;
// Ten days ago, on an hour boundary (so on minute boundaries too: the rollup buckets line up).
const T0 = Math.floor((Date.now() - 10 * DAY_MS) / 3_600_000) * 3_600_000;
const START = T0 + 60_000;
const END = T0 + 180_000;
const ID = 'x-old-baseline';
const DEVICE = 'edge-old';
const PER_SECOND = 10;

const power = (k: number): number => 5 + (k % 4) * 0.5;
const cpu = (k: number): number => 40 + (k % 10);

function histogramOf(latencies: number[]): InferenceAggregate {
  const h = new LogHistogram();
  for (const v of latencies) h.add(v);
  const s = h.summary();
  return { model: 'resnet18', t: 0, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: latencies.length, buckets: s.buckets };
}

/** A sample a second from T0 + 30 s to T0 + 240 s, the experiment's events and its tagged timings. */
function oldSamples(): Sample[] {
  const samples = new Map<number, Sample>();
  for (let k = 30; k <= 240; k++) {
    const t = T0 + k * 1000;
    samples.set(t, { t, m: { 'power.board': power(k), 'cpu.util': cpu(k), 'temp.cpu': 50 + (k % 5) } });
  }
  const at = (t: number): Sample => samples.get(t)!;
  (at(START).e ??= []).push({ id: ID, name: 'resnet18-fp32', start: START });
  for (let t = START; t < END; t += 1000) {
    const agg = { ...histogramOf(Array.from({ length: PER_SECOND }, (_, j) => 20 + j)), t, experiment: ID };
    (at(t + 1000).i ??= []).push(agg);
  }
  (at(END).e ??= []).push({ id: ID, name: 'resnet18-fp32', start: START, end: END });
  return [...samples.values()];
}

/** Trapezoid over the power samples in [START, END], J: computed here, independently of the hub. */
function expectedEnergyJ(extra: [number, number][] = []): number {
  const points: [number, number][] = [];
  for (let k = 60; k <= 180; k++) points.push([T0 + k * 1000, power(k)]);
  points.push(...extra);
  points.sort((a, b) => a[0] - b[0]);
  let j = 0;
  for (let i = 1; i < points.length; i++) j += ((points[i - 1]![1] + points[i]![1]) / 2) * ((points[i]![0] - points[i - 1]![0]) / 1000);
  return j;
}

describe('experiment snapshots: compare outlives raw retention', () => {
  const tmp = tempDir();
  const dbFile = join(tmp.dir, DB_FILE_NAME);
  let hub: Hub | null = null;
  let seq = 0;
  /** What compare showed right after the experiment ended (and its late sample arrived). */
  let atEnd: ExperimentStats;
  /** The snapshot the start-up pass took. */
  let startUp: ExperimentStats;

  const open = async (extra: Partial<HubOptions> = {}): Promise<Hub> => {
    // 30 days of raw data until a test cuts it: the default 7 would drop this 10-day-old run at once.
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), snapshotDelayMs: 100, store: { retention: { rawMs: 30 * DAY_MS } }, ...extra });
    return hub;
  };
  const closeHub = async (): Promise<void> => {
    await hub?.close();
    hub = null;
  };
  const compare = async (): Promise<ComparisonResponse> => {
    const res = await fetch(`${hub!.url}/api/v1/experiments/compare?ids=${ID}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return JSON.parse(text) as ComparisonResponse;
  };
  /** Sends batches as an agent of DEVICE would, each acked before the next. */
  const send = async (samples: Sample[]): Promise<void> => {
    const agent = await TestPeer.connect(hub!.agentUrl);
    try {
      agent.send(helloFrame(DEVICE, { capabilities: ['cpu', 'power', 'inference'] }));
      await agent.waitFor((f) => f.type === 'welcome');
      while (samples.length > 0) {
        const s = ++seq;
        agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples: samples.splice(0, 30) });
        await agent.waitFor((f) => (f.type === 'ack' && f.seq === s) || f.type === 'error');
      }
      expect(agent.received.filter((f) => f.type === 'error')).toEqual([]);
    } finally {
      agent.close();
    }
  };
  const deviceNum = (): number => hub!.store.getDevice(DEVICE)!.num;
  const rawInWindow = (): Record<string, [number, number][]> => hub!.store.rawSamples(deviceNum(), ['power.board', 'cpu.util', 'temp.cpu'], START - 60_000, END + 60_000);
  const deleteSnapshotOnDisk = (): void => {
    const db = new Database(dbFile);
    try {
      expect(db.prepare('DELETE FROM experiment_snapshots WHERE experiment_id = ?').run(ID).changes).toBe(1);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    await open();
    // The old run, then a sample of now: retention counts back from a device's newest sample.
    await send([...oldSamples(), { t: Date.now(), m: { 'power.board': 4, 'cpu.util': 1 } }]);
  });
  afterAll(async () => {
    await closeHub();
    tmp.remove();
  });

  it('snapshots the experiment when its end is committed, and again when a late sample lands in its window', async () => {
    const first = await eventually('a snapshot of the ended experiment', async () => {
      const s = (await compare()).experiments[0]!;
      return s.snapshot ? s : null;
    });
    expect(first.snapshot!.source).toBe('raw');
    expect(first.sampleSource).toBe('raw');
    expect(first.inferences).toBe(120 * PER_SECOND);
    expect(first.energyJ).toBeCloseTo(expectedEnergyJ(), 9);
    expect(first.powerPeakW).toBe(6.5);

    // A late sample half a second into the run (a spool flushed after a reconnect): 20 W.
    await send([{ t: START + 500, m: { 'power.board': 20, 'cpu.util': 99 } }]);
    atEnd = await eventually('the snapshot recomputed with the late sample', async () => {
      const s = (await compare()).experiments[0]!;
      return s.snapshot && s.snapshot.computedAt > first.snapshot!.computedAt && s.powerPeakW === 20 ? s : null;
    });
    expect(atEnd.energyJ).toBeCloseTo(expectedEnergyJ([[START + 500, 20]]), 9);
    expect(atEnd.energyPerInferenceJ).toBe(atEnd.energyJ! / (120 * PER_SECOND));
    expect(atEnd.cpuUtilPeak).toBe(99);
    expect(atEnd.idlePowerW).not.toBeNull();
  });

  it('computes a snapshot at start for an ended experiment that has none', async () => {
    await closeHub();
    deleteSnapshotOnDisk();
    await open();
    const again = await eventually('the start-up snapshot', async () => {
      const s = (await compare()).experiments[0]!;
      return s.snapshot ? s : null;
    });
    expect(again.snapshot!.source).toBe('raw');
    expect(again.energyPerInferenceJ).toBe(atEnd.energyPerInferenceJ);
    expect(again.cpuUtilMean).toBe(atEnd.cpuUtilMean);
    startUp = again;
    // Raw samples are all still there under the default retention.
    expect(rawInWindow()['power.board']?.length).toBe(211 + 1);
  });

  it('shows exactly the same figures once raw retention (cut to 1 day) has dropped the raw samples', async () => {
    await closeHub();
    await open({ store: { retention: { rawMs: DAY_MS } }, maintenanceMs: 200 });
    await eventually('storage maintenance to drop the 10-day-old raw samples', () => Object.keys(rawInWindow()).length === 0);
    // The sample of now is still there: only the old window went.
    expect(hub!.store.rawSamples(deviceNum(), ['power.board'], Date.now() - DAY_MS, Date.now())['power.board']?.length).toBe(1);

    const after = (await compare()).experiments[0]!;
    expect(after.snapshot).toEqual(startUp.snapshot);
    for (const f of ['energyPerInferenceJ', 'energyJ', 'netEnergyPerInferenceJ', 'idlePowerW', 'powerMeanW', 'powerPeakW', 'cpuUtilMean', 'cpuUtilPeak', 'tempPeakC', 'latencyP50Ms', 'inferences'] as const) {
      expect(after[f], f).toBe(atEnd[f]);
    }
    expect(after.energyPerInferenceJ).not.toBeNull();
  });

  it('recomputes the snapshot for late timings, keeping the figures whose raw samples are gone', async () => {
    const before = (await compare()).experiments[0]!;
    const late = { ...histogramOf([30, 31, 32, 33, 34, 35, 36]), t: START + 5000, experiment: ID };
    await send([{ t: Date.now(), m: { 'power.board': 4 }, i: [late] }]);
    const after = await eventually('the snapshot recomputed with the late timings', async () => {
      const s = (await compare()).experiments[0]!;
      return s.snapshot && s.snapshot.computedAt > before.snapshot!.computedAt ? s : null;
    });
    expect(after.inferences).toBe(before.inferences + 7);
    expect(after.snapshot!.source).toBe('raw');
    expect(after.energyJ).toBe(before.energyJ);
    expect(after.cpuUtilMean).toBe(before.cpuUtilMean);
    expect(after.energyPerInferenceJ).toBe(before.energyJ! / (before.inferences + 7));
    expect(after.latencyMaxMs).toBeGreaterThan(before.latencyMaxMs!);
  });

  it('takes the figures from the rollups, with a note, when there is neither a snapshot nor raw samples', async () => {
    await closeHub();
    deleteSnapshotOnDisk();
    await open({ store: { retention: { rawMs: DAY_MS } }, maintenanceMs: 200 });
    expect(Object.keys(rawInWindow())).toEqual([]);
    const res = await eventually('a snapshot taken from rollups', async () => {
      const r = await compare();
      return r.experiments[0]!.snapshot?.source === 'rollup' ? r : null;
    });
    const s = res.experiments[0]!;
    expect(s.sampleSource).toBe('1m');
    expect(res.notes.some((n) => n.includes(ID) && n.includes('1-minute rollups') && n.includes('approximate'))).toBe(true);
    // Three 1-minute buckets overlap [START, END]: close to, not equal to, the raw figures.
    expect(s.powerMeanW! / atEnd.powerMeanW!).toBeGreaterThan(0.9);
    expect(s.powerMeanW! / atEnd.powerMeanW!).toBeLessThan(1.1);
    expect(s.energyJ).toBe(s.powerMeanW! * s.durationS);
    expect(s.energyPerInferenceJ).toBe(s.energyJ! / s.inferences);
    expect(s.powerPeakW).toBe(20);
    expect(s.cpuUtilPeak).toBe(99);
    expect(s.idlePowerW).toBeNull();
    expect(s.powerSampleIntervalS).toBe(60);
  });
});
