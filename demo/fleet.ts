// The demo's simulated fleet: each board replays real captures (bench/storage-workload.ts) and
// speaks the agent protocol to the hub (link.ts). At start each one sends its last 24 hours
// (thinned with age, so it takes seconds) in large batches, as an agent resending its spool
// after an outage would; then one sample a second, live, with a process table every 5 s.
import type { Logger } from 'pino';
import { Rng, SimDevice } from '../bench/storage-workload.js';
import type { ExperimentEvent, InferenceAggregate, Sample } from '../shared/protocol.js';
import { demoDevices, demoHello, type DemoDeviceSpec } from './devices.js';
import { benchTraffic, planBench, trialAt, type BenchPlan } from './experiments.js';
import { DemoLink } from './link.js';
import { applyThrottle, liveEpisodes, type Episode } from './pi-episode.js';
import { processTable } from './processes.js';

const HOUR = 3_600_000;
const INTERVAL_MS = 1000;
/** Samples per backfill batch: ~2 MB of JSON at ~125 values a sample, under the 4 MiB frame limit. */
const BACKFILL_BATCH = 400;
const BACKFILL_IN_FLIGHT = 4;
/** Live batches a device may have unacked before it skips a tick (a stalled hub must not pile them up). */
const LIVE_IN_FLIGHT = 30;
const PROCESS_EVERY_S = 5;

export interface DemoFleetOptions {
  agentUrl: string;
  /** The device token for a demo device id (undefined with auth off). */
  tokenFor: (deviceId: string) => string | undefined;
  log: Logger;
  fixtures: URL;
  /** How far back the backfill reaches (default 24 h). */
  historyMs?: number;
  seed?: number;
  now?: number;
}

export interface DemoFleet {
  readonly deviceIds: readonly string[];
  readonly bench: BenchPlan;
  /** Resolves when the 24 h of history (sent in the background) is stored: samples and values sent, and how long it took. */
  readonly history: Promise<{ samples: number; values: number; ms: number }>;
  stop(): Promise<void>;
}

/**
 * Seconds between the history samples sent at time t: every 10 s back to an hour, every 2
 * minutes before that (content for every rollup tier and history range). The live charts'
 * 10 minutes and the experiments go at the agent's own 1 s (energy integrates power over
 * each trial). A full 24 h at 1 Hz would take minutes to generate and store; this, seconds.
 */
function stepAt(t: number, now: number): number {
  return now - t <= HOUR ? 10 : 120;
}

/** The part of the 24 h sent at 1 Hz before the demo says it runs: what the live charts show. */
const RECENT_MS = 10 * 60_000;

interface Running {
  spec: DemoDeviceSpec;
  index: number;
  /** The device's live stream: the last 10 minutes, then one sample a second. */
  sim: SimDevice;
  link: DemoLink;
  rng: Rng;
  /** Timings and experiment events still to attach, in time order (the bench device only). */
  aggregates: InferenceAggregate[];
  events: [number, ExperimentEvent][];
  episodes: Episode[];
  load: (t: number) => number | undefined;
}

