// One tick per interval: ask every collector for its values and hand the sample on. Ticks
// are scheduled against a monotonic clock so they do not drift, and a tick that is still
// running when the next is due makes that next one skip rather than pile up. The process
// table has its own, slower cadence: on the ticks where it is due, the sample also carries
// `p` (and the procs.* counts), read alongside the collectors. Inference timings, when the
// agent receives them, are drained every tick: histograms of the seconds that ended ride as
// `i`, experiment starts and ends as `e`, and the infer.* metrics join the collectors' values.
import type { Logger } from '../shared/log.js';
import type { ProcessTable, Sample } from '../shared/protocol.js';
import { quantizeValues } from '../shared/quantize.js';
import type { Collector, MetricValues } from './collectors/collector.js';
import type { InferenceDrain } from './inference/aggregator.js';
import type { ProcessTableSource } from './processes/source.js';

export interface SamplerProcessOptions {
  readonly source: ProcessTableSource;
  /** A table is taken on the first tick at least this long after the previous table. */
  readonly everyMs: number;
}

/** Where the sampler takes inference data from (the InferenceAggregator). */
export interface SamplerInferenceSource {
  drain(now: number): InferenceDrain;
}

const PROCESS_TABLE = 'process table';
const INFERENCE = 'inference';
/** Where in each interval ticks fall, ms after a whole multiple of it on the wall clock. */
export const GRID_PHASE_MS = 300;

export class Sampler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private busy = false;
  private startedAt = 0;
  private tickIndex = 0;
  /** Collectors that threw once; logged once, not every second. */
  private readonly failed = new Set<string>();
  /** Sample time (ms) from which the next process table is due; 0: on the next tick. */
  private processDueAt = 0;
  readonly stats = { ticks: 0, skipped: 0 };

  constructor(
    private readonly collectors: readonly Collector[],
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly onSample: (sample: Sample) => void,
    private readonly processes?: SamplerProcessOptions,
    private readonly inference?: SamplerInferenceSource,
  ) {}

  start(): void {
    this.running = true;
    this.startedAt = performance.now() - this.intervalMs + firstSlotDelay(Date.now(), this.intervalMs);
    this.tickIndex = 0;
    // The first tick primes rate counters; values follow from the second, on the grid.
    void this.tick();
  }



  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs one tick now; exposed for tests and for a one-shot sample. */
  async sampleOnce(now = Date.now()): Promise<Sample> {
    const m: MetricValues = {};
    const pending: Promise<void>[] = [];
    for (const collector of this.collectors) {
      try {
        const result = collector.sample(now, m);
        if (result) pending.push(result.catch((err: unknown) => this.reportFailure(collector, err)));
      } catch (err) {
        this.reportFailure(collector, err);
      }
    }
    const table = this.processTableDue(now) ? this.takeProcessTable(now, m) : undefined;
    const inference = this.drainInference(now);
    if (pending.length > 0) await Promise.all(pending);
    const sample: Sample = { t: now, m };
    const p = await table;
    if (p) sample.p = p;
    if (inference) {
      Object.assign(m, inference.metrics);
      if (inference.aggregates.length > 0) sample.i = inference.aggregates;
      if (inference.experiments.length > 0) sample.e = inference.experiments;
    }
    quantizeValues(m);
    return sample;
  }

  private drainInference(now: number): InferenceDrain | undefined {
    if (!this.inference) return undefined;
    try {
      return this.inference.drain(now);
    } catch (err) {
      if (!this.failed.has(INFERENCE)) {
        this.failed.add(INFERENCE);
        this.log.warn({ err }, 'draining inference timings failed; samples go without them');
      }
      return undefined;
    }
  }

  private processTableDue(now: number): boolean {
    if (!this.processes) return false;
    // Half a tick early counts as due, so a 5 s cadence on 1 s ticks is every 5th tick
    // despite timer jitter; a clock stepped back makes it due at once.
    return now >= this.processDueAt - this.intervalMs / 2 || now < this.processDueAt - this.processes.everyMs;
  }

  private async takeProcessTable(now: number, m: MetricValues): Promise<ProcessTable | undefined> {
    const { source, everyMs } = this.processes!;
    try {
      const table = await source.take(now, m);
      // No table yet (rates primed just now): ask again next tick rather than a cadence later.
      this.processDueAt = table ? now + everyMs : 0;
      return table;
    } catch (err) {
      this.processDueAt = now + everyMs;
      if (!this.failed.has(PROCESS_TABLE)) {
        this.failed.add(PROCESS_TABLE);
        this.log.warn({ err }, 'process table failed; samples go without it');
      }
      return undefined;
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (this.busy) {
      this.stats.skipped++;
    } else {
      this.busy = true;
      try {
        const sample = await this.sampleOnce();
        this.stats.ticks++;
        // Histograms and experiment events are sent even on a tick without metric values:
        // they were drained and exist nowhere else.
        if (Object.keys(sample.m).length > 0 || sample.i || sample.e) this.onSample(sample);
      } finally {
        this.busy = false;
      }
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const now = performance.now();
    // Next slot on the fixed grid; slots already past are skipped, not caught up.
    this.tickIndex = Math.max(this.tickIndex + 1, Math.floor((now - this.startedAt) / this.intervalMs) + 1);
    const delay = Math.max(0, this.startedAt + this.tickIndex * this.intervalMs - now);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private reportFailure(collector: Collector, err: unknown): void {
    if (this.failed.has(collector.name)) return;
    this.failed.add(collector.name);
    this.log.warn({ collector: collector.name, err }, 'collector failed while sampling; its values are left out');
  }
}

/**
 * Ticks fall GRID_PHASE_MS after a whole multiple of the interval on the wall clock (…:07.300,
 * …:08.300 at 1 s). Inference histograms of the second that just ended are sealed by then,
 * so a timing reaches the hub within about 1.3 s rather than up to a tick later, and devices
 * sample at the same moments, which lines their charts up. The first grid slot is at least
 * half an interval away, so the priming tick's rates are not taken over a few milliseconds.
 */
export function firstSlotDelay(wallNow: number, intervalMs: number): number {
  const next = Math.ceil((wallNow - GRID_PHASE_MS) / intervalMs) * intervalMs + GRID_PHASE_MS;
  const delay = next - wallNow;
  return delay < intervalMs / 2 ? delay + intervalMs : delay;
}
