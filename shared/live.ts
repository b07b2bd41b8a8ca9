// Shapes the hub sends to browsers: REST responses under /api/v1 and frames on the live
// socket (/ws/live). Types only, so the browser bundle can import them without pulling in
// the validation library.
import type { Inventory, ProcessTable, Sample } from './protocol.js';

export interface DeviceSummary {
  id: string;
  name: string;
  hostname: string | null;
  /** An agent is connected right now. */
  online: boolean;
  /** Hub time (ms) the last batch from this device was committed; null if none yet. */
  lastSeen: number | null;
  firstSeen: number;
  intervalMs: number | null;
  agentVersion: string | null;
  capabilities: string[];
  inventory: Inventory;
  /**
   * The most recent sample committed for this device (device clock), without its process
   * table (`p`): GET /api/v1/devices/:id/processes serves that.
   */
  latest: Sample | null;
  /** Estimated device clock minus hub clock, ms; null until a batch has arrived. */
  clockOffsetMs: number | null;
  /**
   * The device's clock is more than 2 minutes off: its sample times are stored on the hub's
   * clock (t − offset). Always sent by this hub; optional for older ones.
   */
  clockCorrected?: boolean;
  /** Samples the agent reported dropping because its buffer was full. */
  droppedSamples: number;
  /** A simulated device of `edgewatch demo`; absent for real ones. */
  demo?: true;
}

/** GET /api/v1/devices/:id. */
export interface DeviceResponse {
  device: DeviceSummary;
  /** Every metric name the device has reported. */
  metrics: string[];
  /**
   * Metric segment → the model's own name, for the device's infer.<segment>.* metrics
   * (`py_sdk_demo` → `py-sdk-demo`): from the inference timings the hub keeps (as long as raw
   * data), numbered on collisions as the agent numbers them. Always sent by this hub; optional
   * for older ones.
   */
  models?: Record<string, string>;
  /**
   * The device's recent wall-clock steps that the hub re-timed samples for (a backlog spooled
   * on a clock that was then fixed), newest first. Always sent by this hub; optional for older ones.
   */
  clockEvents?: ClockEvent[];
}

/** A device's wall clock stepped while batches waited: their samples were moved by stepMs. */
export interface ClockEvent {
  /** Hub clock, ms, when the hub saw the step. */
  at: number;
  /** How far the device clock jumped (positive: set back); samples were moved back by it. */
  stepMs: number;
  /** Samples re-timed, and their range on the hub timeline (ms). */
  samples: number;
  firstT: number;
  lastT: number;
}

/** One downsampled point: [bucket start (ms), mean, min, max]. */
export type SeriesPoint = [t: number, mean: number, min: number, max: number];

/**
 * Where stored history comes from. `raw`: every sample (kept 7 days by default); `1m` and `1h`:
 * per-minute and per-hour min/max/mean/count rollups (kept 90 days and 2 years by default).
 */
export type StorageTier = 'raw' | '1m' | '1h';
export const STORAGE_TIERS: readonly StorageTier[] = ['raw', '1m', '1h'];

export interface SeriesResponse {
  deviceId: string;
  from: number;
  to: number;
  /** Width of one bucket in ms; 0 when points are raw samples. */
  stepMs: number;
  /**
   * The tier the points were computed from: the finest that keeps the answer within the points
   * asked for and still holds data for `from` (older raw data is gone after its retention).
   * Always sent by this hub; optional for older ones.
   */
  tier?: StorageTier;
  series: Record<string, SeriesPoint[]>;
}

/** One tier of one device's stored history (GET /api/v1/storage). */
export interface TierUsage {
  tier: StorageTier;
  /** Bytes this device's data takes in this tier (blob bytes plus an estimate of row overhead). */
  bytes: number;
  /** Values (raw) or rollup rows (1m, 1h) stored. */
  values: number;
  /** Device clock (ms) of the oldest and newest data in the tier; null when empty. */
  oldest: number | null;
  newest: number | null;
  /** Raw tier only: the values compressed into sealed 15-minute windows, and their bytes (included in `values` and `bytes`). */
  sealed?: { values: number; bytes: number };
  /**
   * Raw tier only: the values still stored one row per sample time until their window is sealed,
   * their bytes, and the end (device clock, ms) of the oldest window among them (null when none).
   */
  unsealed?: { values: number; bytes: number; windowEnd: number | null };
}

