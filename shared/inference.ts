// How the user's own code reports inference timings to the agent on the same device, and how
// it starts and ends experiments. Two doors, both on loopback by default:
//
//   UDP  127.0.0.1:7262  fire-and-forget datagrams, cheap enough for a hot loop. A datagram holds
//        one or more lines (≤ 8 KiB in all), each:
//          ew1 <model> <latency_ms> [b=<batch>] [x=<experiment id>] [t=<epoch ms>] [#<tag>=<value>]…
//        e.g. `ew1 resnet18-int8 12.37 b=8 x=x-lq2v3k-9f3a #device=cpu`
//   HTTP 127.0.0.1:7262  POST /v1/timings            {"timings": [Timing, …]}       → 202 {"accepted": n}
//                        POST /v1/experiments        ExperimentStart                 → 201 {"id", "start"}
//                        POST /v1/experiments/<id>/end                              → 200 {"id", "end", "summary"}
//                        POST /v1/experiments/<id>/scores {"scores": [Score, …]}   → 200 {"id", "scores": n}
//                        GET  /v1/health                                            → 200 {"ok": true, …}
//
// The agent turns timings into per-second histograms (shared/histogram.ts) and sends those,
// never individual timings, to the hub.
import { z } from 'zod';
import type { RunConditions } from './conditions.js';

export const INFERENCE_DEFAULT_PORT = 7262;
export const MAX_DATAGRAM_BYTES = 8192;
export const MAX_TIMINGS_PER_REQUEST = 10_000;

/** Model names: what a user would type, without spaces (they separate UDP fields). */
export const MODEL_NAME_RE = /^[A-Za-z0-9_.:/@+-]{1,128}$/;
export const EXPERIMENT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const TAG_KEY_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** Tag values are shown to people: control characters in one are a sender's bug (or worse). */
const TAG_VALUE_RE = /^[^\u0000-\u001f\u007f]{0,256}$/u;
/** A number as the SDKs write one (12, 0.5, 1e-05): not hex, binary, "Infinity" or the empty string that Number() reads as 0. */
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const tags = z
  .record(
    z.string().regex(TAG_KEY_RE, 'tag keys are 1–64 characters of [A-Za-z0-9_.-]'),
    z.string().max(256).regex(TAG_VALUE_RE, 'tag values are up to 256 characters without control characters'),
  )
  .refine((t) => Object.keys(t).length <= 32, 'at most 32 tags');

export const TimingSchema = z.object({
  model: z.string().regex(MODEL_NAME_RE, 'model names are 1–128 characters of [A-Za-z0-9_.:/@+-]'),
  /** Wall time of one inference call, ms. */
  latencyMs: z.number().nonnegative().max(86_400_000),
  /** Items (images, tokens, …) the call processed; 1 when absent. */
  batch: z.number().int().positive().max(1_000_000).optional(),
  experiment: z.string().regex(EXPERIMENT_ID_RE).optional(),
  /** When the call ended, ms since the epoch; the agent's receive time when absent. */
  t: z.number().int().nonnegative().optional(),
  tags: tags.optional(),
});
export type Timing = z.infer<typeof TimingSchema>;

export const TimingBatchSchema = z.object({ timings: z.array(TimingSchema).max(MAX_TIMINGS_PER_REQUEST) });

/**
 * Which of an experiment's first timings are warm-up (CUDA context, engine build, cache fill,
 * clocks ramping), kept apart from the measured figures as MLPerf and trtexec do: the first
 * `calls` timings of each model, or those that end within `ms` of the experiment's start.
 */
export const WarmupSchema = z.union([
  z.object({ calls: z.number().int().positive().max(1_000_000) }).strict(),
  z.object({ ms: z.number().int().positive().max(86_400_000) }).strict(),
]);
export type Warmup = z.infer<typeof WarmupSchema>;

export const ExperimentStartSchema = z.object({
  name: z.string().min(1).max(128),
  tags: tags.optional(),
  /** Parameter count of the model under test (for compression α and space saving β). */
  params: z.number().int().nonnegative().optional(),
  /** Size of the model file or weights, bytes. */
  modelBytes: z.number().int().nonnegative().optional(),
  warmup: WarmupSchema.optional(),
});
export type ExperimentStart = z.infer<typeof ExperimentStartSchema>;

/**
 * A quality figure of the model under test (top-1, mAP, WER, perplexity…), reported beside its
 * speed. Names are free text shown to people (escaped everywhere), without control characters.
 */
export const SCORE_NAME_RE = /^[^\u0000-\u001f\u007f]{1,64}$/u;
export const MAX_SCORES_PER_EXPERIMENT = 32;
export const ScoreSchema = z.object({
  name: z.string().regex(SCORE_NAME_RE, 'score names are 1–64 characters without control characters'),
  value: z.number().finite(),
  /** Which way is better: top-1 higher, WER and perplexity lower. */
  better: z.enum(['higher', 'lower']).default('higher'),
});
export type Score = z.infer<typeof ScoreSchema>;
export const ScoreBatchSchema = z.object({ scores: z.array(ScoreSchema).min(1).max(MAX_SCORES_PER_EXPERIMENT) });

