// Closes experiments whose agent will never end them, so that none stays "running" forever.
// An agent that restarts reloads its open experiments (agent/inference/open-experiments-file.ts)
// and ends them as usual; this is for the agent that never comes back, or comes back without
// them (state directory lost). Such an experiment is ended at the time of its last data and
// marked ended_by 'timeout'. An end from the agent that arrives later still wins (store.ts).
//
// Two rules, each waiting the whole timeout (default 1 h):
// - the device has not been heard from (no committed batch) for timeoutMs;
// - the device's latest hello listed its open experiments (Hello.openExperiments) without this
//   one, which it started before that hello, and the hello is timeoutMs old. The wait is what
//   makes this safe: the agent's end event may still be in its spool, sent beside live data at
//   200 batches/s by default, so an hour moves 720,000 batches, more than a 7-day spool at one
//   batch a second. Closing at once would need to know the backlog is drained, which the hub
//   cannot see.
import type { Logger } from '../../shared/log.js';
import type { Hello } from '../../shared/protocol.js';
import type { RunningExperiment, Store } from '../store/store.js';

export const DEFAULT_EXPERIMENT_TIMEOUT_MS = 3_600_000;

export interface ExperimentTimeoutOptions {
  /** How long a device may stay silent (or an unlisted experiment wait) before it is closed, ms. */
  timeoutMs: number;
  /** How often to look; default a quarter of the timeout, within 250 ms – 60 s. */
  sweepMs?: number;
  /** Hub clock (tests). */
  now?: () => number;
}

interface HelloSeen {
  /** Hub clock, ms. */
  at: number;
  /** Device clock at the hello. */
  deviceClock: number;
  open: ReadonlySet<string>;
}

export interface ExperimentTimeout {
  /** Records what an agent's hello says is open (called for every hello). */
  noteHello(deviceNum: number, hello: Hello): void;
  /** One pass; returns the ids it closed. Exposed for tests. */
  sweep(): string[];
  stop(): void;
}

export function startExperimentTimeout(store: Store, log: Logger, opts: ExperimentTimeoutOptions): ExperimentTimeout {
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new Error(`experiment timeout ${opts.timeoutMs} ms is not valid: use a duration above zero, e.g. 1h`);
  }
  const now = opts.now ?? Date.now;
  const hellos = new Map<number, HelloSeen>();

  const endOf = (e: RunningExperiment, cap: number | null): number => {
    const lastSecond = store.lastExperimentSecond(e.deviceNum, e.id);
    // Tagged timings: the end of the last second that has some. Without any (a client that did
    // not pass the id), the device's last data, or the hello's time when its agent lost it.
    const last = lastSecond !== null ? lastSecond + 1000 : Math.min(e.deviceLatestT ?? e.start, cap ?? Infinity);
    return Math.max(e.start, last);
  };

  const sweep = (): string[] => {
    const t = now();
    const closed: string[] = [];
    for (const e of store.runningExperiments()) {
      const silent = e.deviceLastSeen === null || e.deviceLastSeen <= t - opts.timeoutMs;
      const hello = hellos.get(e.deviceNum);
      const lost = hello !== undefined && !hello.open.has(e.id) && e.start < hello.deviceClock && hello.at <= t - opts.timeoutMs;
      if (!silent && !lost) continue;
      const end = endOf(e, lost && !silent ? hello!.deviceClock : null);
      if (!store.closeExperimentByTimeout(e.id, end)) continue;
      closed.push(e.id);
      log.info(
        { experiment: e.id, deviceNum: e.deviceNum, end, reason: silent ? 'device silent' : 'not open at its agent', timeoutMs: opts.timeoutMs },
        silent
          ? 'experiment closed (ended by timeout): its device has sent nothing for the experiment timeout'
          : 'experiment closed (ended by timeout): its agent no longer has it open (restarted without its state directory?)',
      );
    }
    return closed;
  };

  const safeSweep = (): void => {
    try {
      sweep();
    } catch (err) {
      // A disk that cannot write now is the ingest queue's to report; the next pass tries again.
      log.warn({ err }, `experiment timeout pass failed (${(err as Error).message}); retrying at the next pass`);
    }
  };
  const sweepMs = opts.sweepMs ?? Math.min(60_000, Math.max(250, Math.floor(opts.timeoutMs / 4)));
  const timer = setInterval(safeSweep, sweepMs);
  timer.unref();

  return {
    noteHello(deviceNum, hello) {
      if (hello.openExperiments === undefined) {
        // An older agent says nothing: nothing can be inferred from its silence.
        hellos.delete(deviceNum);
        return;
      }
      hellos.set(deviceNum, { at: now(), deviceClock: hello.clock, open: new Set(hello.openExperiments) });
    },
    sweep,
    stop() {
      clearInterval(timer);
    },
  };
}
