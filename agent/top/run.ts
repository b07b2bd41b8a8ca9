// `edgewatch top` end to end: pick the source (the local agent if one answers, else direct
// sampling), then either print one plain frame (--once, or stdout not a terminal) or run the
// full-screen view until q, Ctrl-C or a signal.
import type { ReadStream, WriteStream } from 'node:tty';
import type { Logger } from '../../shared/log.js';
import { renderFrame, type SortKey, type TopSource } from './frame.js';
import { parseKeys } from './keys.js';
import { ModelTracker } from './models.js';
import type { TopSnapshot } from './snapshot.js';
import { fetchAgentSnapshot } from './source-agent.js';
import { startDirectSource, type DirectSource } from './source-direct.js';
import { openScreen } from './terminal.js';

export interface TopRunOptions {
  /** Base URL of the local agent's inference port, e.g. http://127.0.0.1:7262. */
  readonly agentUrl: string;
  /** Skip the agent and sample directly. */
  readonly direct: boolean;
  readonly once: boolean;
  readonly color: boolean;
  /** Columns of a --once frame when stdout is not a terminal. */
  readonly width: number | undefined;
  readonly intervalMs: number;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly hostRoot: string;
  readonly log: Logger;
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
}

/** Longest a --once frame waits for a sample with rates and a process table. */
const ONCE_WAIT_EXTRA_MS = 5000;

export async function runTop(opts: TopRunOptions): Promise<void> {
  let source: TopSource;
  let direct: DirectSource | null = null;
  let first: TopSnapshot | null = null;
  let onDirectSample: () => void = () => {};
  const answer = opts.direct ? null : await fetchAgentSnapshot(opts.agentUrl);
  if (answer?.ok) {
    source = { kind: 'agent', url: opts.agentUrl };
    first = answer.snapshot;
  } else {
    source = { kind: 'direct', why: answer ? answer.why : '--direct' };
    opts.log.debug({ why: source.why }, 'top samples directly');
    direct = await startDirectSource({
      procRoot: opts.procRoot,
      sysRoot: opts.sysRoot,
      hostRoot: opts.hostRoot,
      intervalMs: opts.intervalMs,
      log: opts.log,
      onSample: () => onDirectSample(),
    });
  }
  const models = new ModelTracker();
  try {
    if (opts.once) {
      const snap = await onceSnapshot(opts, direct, first);
      models.update(snap);
      const lines = renderFrame(snap, { width: opts.width ?? 100, height: Infinity, sort: 'cpu', help: false, color: false, now: Date.now(), source, models: models.rows() });
      opts.stdout.write(lines.map((l) => l.trimEnd()).join('\n') + '\n');
      return;
    }
    await live(opts, source, direct, first, models, (fn) => (onDirectSample = fn));
  } finally {
    await direct?.close();
  }
}

/** A frame worth printing: after the priming tick, with rates and (where there is one) a process table. */
async function onceSnapshot(opts: TopRunOptions, direct: DirectSource | null, first: TopSnapshot | null): Promise<TopSnapshot> {
  // GPU readings come from a long-lived tool that may answer a tick after the first rates.
  const gpu = (s: TopSnapshot): boolean => !(s.capabilities.includes('nvidia-gpu') || s.capabilities.includes('jetson')) || s.sample!.m['gpu.0.util'] !== undefined;
  const ready = (s: TopSnapshot): boolean => s.sample !== null && s.sample.m['cpu.util'] !== undefined && (s.processes !== null || !s.capabilities.includes('processes')) && gpu(s);
  const interval = first?.intervalMs ?? opts.intervalMs;
  const deadline = Date.now() + 3 * interval + ONCE_WAIT_EXTRA_MS;
  let snap = first ?? direct!.snapshot();
  while (!ready(snap) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(200, interval)));
    if (direct) snap = direct.snapshot();
    else {
      const again = await fetchAgentSnapshot(opts.agentUrl);
      if (again.ok) snap = again.snapshot;
    }
  }
  return snap;
}

async function live(
  opts: TopRunOptions,
  source: TopSource,
  direct: DirectSource | null,
  first: TopSnapshot | null,
  models: ModelTracker,
  setOnSample: (fn: () => void) => void,
): Promise<void> {
  let sort: SortKey = 'cpu';
  let help = false;
  let snap: TopSnapshot = first ?? direct!.snapshot();
  let status: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  let quitting = false;

  const redraw = (): void => {
    screen.draw(renderFrame(snap, { width: screen.width, height: screen.height, sort, help, color: opts.color, now: Date.now(), source, models: models.rows(), ...(status ? { status } : {}) }));
  };
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    if (timer) clearTimeout(timer);
    screen.restore();
    done();
  };
  const onKeys = (data: string): void => {
    for (const action of parseKeys(data)) {
      if (action === 'quit') return quit();
      if (action === 'sort-cpu') sort = 'cpu';
      else if (action === 'sort-mem') sort = 'mem';
      else if (action === 'help') help = !help;
      else if (action === 'close') help = false;
    }
    redraw();
  };
  const screen = openScreen(opts.stdin as ReadStream, opts.stdout as WriteStream, onKeys, () => redraw());
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, quit);
  try {
    models.update(snap);
    redraw();
    if (direct) {
      setOnSample(() => {
        if (quitting) return;
        snap = direct.snapshot();
        models.update(snap);
        redraw();
      });
    } else {
      let failingSince: number | undefined;
      const poll = async (): Promise<void> => {
        if (quitting) return;
        const answer = await fetchAgentSnapshot((source as { url: string }).url);
        if (quitting) return;
        if (answer.ok) {
          snap = answer.snapshot;
          status = undefined;
          failingSince = undefined;
          models.update(snap);
        } else {
          failingSince ??= Date.now();
          // The last data stays on screen, marked, rather than being replaced by a second sampler.
          status = `${answer.why} since ${new Date(failingSince).toTimeString().slice(0, 8)}: showing its last data, retrying`;
        }
        redraw();
        timer = setTimeout(() => void poll(), nextPollMs(snap, Date.now()));
      };
      timer = setTimeout(() => void poll(), nextPollMs(snap, Date.now()));
    }
    await finished;
  } finally {
    for (const s of signals) process.off(s, quit);
    screen.restore();
  }
}

/**
 * Asks just after the agent's next tick is due (its sample time plus one interval), so the
 * screen is at most a fraction of a tick behind the agent instead of up to a whole one.
 */
export function nextPollMs(snap: TopSnapshot, now: number): number {
  const interval = Math.max(250, snap.intervalMs);
  if (!snap.sample) return interval;
  const due = snap.sample.t + interval + 150 - now;
  if (due <= 50) return interval / 2;
  return Math.min(interval, due);
}
