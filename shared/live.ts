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

// Experiments: an original model and its compressed versions run on a device, compared.
// GET /api/v1/experiments[?device=&name=&from=&to=] → { experiments: ExperimentSummary[] }
// GET /api/v1/experiments/<id>                      → { experiment: ExperimentSummary }
// GET /api/v1/experiments/compare?ids=a,b[&baseline=a][&format=json|csv|md] → ComparisonResponse

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
  /** Models with timings in this experiment. */
  models: string[];
  /** Inference calls timed. */
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
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
  /** Population standard deviation of the calls' latencies. */
  latencyStdevMs: number | null;
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
  /** ∫ power dt over the samples (trapezoid), J. */
  energyJ: number | null;
  /** energyJ ÷ inferences, J; null with no power or no inferences. */
  energyPerInferenceJ: number | null;
  /** Highest of temp.* and gpu.<i>.temp, °C. */
  tempPeakC: number | null;
  /** A Pi throttling flag (under-voltage, frequency cap, throttled, soft temperature limit) was 1; null without Pi flags. */
  throttled: boolean | null;
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

/** Compared experiments that share a name: repeats of one run. */
export interface RepeatGroup {
  name: string;
  runs: number;
  ids: string[];
  figures: Record<ExperimentFigure, RepeatFigure>;
}

export interface ComparisonResponse {
  /** Id of the experiment the ratios are against. */
  baseline: string;
  experiments: ExperimentStats[];
  /** One per distinct name, in order of first appearance (runs 1 has stdev null). */
  groups: RepeatGroup[];
}
