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
  /** Samples the agent reported dropping because its buffer was full. */
  droppedSamples: number;
}

/** One downsampled point: [bucket start (ms), mean, min, max]. */
export type SeriesPoint = [t: number, mean: number, min: number, max: number];

export interface SeriesResponse {
  deviceId: string;
  from: number;
  to: number;
  /** Width of one bucket in ms; 0 when points are raw samples. */
  stepMs: number;
  series: Record<string, SeriesPoint[]>;
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

export type LiveFrame =
  | { type: 'snapshot'; v: 1; devices: DeviceSummary[] }
  | { type: 'device'; v: 1; device: DeviceSummary }
  | { type: 'samples'; v: 1; deviceId: string; samples: Sample[] };
