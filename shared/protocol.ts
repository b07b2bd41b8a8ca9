// Wire protocol between agent and hub (and the hub's live feed to browsers).
// Every message is one JSON text frame with `type` and `v` (the protocol version). The hub
// validates every inbound frame against these schemas and answers an invalid one with an
// `error` frame; it never trusts an agent's or a browser's shape.
//
// Delivery: each batch carries a per-device sequence number that only grows, also across
// agent restarts. The hub acks a batch only once it is committed to SQLite, and acks (without
// storing again) a batch it already has, so resending is always safe. That is what lets a
// durable spool on the agent simply replay whatever was not acked.
import { z } from 'zod';
import { RunConditionsSchema } from './conditions.js';
import { ScoreSchema, WarmupSchema, MAX_SCORES_PER_EXPERIMENT } from './inference.js';

export const PROTOCOL_VERSION = 1;

/** Largest frame the hub accepts from an agent; a batch of 1000 samples × 200 values fits. */
export const MAX_AGENT_FRAME_BYTES = 4 * 1024 * 1024;
export const MAX_SAMPLES_PER_BATCH = 1000;
export const MAX_VALUES_PER_SAMPLE = 2000;

export const METRIC_NAME_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
export const DEVICE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const version = z.literal(PROTOCOL_VERSION);
const metricName = z.string().max(128).regex(METRIC_NAME_RE, 'metric names are dotted lowercase segments of [a-z0-9_]');
const shortText = z.string().max(256);

export const MAX_PROCESS_ROWS = 100;

/** One process in a top-N table. Names and commands are untrusted text from the device. */
export const ProcessRowSchema = z.object({
  pid: z.number().int().nonnegative(),
  /** Short name (comm), e.g. `python3`. */
  name: z.string().max(64),
  /** Command line, shortened by the agent. */
  cmd: z.string().max(256),
  user: z.string().max(64).optional(),
  /** CPU over the last process interval, % of one core (can exceed 100 for threaded work). */
  cpu: z.number().nonnegative(),
  /** Resident memory, bytes. */
  rss: z.number().nonnegative(),
  /** Storage I/O rates, bytes/s; absent where /proc/<pid>/io is not readable. */
  readBps: z.number().nonnegative().optional(),
  writeBps: z.number().nonnegative().optional(),
  /** GPU memory held by the process, bytes, where nvidia-smi or the Jetson reports it. */
  gpuMem: z.number().nonnegative().optional(),
  threads: z.number().int().nonnegative().optional(),
});
export type ProcessRow = z.infer<typeof ProcessRowSchema>;

/** The top processes by CPU and by memory (union of both), sampled less often than metrics. */
export const ProcessTableSchema = z.object({
  rows: z.array(ProcessRowSchema).max(MAX_PROCESS_ROWS),
  /** Processes on the device when the table was taken. */
  total: z.number().int().nonnegative(),
});
export type ProcessTable = z.infer<typeof ProcessTableSchema>;

/**
 * One second of one model's inference timings on a device: a mergeable histogram
 * (shared/histogram.ts) plus the items processed. Latencies in ms.
 */
export const InferenceAggregateSchema = z.object({
  model: z.string().regex(/^[A-Za-z0-9_.:/@+-]{1,128}$/),
  /** The experiment the timings were reported under, if any. */
  experiment: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  /** Start of the second, device clock, ms. */
  t: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  sum: z.number().nonnegative(),
  sumSq: z.number().nonnegative(),
  min: z.number().nonnegative(),
  max: z.number().nonnegative(),
  /** Sum of batch sizes (items processed); equals count when every call had batch 1. */
  items: z.number().int().nonnegative(),
  buckets: z.array(z.tuple([z.number().int(), z.number().int().positive()])).max(4096),
  /**
   * Warm-up timings of an experiment that asked for a warm-up (added within v1): stored apart
   * and left out of its measured figures.
   */
  warmup: z.literal(true).optional(),
})
  // Quantiles are read from the buckets and rates from count: they must agree.
  .refine((a) => a.buckets.reduce((sum, [, c]) => sum + c, 0) === a.count, 'count must equal the sum of the bucket counts')
  .refine((a) => a.min <= a.max, 'min must not exceed max');
export type InferenceAggregate = z.infer<typeof InferenceAggregateSchema>;