/** Raw values of all devices on one side of sealing, with the bytes their tables take. */
export interface RawSealUsage {
  values: number;
  bytes: number;
  /** bytes ÷ values; null with no values. */
  bytesPerValue: number | null;
}

export interface DeviceStorage {
  deviceId: string;
  name: string;
  bytes: number;
  tiers: TierUsage[];
}

/** GET /api/v1/storage: where the database's bytes go, and the retention that bounds them. */
export interface StorageResponse {
  /** Size of the SQLite file (plus its WAL) on disk. */
  fileBytes: number;
  /** Bytes in use inside the file (pages that are not free). */
  usedBytes: number;
  /** Retention per tier, ms. */
  retentionMs: Record<StorageTier, number>;
  /** Size cap in bytes: the oldest data is dropped beyond it; null when there is none. */
  sizeCapBytes: number | null;
  /** Bytes stored per value in the raw tier, over all devices (null while empty). */
  rawBytesPerValue: number | null;
  devices: DeviceStorage[];
  /** Bytes of the other tables (process tables, inference histograms, batches…), by table. */
  otherBytes: Record<string, number>;
  /** Hub clock (ms) of the last retention pass; null before the first. */
  lastRetentionAt: number | null;
  /** Remote-write destinations and their queues (GET /api/v1/storage adds them; the store alone does not know them). */
  remoteWrite?: RemoteWriteStatus[];
  /** Raw values already sealed (compressed per window: the steady-state cost per value). */
  rawSealed?: RawSealUsage;
  /** Raw values not sealed yet (one row per sample time: several times the sealed cost, until their window seals). */
  rawUnsealed?: RawSealUsage;
  /**
   * How sealing works: each device's raw samples are sealed per window of `windowMs` (15 min)
   * once the device has sent samples `graceMs` past the window's end, or the hub's clock is
   * `idleMs` past it (a device that went quiet).
   */
  sealing?: { windowMs: number; graceMs: number; idleMs: number };
}

/**
 * GET /api/v1/devices/:id/processes[?at=<ms>]: the process table taken at or before `at`
 * (device clock; default the newest). t and table are null when there is none (no table yet,
 * an agent that does not send them, or `at` before the first one kept: tables are kept 3 days).
 * Live tables also arrive on /ws/live as the `p` of samples.
 */
export interface ProcessesResponse {
  deviceId: string;
  /** Device clock (ms) the table was taken at. */
  t: number | null;
  table: ProcessTable | null;
}

/** Whether the hub can save data (on /healthz and the live feed's `hub` frame). */
export interface HubStatus {
  writable: boolean;
  /** Why not, e.g. "the disk or database is full (SQLITE_FULL)"; null while writable. */
  reason: string | null;
  /** Hub clock (ms) since when writes fail; null while writable. */
  since: number | null;
}

export type LiveFrame =
  | { type: 'snapshot'; v: 1; devices: DeviceSummary[] }
  /** Sent after every snapshot and whenever the hub's ability to save data changes. */
  | { type: 'hub'; v: 1; status: HubStatus }
  | { type: 'device'; v: 1; device: DeviceSummary }
  | { type: 'samples'; v: 1; deviceId: string; samples: Sample[] };

import type { RunConditions } from './conditions.js';
import type { Score, Warmup } from './inference.js';

// Experiments: an original model and its compressed versions run on a device, compared.
// GET /api/v1/experiments[?device=&name=&from=&to=] → { experiments: ExperimentSummary[] }
// GET /api/v1/experiments/<id>                      → { experiment: ExperimentSummary }
// GET /api/v1/experiments/compare?ids=a,b[&baseline=a][&idle=<s>][&format=json|csv|md|html] → ComparisonResponse

export interface ExperimentSummary {
  id: string;
  deviceId: string;
  deviceName: string;
  /** Runs that share a name are repeats of one experiment. */
  name: string;
  tags: Record<string, string>;
  /** Parameter count of the model under test, if the client gave it. */
  params: number | null;
  /** Size of the model's weights, bytes, if the client gave it. */
  modelBytes: number | null;
  /** Device clock, ms. */
  start: number;
  /** Device clock, ms; null while the experiment runs. */
  end: number | null;
  /**
   * 'timeout': its agent never ended it and the hub closed it at its last data
   * (dashboard/server/experiment-timeout.ts); null: ended by its agent, or still running.
   */
  endedBy?: 'timeout' | null;
  /** Models with timings in this experiment. */
  models: string[];
  /** Inference calls timed, warm-up included (in ExperimentStats: the measured calls only). */
  inferences: number;
}

