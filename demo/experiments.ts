// Finished experiments for the demo's compare page: `edgewatch bench` of an original and a
// compressed model on the Orin Nano, 5 interleaved trials each with a 20-call warm-up, timings
// as the agent sends them (per-second log histograms, shared/histogram.ts), quality scores,
// parameter counts and sizes. The device's samples during each trial carry the load, so its
// board power gives energy per inference like a real run's.
import { LogHistogram } from '../shared/histogram.js';
import type { ExperimentEvent, InferenceAggregate } from '../shared/protocol.js';
import { Rng } from '../bench/storage-workload.js';
import { EDGEWATCH_VERSION } from '../shared/version.js';

export interface Variant {
  readonly name: string;
  readonly model: string;
  /** Median latency of one call, ms, and its spread within a trial (log-normal σ). */
  readonly p50Ms: number;
  readonly sigma: number;
  /** Latency of the very first call (engine build, cuDNN autotuning) and of the rest of the warm-up, × p50. */
  readonly firstCallMs: number;
  readonly warmupFactor: number;
  /** How hard the board works meanwhile (0–1): drives utilisation, temperatures and rail power. */
  readonly load: number;
  readonly params: number;
  readonly modelBytes: number;
  readonly top1: number;
}

/** ResNet-50 on an Orin Nano's GPU: FP32 TensorRT against INT8 (ImageNet top-1 as torchvision and TensorRT's calibration report them). */
export const VARIANTS: readonly [Variant, Variant] = [
  { name: 'fp32', model: 'resnet50-fp32', p50Ms: 21.4, sigma: 0.05, firstCallMs: 412, warmupFactor: 1.8, load: 0.85, params: 25_557_032, modelBytes: 102_436_856, top1: 0.7613 },
  { name: 'int8', model: 'resnet50-int8', p50Ms: 7.9, sigma: 0.07, firstCallMs: 188, warmupFactor: 2.2, load: 0.6, params: 25_557_032, modelBytes: 26_066_408, top1: 0.7589 },
];

export const TRIALS_PER_VARIANT = 5;
export const WARMUP_CALLS = 20;
const TRIAL_MS = 40_000;
/** Between trials: longer than the 10 s before each start that idle power is measured over. */
const GAP_MS = 20_000;

export interface Trial {
  readonly id: string;
  readonly variant: Variant;
  readonly trial: number;
  readonly order: number;
  readonly start: number;
  readonly end: number;
  /** Each trial's own median: trials of one variant differ by ~2 %, as steady runs do. */
  readonly p50Ms: number;
}

export interface BenchPlan {
  readonly benchId: string;
  readonly trials: readonly Trial[];
  /** First and last ms the trials (with the idle window before the first) cover. */
  readonly from: number;
  readonly to: number;
}

/** The trials, interleaved fp32, int8, fp32, … from `from` (wall clock, ms), as `edgewatch bench` runs them. */
export function planBench(from: number, seed: number): BenchPlan {
  const rng = new Rng(seed);
  // Ids unique per run: a second demo on the same --data must not merge into the first's trials.
  const stamp = Math.floor(from / 1000).toString(36);
  const benchId = `b-demo-${stamp}`;
  const trials: Trial[] = [];
  let t = Math.ceil(from / 1000) * 1000 + GAP_MS;
  for (let round = 1; round <= TRIALS_PER_VARIANT; round++) {
    for (const variant of VARIANTS) {
      const order = trials.length + 1;
      trials.push({ id: `x-demo-${stamp}-${variant.name}-${round}`, variant, trial: round, order, start: t, end: t + TRIAL_MS, p50Ms: variant.p50Ms * Math.exp(0.02 * rng.normal()) });
      t += TRIAL_MS + GAP_MS;
    }
  }
  return { benchId, trials, from, to: t };
}

/** The trial running at `t`, if any. */
export function trialAt(plan: BenchPlan, t: number): Trial | undefined {
  return plan.trials.find((x) => t >= x.start && t < x.end);
}