/** An experiment began or ended on the device (the same id is sent again with `end`). */
export const ExperimentEventSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  name: z.string().min(1).max(128),
  tags: z.record(z.string().max(64), z.string().max(256)).optional(),
  params: z.number().int().nonnegative().optional(),
  modelBytes: z.number().int().nonnegative().optional(),
  /** Device clock, ms. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative().nullable().optional(),
  // Added within v1; a later event for the same id only fills in or adds to these.
  warmup: WarmupSchema.optional(),
  /** What the device was set to at the start (power mode, governor, clocks…). */
  conditions: RunConditionsSchema.optional(),
  /** Quality scores reported so far (a later event's score of the same name replaces it). */
  scores: z.array(ScoreSchema).max(MAX_SCORES_PER_EXPERIMENT).optional(),
  /**
   * Device clock, ms, when the measured window began: the start of the first call after the
   * warm-up (an experiment with a warm-up only). Energy and throughput are taken from here.
   */
  measuredFrom: z.number().int().nonnegative().optional(),
  /** Latency of the experiment's first timing, ms: reported whether or not a warm-up is set. */
  firstCallMs: z.number().nonnegative().optional(),
  /** Timings of this experiment the agent could not count so far (over a bound): never silent. */
  dropped: z.number().int().nonnegative().optional(),
});
export type ExperimentEvent = z.infer<typeof ExperimentEventSchema>;

export const SampleSchema = z.object({
  /** Device clock, ms since the epoch. */
  t: z.number().int().nonnegative(),
  /** Metric name → value, in the catalog's base unit. Absent means "not reported". */
  m: z
    .record(metricName, z.number())
    .refine((m) => Object.keys(m).length <= MAX_VALUES_PER_SAMPLE, `at most ${MAX_VALUES_PER_SAMPLE} values per sample`),
  /**
   * The process table, on the ticks where one was taken (every few seconds). Optional and
   * added within v1: a hub that predates it ignores it.
   */
  p: ProcessTableSchema.optional(),
  /** Inference histograms for seconds that ended since the previous sample (added within v1). */
  i: z.array(InferenceAggregateSchema).max(256).optional(),
  /** Experiments that started or ended since the previous sample (added within v1). */
  e: z.array(ExperimentEventSchema).max(64).optional(),
});
export type Sample = z.infer<typeof SampleSchema>;

export const GpuInventorySchema = z.object({
  index: z.number().int().nonnegative(),
  name: shortText,
  uuid: shortText.optional(),
  memTotalBytes: z.number().nonnegative().optional(),
  driver: shortText.optional(),
});

/** Static facts read once at agent start-up (systeminformation and tools' own listings). */
export const InventorySchema = z.object({
  os: z
    .object({ platform: shortText, distro: shortText, release: shortText, kernel: shortText, arch: shortText })
    .partial()
    .optional(),
  cpu: z
    .object({
      manufacturer: shortText,
      brand: shortText,
      cores: z.number().int().nonnegative(),
      physicalCores: z.number().int().nonnegative(),
      speedMaxMHz: z.number().nonnegative(),
    })
    .partial()
    .optional(),
  system: z.object({ manufacturer: shortText, model: shortText, virtual: z.boolean() }).partial().optional(),
  board: z
    .object({
      manufacturer: shortText,
      model: shortText,
      /** Board revision code, e.g. a Raspberry Pi's `d03141`. */
      revision: shortText,
      /** Device-tree `compatible` entries, most specific first. */
      compatible: z.array(shortText).max(16),
    })
    .partial()
    .optional(),
  /** NVIDIA Jetson facts: L4T release (`/etc/nv_tegra_release`), JetPack, nvpmodel power mode. */
  jetson: z
    .object({
      l4t: shortText,
      jetpack: shortText,
      soc: shortText,
      powerMode: shortText,
      powerModeId: z.number().int().nonnegative(),
    })
    .partial()
    .optional(),
  memTotalBytes: z.number().nonnegative().optional(),
  gpus: z.array(GpuInventorySchema).max(64).optional(),
});
export type Inventory = z.infer<typeof InventorySchema>;

/** Experiment ids a hello lists at most (the agent's default cap on open experiments). */
export const MAX_HELLO_OPEN_EXPERIMENTS = 64;

export const HelloSchema = z.object({
  type: z.literal('hello'),
  v: version,
  device: z.object({
    /** Stable id, generated once per device and kept in the agent's state directory. */
    id: z.string().regex(DEVICE_ID_RE, 'device ids are 1–64 characters of [A-Za-z0-9_.-]'),
    name: z.string().min(1).max(128),
    hostname: shortText.optional(),
    /** A simulated device of `edgewatch demo` (added within v1): labelled as such everywhere. */
    demo: z.literal(true).optional(),
  }),
  agent: z.object({ version: z.string().max(64) }),
  intervalMs: z.number().int().min(100).max(3_600_000),
  /** Names of the collectors that found something on this device. */
  capabilities: z.array(z.string().max(64)).max(100),
  inventory: InventorySchema,
  /** Agent clock at send time, so the hub can estimate the device's clock offset. */
  clock: z.number(),
  /**
   * Ids of the experiments open at the agent as it says hello (added within v1): a running
   * experiment of this device that is not listed was lost by the agent, and the hub closes it
   * (dashboard/server/experiment-timeout.ts). Absent from older agents: nothing is inferred.
   */
  openExperiments: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).max(MAX_HELLO_OPEN_EXPERIMENTS).optional(),
});
export type Hello = z.infer<typeof HelloSchema>;


/** A boot id (the kernel's, shortened by the agent; or a random id where none can be read). */
const bootId = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);