/** Where an experiment's timings came from: reported under its id, or (none were) untagged timings within its time range. */
export type LatencySource = 'experiment' | 'time-range';

/**
 * Where power figures came from, by preference: `board` (power.board); `gpu+rapl` (sum of
 * gpu.<i>.power, power.rapl.package_* and power.rapl.dram*); `hwmon` (sum of power.hwmon.*).
 */
export type PowerSource = 'board' | 'gpu+rapl' | 'hwmon';

/** The numeric figures of ExperimentStats: what RepeatGroup averages and the exports list. */
export type ExperimentFigure =
  | 'inferences'
  | 'latencyP95Ms'
  | 'latencyCov'
  | 'firstCallMs'
  | 'warmupInferences'
  | 'warmupMeanMs'
  | 'idlePowerW'
  | 'netEnergyJ'
  | 'netEnergyPerInferenceJ'
  | 'throttledS'
  | 'timingsDropped'
  | 'items'
  | 'durationS'
  | 'inferencesPerS'
  | 'itemsPerS'
  | 'latencyMeanMs'
  | 'latencyP50Ms'
  | 'latencyP90Ms'
  | 'latencyP99Ms'
  | 'latencyMaxMs'
  | 'latencyStdevMs'
  | 'cpuUtilMean'
  | 'cpuUtilPeak'
  | 'gpuUtilMean'
  | 'gpuUtilPeak'
  | 'memUsedPeakBytes'
  | 'powerMeanW'
  | 'powerPeakW'
  | 'energyJ'
  | 'energyPerInferenceJ'
  | 'tempPeakC'
  | 'params'
  | 'modelBytes'
  | 'speedupP50'
  | 'speedupMean'
  | 'compressionParams'
  | 'spaceSavingParams'
  | 'compressionBytes'
  | 'spaceSavingBytes';

/**
 * One experiment's figures over [start, end] (a running one: up to the device's newest sample).
 * Null means "not measurable here" (no samples of that metric, no timings, a side lacking a number).
 */
export type SampleSource = 'raw' | '1m' | '1h';

/** When the hub computed an ended experiment's stored figures, and from what (dashboard/server/experiment-snapshots.ts). */
export interface ExperimentSnapshotInfo {
  /** Hub clock, ms. */
  computedAt: number;
  source: 'raw' | 'rollup';
}