export async function startDemoFleet(opts: DemoFleetOptions): Promise<DemoFleet> {
  const now = opts.now ?? Date.now();
  const seed = opts.seed ?? 14;
  const historyMs = opts.historyMs ?? 24 * HOUR;
  const start = Math.floor((now - historyMs) / 1000) * 1000;
  const recentFrom = Math.floor((now - RECENT_MS) / 1000) * 1000;
  const log = opts.log;
  const bench = planBench(now - 3 * HOUR, seed);
  const traffic = benchTraffic(bench, seed);
  // The idle seconds before the first trial and a little after the last, at 1 Hz too.
  const benchFrom = Math.floor((bench.from - 30_000) / 1000) * 1000;
  const benchTo = bench.to + 10_000;
  const piBoot = now - 20 * HOUR;
  // A sag 5 hours ago (a USB supply under a camera's inrush), then one every 10 minutes live.
  const piPast: Episode[] = [{ from: now - 5 * HOUR, to: now - 5 * HOUR + 20 * 60_000 }];
  const piLive = liveEpisodes(now);
  const seedOf = (i: number, part: number): number => (seed * 0x9e3779b1 + i * 0x85ebca6b + part * 0xc2b2ae35) >>> 0;

  const specs = demoDevices(opts.fixtures);
  const running: Running[] = [];
  try {
    for (const [index, spec] of specs.entries()) {
      const link = await DemoLink.open(opts.agentUrl, demoHello(spec, INTERVAL_MS, Date.now()), opts.tokenFor(spec.id), log);
      const isBench = spec.id === 'demo-orin-nano';
      const benchLoad = (t: number): number | undefined => {
        if (t < bench.from || t >= bench.to) return undefined;
        // The board idles between trials: the 10 s before each start are its idle power.
        return trialAt(bench, t)?.variant.load ?? 0;
      };
      running.push({
        spec,
        index,
        sim: new SimDevice(spec.id, spec.kind.kind, spec.kind, seedOf(index, 0), recentFrom),
        link,
        rng: new Rng(seed + index),
        aggregates: isBench ? [...traffic.aggregates].sort((a, b) => a.t - b.t) : [],
        events: isBench ? [...traffic.events].sort((a, b) => a[0] - b[0]) : [],
        episodes: spec.id === 'demo-pi4' ? piPast : [],
        load: isBench ? benchLoad : (spec.load ?? (() => undefined)),
      });
    }
  } catch (err) {
    await Promise.all(running.map((r) => r.link.close()));
    throw err;
  }

  const decorate = (r: Running, s: Sample, opts: { processes: boolean; bench: boolean }): Sample => {
    if (r.spec.id === 'demo-pi4') applyThrottle(s.m, s.t, r.episodes, piLive, piBoot);
    if (opts.bench) {
      // A second's timings go with the first sample after it ended, as the agent sends them.
      let n = 0;
      while (n < r.aggregates.length && r.aggregates[n]!.t + 1000 <= s.t && n < 256) n++;
      if (n > 0) s.i = r.aggregates.splice(0, n);
      let k = 0;
      while (k < r.events.length && r.events[k]![0] <= s.t && k < 64) k++;
      if (k > 0) s.e = r.events.splice(0, k).map(([, e]) => e);
    }
    if (opts.processes) s.p = processTable(r.spec.id, r.load(s.t) ?? 0.3, r.rng);
    return s;
  };

  let samples = 0;
  let values = 0;
  let stopped = false;
  /**
   * Sends `sim`'s samples up to `until` (wall clock, ms) in large batches, a few in flight,
   * `step(t)` seconds apart. Generation is synchronous between batches, so the hub (same
   * process) keeps serving meanwhile.
   */
  const replay = async (r: Running, sim: SimDevice, simStart: number, until: number, step: (t: number) => number, bench: boolean): Promise<void> => {
    const inFlight = new Set<Promise<void>>();
    let batch: Sample[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const p = r.link.send(batch).finally(() => inFlight.delete(p));
      inFlight.add(p);
      batch = [];
      if (inFlight.size >= BACKFILL_IN_FLIGHT) await Promise.race(inFlight);
      else await new Promise((resolve) => setImmediate(resolve));
    };
    let skip = 0;
    while (!stopped && simStart + (sim.nextSecond + skip) * 1000 < until) {
      const t = simStart + (sim.nextSecond + skip) * 1000;
      const s = decorate(r, sim.next({ skip, burst: r.load(t) }), { processes: false, bench });
      samples++;
      values += Object.keys(s.m).length;
      batch.push(s);
      if (batch.length >= BACKFILL_BATCH) await flush();
      skip = step(s.t) - 1;
    }
    await flush();
    await Promise.all(inFlight);
  };

  // First the last 10 minutes, so every live chart is full when the demo says it runs.
  const t0 = Date.now();
  const liveSecond = Math.floor((Date.now() - recentFrom) / 1000);
  await Promise.all(running.map((r) => replay(r, r.sim, recentFrom, recentFrom + liveSecond * 1000, () => 1, false)));
  log.info({ devices: running.length, samples, ms: Date.now() - t0 }, 'demo: last 10 minutes sent');

  // Live: one sample a second per device, on the device's own grid.
  let timer: NodeJS.Timeout | null = null;
  const tick = (): void => {
    if (stopped) return;
    const second = Math.floor((Date.now() - recentFrom) / 1000);
    for (const r of running) {
      if (r.sim.nextSecond > second) continue;
      if (r.link.inFlight >= LIVE_IN_FLIGHT) continue;
      const skip = second - r.sim.nextSecond;
      const t = recentFrom + second * 1000;
      const s = decorate(r, r.sim.next({ skip, burst: r.load(t) }), { processes: second % PROCESS_EVERY_S === 0, bench: false });
      r.link.send([s]).catch((err: Error) => log.warn({ device: r.spec.id, err: err.message }, 'demo sample not stored'));
    }
    timer = setTimeout(tick, 1000 - ((Date.now() - recentFrom) % 1000) + 5);
  };
  tick();

  // Then the past, in the background: the experiments first (the compare page waits on them),
  // then the rest of the 24 h, as an agent resending its spool after an outage would.
  const history = (async () => {
    const t1 = Date.now();
    const bencher = running.find((r) => r.aggregates.length > 0);
    if (bencher) await replay(bencher, new SimDevice(bencher.spec.id, bencher.spec.kind.kind, bencher.spec.kind, seedOf(bencher.index, 1), benchFrom), benchFrom, benchTo, () => 1, true);
    await Promise.all(
      running.map(async (r) => {
        const hasBench = r === bencher;
        const sim = new SimDevice(r.spec.id, r.spec.kind.kind, r.spec.kind, seedOf(r.index, 2), start);
        // The bench device's experiment window is already there: stepped over, not sent twice.
        const step = (t: number): number => {
          const s = stepAt(t, now);
          if (hasBench && t < benchTo && t + s * 1000 >= benchFrom) return Math.ceil((benchTo - t) / 1000);
          return s;
        };
        await replay(r, sim, start, recentFrom, step, false);
      }),
    );
    const done = { samples, values, ms: Date.now() - t1 };
    log.info({ devices: running.length, ...done }, 'demo: 24 h of history sent');
    return done;
  })();
  history.catch((err: Error) => log.warn({ err: err.message }, 'demo: history not fully sent'));

  return {
    deviceIds: running.map((r) => r.spec.id),
    bench,
    history,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await history.catch(() => undefined);
      await Promise.all(running.map((r) => r.link.close()));
    },
  };
}