function startEvent(plan: BenchPlan, x: Trial): ExperimentEvent {
  return {
    id: x.id,
    name: `resnet50/${x.variant.name}`,
    tags: { bench: plan.benchId, variant: x.variant.name, trial: String(x.trial), order: String(x.order), demo: 'true' },
    params: x.variant.params,
    modelBytes: x.variant.modelBytes,
    start: x.start,
    warmup: { calls: WARMUP_CALLS },
    // What the agent records on an Orin Nano at each start (agent/conditions): the same for every trial, so compare finds no difference.
    conditions: { agentVersion: `${EDGEWATCH_VERSION}-demo`, kernel: '5.15.148-tegra', powerMode: '15W', powerModeId: 0, jetsonClocks: true, cpuGovernor: 'schedutil', cpuMinMHz: 729.6, cpuMaxMHz: 1510.4, throttleAtStart: [], startTempC: 41 + (x.order % 3) * 0.5 },
  };
}

/**
 * What one trial sends: its start and end events and every second's timings (warm-up apart),
 * each keyed by the second it belongs in (the agent sends a second's aggregate with the
 * sample after it ends).
 */
export function trialTraffic(plan: BenchPlan, x: Trial, rng: Rng): { events: [number, ExperimentEvent][]; aggregates: InferenceAggregate[] } {
  const v = x.variant;
  const aggregates: InferenceAggregate[] = [];
  let clock = x.start;
  let calls = 0;
  let measuredFrom = 0;
  let firstCallMs = 0;
  let cell: { t: number; warmup: boolean; hist: LogHistogram } | null = null;
  const seal = (): void => {
    if (cell && cell.hist.count > 0) {
      aggregates.push({ model: v.model, experiment: x.id, t: cell.t, ...cell.hist.summary(), items: cell.hist.count, ...(cell.warmup ? { warmup: true as const } : {}) });
    }
    cell = null;
  };
  while (clock < x.end) {
    const warmup = calls < WARMUP_CALLS;
    const base = calls === 0 ? v.firstCallMs : warmup ? x.p50Ms * (1 + (v.warmupFactor - 1) * (1 - calls / WARMUP_CALLS)) : x.p50Ms;
    // Log-normal around the median, with a rare long call (a GC pause, a preempted stream).
    const ms = base * Math.exp(v.sigma * rng.normal()) * (rng.chance(0.004) ? 2.5 : 1);
    if (!warmup && measuredFrom === 0) measuredFrom = clock;
    if (calls === 0) firstCallMs = ms;
    const second = Math.floor(clock / 1000) * 1000;
    if (!cell || cell.t !== second || cell.warmup !== warmup) {
      seal();
      cell = { t: second, warmup, hist: new LogHistogram() };
    }
    cell.hist.add(ms);
    // Pre- and post-processing between calls (decode, resize, argmax): ~0.6 ms.
    clock += ms + 0.6;
    calls++;
  }
  seal();
  const end = Math.floor(clock);
  // The same evaluation set every trial: the same top-1.
  const scores = [{ name: 'top1', value: v.top1, better: 'higher' as const }];
  return {
    events: [
      [x.start, startEvent(plan, x)],
      [end, { ...startEvent(plan, x), end, measuredFrom: Math.floor(measuredFrom), firstCallMs, scores, dropped: 0 }],
    ],
    aggregates,
  };
}

/** Everything the bench sends, ready to attach to the device's samples. */
export function benchTraffic(plan: BenchPlan, seed: number): { events: [number, ExperimentEvent][]; aggregates: InferenceAggregate[] } {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const events: [number, ExperimentEvent][] = [];
  const aggregates: InferenceAggregate[] = [];
  for (const x of plan.trials) {
    const traffic = trialTraffic(plan, x, rng);
    events.push(...traffic.events);
    aggregates.push(...traffic.aggregates);
  }
  return { events, aggregates };
}