export interface ExperimentStats extends ExperimentSummary {
  /** end is null: the figures cover the experiment so far. */
  running: boolean;
  items: number;
  durationS: number;
  /** Inference calls per second over the duration. */
  inferencesPerS: number | null;
  itemsPerS: number | null;
  latencySource: LatencySource | null;
  /** Latency of one call, ms, from the merged per-second histograms (quantiles within 1 %). */
  latencyMeanMs: number | null;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
  /** Population standard deviation of the calls' latencies. */
  latencyStdevMs: number | null;
  /** Coefficient of variation of the calls' latencies: stdev ÷ mean. */
  latencyCov: number | null;
  /** The warm-up the experiment asked for; null = none, every timing is measured. */
  warmup: Warmup | null;
  /** Latency of the experiment's first call, ms (always reported, warm-up or not). */
  firstCallMs: number | null;
  /** Timings in the warm-up window: not in the latency, throughput or energy figures above. */
  warmupInferences: number;
  warmupMeanMs: number | null;
  /** Timings the agent reported it could not count during the experiment; null from an agent that does not report them. */
  timingsDropped: number | null;
  /** What the device was set to at the start; null from an agent that predates conditions. */
  conditions: RunConditions | null;
  /** Quality scores (top-1, mAP, WER…) reported for this experiment. */
  scores: Score[];
  /** Versus the baseline's score of the same name: this − baseline, in the score's own unit. */
  scoreDeltas: ScoreDelta[];
  /** cpu.util, %: mean of the samples and the highest. */
  cpuUtilMean: number | null;
  cpuUtilPeak: number | null;
  /** gpu.<i>.util, %, averaged over the GPUs at each sample; null when the device has no GPU metrics. */
  gpuUtilMean: number | null;
  gpuUtilPeak: number | null;
  /** Highest mem.used, bytes. */
  memUsedPeakBytes: number | null;
  powerSource: PowerSource | null;
  /** The metrics summed for power. */
  powerMetrics: string[];
  /** Mean of the power samples and the highest, W. */
  powerMeanW: number | null;
  powerPeakW: number | null;
  /** Median spacing of the power samples, s: how finely energy was integrated. */
  powerSampleIntervalS: number | null;
  /** ∫ power dt over the measured window (trapezoid), J. */
  energyJ: number | null;
  /** energyJ ÷ measured inferences, J; null with no power or no inferences. */
  energyPerInferenceJ: number | null;
  /** Mean power over the idle window before the start (ComparisonResponse.idleWindowS), W. */
  idlePowerW: number | null;
  /** energyJ − idlePowerW × measured duration: what the work itself cost, J. */
  netEnergyJ: number | null;
  netEnergyPerInferenceJ: number | null;
  /** Highest of temp.* and gpu.<i>.temp, °C. */
  tempPeakC: number | null;
  /** A Pi throttling flag (under-voltage, frequency cap, throttled, soft temperature limit) was 1; null without Pi flags. */
  throttled: boolean | null;
  /** Seconds of the run during which a throttling flag was 1; null without Pi flags. */
  throttledS: number | null;
  /**
   * Where the sample-derived figures (CPU, GPU, memory, power, energy, temperatures, throttling)
   * come from: raw samples, or 1-minute / 1-hour rollups (approximate) for an experiment that
   * predates snapshots and whose raw samples retention has dropped.
   */
  sampleSource?: SampleSource;
  /** The stored snapshot these figures were read from (ended experiments); null: computed for this answer. */
  snapshot?: ExperimentSnapshotInfo | null;
  // Versus the baseline (1 and 0 for the baseline itself). With original M and compressed M*:
  /** δ = p50(baseline) ÷ p50(this). */
  speedupP50: number | null;
  /** δ on mean latency. */
  speedupMean: number | null;
  /** α = params(baseline) ÷ params(this). */
  compressionParams: number | null;
  /** β = (params(baseline) − params(this)) ÷ params(this). */
  spaceSavingParams: number | null;
  /** α on model bytes. */
  compressionBytes: number | null;
  /** β on model bytes. */
  spaceSavingBytes: number | null;
}

/** Mean ± sample standard deviation (n − 1) of one figure over a group's runs that have it. */
export interface RepeatFigure {
  /** Runs with a value for this figure. */
  n: number;
  mean: number | null;
  /** Null with fewer than two values. */
  stdev: number | null;
}

export interface ScoreDelta {
  name: string;
  better: 'higher' | 'lower';
  value: number;
  baseline: number;
  /** value − baseline. */
  delta: number;
  /** The change is in the worse direction. */
  worse: boolean;
}

/** A figure across trials: the median of the trials' values and its bootstrap 95 % CI. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

export type Verdict = 'baseline' | 'faster' | 'slower' | 'no measurable difference';

/** One variant against the baseline's trials. */
export interface TrialComparison {
  /** δ = median of baseline trial p50s ÷ median of this variant's, with a bootstrap 95 % CI on the ratio. */
  speedup: Estimate;
  /** Two-sided Mann–Whitney U test over the trial p50s (exact for small n). */
  pValue: number;
  /** "no measurable difference" when the CI spans 1× or p ≥ 0.05. */
  verdict: Verdict;
}

/**
 * A group's trials (repeats, e.g. from `edgewatch bench`) summarised the way MLPerf and trtexec
 * reports read: per-trial figures, their median and spread, never a best-of-N.
 */
export interface TrialSummary {
  n: number;
  latencyP50Ms: Estimate | null;
  latencyP90Ms: Estimate | null;
  latencyP95Ms: Estimate | null;
  latencyP99Ms: Estimate | null;
  latencyMeanMs: Estimate | null;
  inferencesPerS: Estimate | null;
  energyPerInferenceJ: Estimate | null;
  netEnergyPerInferenceJ: Estimate | null;
  /** Coefficient of variation of the trial p50s across trials. */
  cov: number | null;
  /** Null for the baseline's own group. */
  versusBaseline: TrialComparison | null;
  verdict: Verdict;
  /** Plain-word warnings: high CoV, short trials, too few trials for a test; each says how to steady it. */
  warnings: string[];
}