/** Latency figures of one experiment's timings as the agent saw them (all models together), ms. */
export interface LatencyDigest {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
  stdev: number | null;
}

/**
 * What the agent answers when an experiment ends: the figures `edgewatch bench` needs on the
 * device itself, where no hub may be reachable. The hub computes the same from what it stored.
 */
export interface ExperimentEndSummary {
  /** Timings counted for the experiment, warm-up included. */
  inferences: number;
  items: number;
  durationMs: number;
  /** Measured timings: everything after the warm-up (everything, without one). */
  measured: LatencyDigest;
  /** Warm-up timings (count 0 without a warm-up). */
  warmup: LatencyDigest;
  /** Latency of the experiment's first timing, ms; null without timings. */
  firstCallMs: number | null;
  /** Timings of this experiment the agent could not count (over a bound). */
  dropped: number;
  /** What the device was set to at the start, when the agent had read it by the end. */
  conditions?: RunConditions;
  scores: Score[];
  /**
   * The agent restarted during the experiment and reloaded it: the figures above count only the
   * timings from `countedFrom` (agent clock, ms) on. The hub has all of them.
   */
  resumed?: boolean;
  countedFrom?: number;
}

export type TimingLineResult = { ok: true; timing: Timing } | { ok: false; error: string };

/**
 * Parses one UDP line (`ew1 <model> <latency_ms> …`). Never throws: a bad line comes back as
 * an error saying what was wrong, and the receiver counts it.
 */
export function parseTimingLine(line: string): TimingLineResult {
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'ew1') return { ok: false, error: `line does not start with "ew1": ${JSON.stringify(line.slice(0, 40))}` };
  const [, model, latency, ...rest] = fields;
  if (model === undefined || !MODEL_NAME_RE.test(model)) return { ok: false, error: `bad model name ${JSON.stringify(model?.slice(0, 40))}` };
  const latencyMs = latency !== undefined && DECIMAL_RE.test(latency) ? Number(latency) : NaN;
  if (latency === undefined || !Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 86_400_000) {
    return { ok: false, error: `bad latency ${JSON.stringify(latency?.slice(0, 40))}: a number of ms` };
  }
  const timing: Timing = { model, latencyMs };
  for (const field of rest) {
    const eq = field.indexOf('=');
    if (eq <= 0) return { ok: false, error: `bad field ${JSON.stringify(field.slice(0, 40))}: key=value expected` };
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (key === 'b') {
      const b = DECIMAL_RE.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(b) || b <= 0 || b > 1_000_000) return { ok: false, error: `bad batch ${JSON.stringify(value.slice(0, 20))}` };
      timing.batch = b;
    } else if (key === 'x') {
      if (!EXPERIMENT_ID_RE.test(value)) return { ok: false, error: `bad experiment id ${JSON.stringify(value.slice(0, 70))}` };
      timing.experiment = value;
    } else if (key === 't') {
      const t = DECIMAL_RE.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(t) || t < 0) return { ok: false, error: `bad timestamp ${JSON.stringify(value.slice(0, 20))}: epoch ms` };
      timing.t = t;
    } else if (key.startsWith('#') && TAG_KEY_RE.test(key.slice(1)) && TAG_VALUE_RE.test(value)) {
      timing.tags ??= {};
      const tag = key.slice(1);
      if (!Object.hasOwn(timing.tags, tag) && Object.keys(timing.tags).length >= 32) return { ok: false, error: 'at most 32 tags' };
      // Defined, not assigned: `#__proto__=x` is a tag like any other, not the object's prototype.
      Object.defineProperty(timing.tags, tag, { value, enumerable: true, writable: true, configurable: true });
    } else if (key.startsWith('#') && TAG_KEY_RE.test(key.slice(1))) {
      return { ok: false, error: `bad value of tag ${JSON.stringify(key.slice(1))}: up to 256 characters without control characters` };
    } else {
      return { ok: false, error: `unknown field ${JSON.stringify(key.slice(0, 40))}: b=, x=, t= or #tag=` };
    }
  }
  return { ok: true, timing };
}

/** The UDP line for a timing (the SDKs' encoder, and the inverse of parseTimingLine). */
export function formatTimingLine(t: Timing): string {
  let line = `ew1 ${t.model} ${t.latencyMs}`;
  if (t.batch !== undefined && t.batch !== 1) line += ` b=${t.batch}`;
  if (t.experiment !== undefined) line += ` x=${t.experiment}`;
  if (t.t !== undefined) line += ` t=${t.t}`;
  if (t.tags) for (const [k, v] of Object.entries(t.tags)) line += ` #${k}=${v.replace(/\s+/g, '_')}`;
  return line;
}