/** A batch's clock reference, taken when it was created (agent/transport/mono-clock.ts). */
export const BatchClockSchema = z.object({
  boot: bootId,
  /** Monotonic clock, ms (CLOCK_MONOTONIC: since boot, comparable across agent restarts within one boot). */
  mono: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Wall clock, ms since the epoch, read together with `mono`. */
  wall: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type BatchClock = z.infer<typeof BatchClockSchema>;

export const BatchSchema = z.object({
  type: z.literal('batch'),
  v: version,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  samples: z.array(SampleSchema).min(1).max(MAX_SAMPLES_PER_BATCH),
  /** Samples the agent had to drop (buffer full) since its previous batch: never silent. */
  dropped: z.number().int().nonnegative().optional(),
  /**
   * Agent clock (ms) when this frame was sent (added within v1). With the hub's receive time
   * it gives the device's clock offset, also for a resent backlog whose samples are old.
   */
  sentAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  // Clock jumps (added within v1; dashboard/server/clock.ts reads them). The monotonic clock
  // is never stepped, so (wall − mono) at creation against (sentAt − sentMono) at send tells
  // a wall clock that was wrong, then fixed, while the batch waited in the spool.
  /** Boot and monotonic/wall clocks (ms) when the batch was created. */
  clock: BatchClockSchema.optional(),
  /** Monotonic clock (ms) when this frame was sent, read with sentAt. */
  sentMono: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  /** Boot of the sending agent: a batch created before a reboot has another `clock.boot`. */
  sentBoot: bootId.optional(),
});
export type Batch = z.infer<typeof BatchSchema>;

export const AgentMessageSchema = z.discriminatedUnion('type', [HelloSchema, BatchSchema]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;

// Hub → agent. The agent validates these too: a hub is a peer, not an authority on shapes.
export const WelcomeSchema = z.object({
  type: z.literal('welcome'),
  v: version,
  /** Highest sequence number the hub has committed for this device, or null for a new one. */
  lastSeq: z.number().int().nonnegative().nullable(),
  hubTime: z.number(),
});
export type Welcome = z.infer<typeof WelcomeSchema>;

export const AckSchema = z.object({ type: z.literal('ack'), v: version, seq: z.number().int().positive() });
export type Ack = z.infer<typeof AckSchema>;

export const ErrorCodeSchema = z.enum([
  'bad_json',
  'invalid_message',
  'unsupported_version',
  'hello_required',
  'store_unavailable',
  'too_large',
  /** The peer sent frames faster than its connection's limit: this one was dropped (not stored). */
  'rate_limited',
  'internal',
  /** The agent's token does not allow this (another device id), or was revoked: the hub closes with 4401. */
  'unauthorized',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  v: version,
  code: ErrorCodeSchema,
  message: z.string(),
  /** The batch the error is about, when there is one. */
  seq: z.number().int().positive().optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;

export const HubMessageSchema = z.discriminatedUnion('type', [WelcomeSchema, AckSchema, ErrorFrameSchema]);
export type HubMessage = z.infer<typeof HubMessageSchema>;

/** Browser → hub on the live socket: which devices' samples to stream ('*' = all). */
export const SubscribeSchema = z.object({
  type: z.literal('subscribe'),
  v: version,
  devices: z.union([z.literal('*'), z.array(z.string().regex(DEVICE_ID_RE)).max(1000)]),
});
export type Subscribe = z.infer<typeof SubscribeSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

/**
 * Parses and validates one text frame. Never throws: malformed JSON, a wrong version and a
 * wrong shape each come back as a code and a message fit for an error frame.
 */
export function parseFrame<T>(schema: z.ZodType<T>, raw: string): ParseResult<T> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return { ok: false, code: 'bad_json', message: `frame is not JSON: ${(err as Error).message}` };
  }
  if (typeof data === 'object' && data !== null && 'v' in data && (data as { v: unknown }).v !== PROTOCOL_VERSION) {
    const v = (data as { v: unknown }).v;
    // Quote only a plain value: stringifying a hostile, deeply nested `v` would overflow the stack.
    const shown = v !== null && typeof v === 'object' ? `of type ${Array.isArray(v) ? 'array' : 'object'}` : JSON.stringify(v)?.slice(0, 40);
    return {
      ok: false,
      code: 'unsupported_version',
      message: `protocol version ${shown} is not supported; this side speaks v${PROTOCOL_VERSION}`,
    };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    return { ok: false, code: 'invalid_message', message: summariseIssues(parsed.error) };
  }
  return { ok: true, value: parsed.data };
}

function summariseIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      // A bad record key nests the reason (e.g. the name pattern) one level down.
      const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as { message: string }[]) : [];
      const detail = nested.length > 0 ? ` (${nested.map((n) => n.message).join('; ')})` : '';
      return `${issue.path.length ? issue.path.join('.') : '(frame)'}: ${issue.message}${detail}`;
    })
    .join('; ');
}