/** Compared experiments that share a name: repeats of one run. */
export interface RepeatGroup {
  name: string;
  runs: number;
  ids: string[];
  figures: Record<ExperimentFigure, RepeatFigure>;
  /** Across-trial statistics; null with fewer than 2 runs in the group. */
  trials: TrialSummary | null;
}

export interface ComparisonResponse {
  /** Id of the experiment the ratios are against. */
  baseline: string;
  experiments: ExperimentStats[];
  /** One per distinct name, in order of first appearance (runs 1 has stdev null). */
  groups: RepeatGroup[];
  /** Seconds before each start whose power is the idle power for net energy. */
  idleWindowS: number;
  /** Plain-word differences in run conditions between compared runs ("run B was in 15W mode, run A in MAXN"). */
  conditionWarnings: string[];
  /** Plain-word notes about the figures: warm-up included or excluded, timings dropped, missing power sensor. */
  notes: string[];
}

/**
 * One step of an experiment's timeline: [start of the step (device clock, ms), inferences per
 * second over the step, items per second, p50 ms, p99 ms of the step's measured timings]. A step
 * without timings (between two that have some) has 0 throughput and null latencies.
 */
export type TimelinePoint = [t: number, inferencesPerS: number, itemsPerS: number, p50Ms: number | null, p99Ms: number | null];

/** An experiment's measured timings merged over the run (all models), for a latency CDF. */
export interface LatencyDistribution {
  /** Timings merged. */
  count: number;
  minMs: number | null;
  maxMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  /**
   * The empirical CDF from the histogram's buckets: [latency ms, fraction of timings ≤ it],
   * both strictly increasing, the last fraction 1; empty without timings. Each latency is a
   * bucket's value (within 1 % of the timings it holds); at most MAX_CDF_POINTS (400) points,
   * every k-th bucket where there are more.
   */
  cdf: [ms: number, fraction: number][];
}

/** GET /api/v1/experiments/:id/timeline[?points=N]: the run second by second, and its latency distribution. */
export interface ExperimentTimeline {
  experimentId: string;
  deviceId: string;
  name: string;
  /** Device clock, ms. */
  start: number;
  end: number | null;
  /** Where the run's data ends: `end`, or the newest data of a running experiment. */
  rangeEnd: number;
  /** Where the measured window begins after a warm-up (device clock, ms); null without one. */
  measuredFrom: number | null;
  latencySource: LatencySource | null;
  /** Width of one latency point, ms: 1000 (per second) unless the run needs more than `points` seconds. */
  stepMs: number;
  /** From the first second with timings to the last, at most `points` (default and most 2000). */
  latency: TimelinePoint[];
  /** Power over [start, rangeEnd] where the device has a power sensor (the sensors the comparison sums). */
  power: {
    source: PowerSource;
    metrics: string[];
    /** Width of one point, ms; 0 when these are the raw samples (few enough). */
    stepMs: number;
    /** [t (device clock, ms), watts]: mean over the step when downsampled. */
    points: [t: number, watts: number][];
  } | null;
  distribution: LatencyDistribution;
}

/**
 * One Prometheus remote-write destination as the hub reports it (GET /healthz, GET
 * /api/v1/storage, the storage page; /metrics has the same as edgewatch_remote_storage_*).
 * Counts are samples (one value of one series at one time) since the hub started, except
 * `pending`, which is read from the durable queue.
 */
export interface RemoteWriteStatus {
  /** The destination's name (from the config, or its host). */
  name: string;
  /** The URL without credentials. */
  url: string;
  /** Samples accepted by the receiver (2xx). */
  sent: number;
  /** Samples committed on the hub and not yet accepted: the queue behind this destination. */
  pending: number;
  /** Samples the receiver refused for good (4xx other than 429), counted and logged with its reason. */
  failed: number;
  /** Requests retried after a 5xx, 429 or network error. */
  retries: number;
  /** The last error (HTTP status and the receiver's message, or the network error); null when none yet. */
  lastError: string | null;
  /** Hub clock (ms) of lastError. */
  lastErrorAt: number | null;
  /** Hub clock (ms) of the last accepted request. */
  lastSentAt: number | null;
  /** How long the oldest batch still queued for this destination has waited, s (0 when caught up). */
  lagSeconds: number;
}
