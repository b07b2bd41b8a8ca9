// The real agent-side receiver (agent/inference/receiver.ts) on a free loopback port, with a
// sink that keeps what arrives: the tests' observer of what the SDKs put on the wire.
import type { ExperimentEndSummary, ExperimentStart, Score, Timing } from '../../shared/inference.js';
import { silentLogger } from '../../shared/log.js';
import { startInferenceReceiver, type InferenceReceiver, type InferenceSink } from '../../agent/inference/receiver.js';

export interface RecordingSink extends InferenceSink {
  timings: Timing[];
  experiments: { id: string; start: ExperimentStart; startedAt: number; endedAt?: number }[];
  /** Every score batch the receiver took, in order, with the experiment it went to. */
  scores: { id: string; scores: Score[] }[];
}

const noLatencies = { count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, min: null, max: null, stdev: null };

/** What the harness answers an end with: the shape, and the experiment's scores (the figures are the aggregator's job). */
export const EMPTY_SUMMARY: ExperimentEndSummary = { inferences: 0, items: 0, durationMs: 0, measured: noLatencies, warmup: noLatencies, firstCallMs: null, dropped: 0, scores: [] };

export function recordingSink(): RecordingSink {
  let next = 1;
  const open = (id: string) => sink.experiments.find((x) => x.id === id && x.endedAt === undefined);
  const sink: RecordingSink = {
    timings: [],
    experiments: [],
    scores: [],
    timing(t) {
      sink.timings.push(t);
    },
    startExperiment(s, at) {
      const id = `x-test-${next++}`;
      sink.experiments.push({ id, start: s, startedAt: at });
      return { id, start: at };
    },
    endExperiment(id, at) {
      const e = open(id);
      if (!e) return null;
      e.endedAt = at;
      // A later score of the same name replaces an earlier one.
      const scores = new Map<string, Score>();
      for (const batch of sink.scores) if (batch.id === id) for (const s of batch.scores) scores.set(s.name, s);
      return { id, end: at, summary: { ...EMPTY_SUMMARY, scores: [...scores.values()] } };
    },
    scoreExperiment(id, scores) {
      if (!open(id)) return false;
      sink.scores.push({ id, scores: [...scores] });
      return true;
    },
  };
  return sink;
}

export async function startReceiver(): Promise<{ receiver: InferenceReceiver; sink: RecordingSink; port: number }> {
  const sink = recordingSink();
  const receiver = await startInferenceReceiver({ host: '127.0.0.1', port: 0, log: silentLogger(), sink });
  return { receiver, sink, port: receiver.port };
}

/** A port number nothing listens on, TCP or UDP (a receiver's, once closed). */
export async function deadPort(): Promise<number> {
  const { receiver, port } = await startReceiver();
  await receiver.close();
  return port;
}

/** Polls until `check` holds; fails with `what` and the last value after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
