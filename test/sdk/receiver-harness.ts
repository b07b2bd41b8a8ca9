// The real agent-side receiver (agent/inference/receiver.ts) on a free loopback port, with a
// sink that keeps what arrives: the tests' observer of what the SDKs put on the wire.
import type { ExperimentStart, Timing } from '../../shared/inference.js';
import { silentLogger } from '../../shared/log.js';
import { startInferenceReceiver, type InferenceReceiver, type InferenceSink } from '../../agent/inference/receiver.js';

export interface RecordingSink extends InferenceSink {
  timings: Timing[];
  experiments: { id: string; start: ExperimentStart; startedAt: number; endedAt?: number }[];
}

export function recordingSink(): RecordingSink {
  let next = 1;
  const sink: RecordingSink = {
    timings: [],
    experiments: [],
    timing(t) {
      sink.timings.push(t);
    },
    startExperiment(s, at) {
      const id = `x-test-${next++}`;
      sink.experiments.push({ id, start: s, startedAt: at });
      return { id, start: at };
    },
    endExperiment(id, at) {
      const e = sink.experiments.find((x) => x.id === id && x.endedAt === undefined);
      if (!e) return null;
      e.endedAt = at;
      return { id, end: at };
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
