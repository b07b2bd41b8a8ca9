// Turns individual inference timings into one mergeable histogram per (model, experiment) per
// second, and hands sealed seconds to the sampler. Only these per-second aggregates travel to
// the hub, so what the agent sends does not grow with the user's call rate.
//
// A second is sealed once it has ended plus LATE_MS: a timing that arrives for a sealed
// second is dropped and counted rather than sent as a second aggregate for the same key,
// because the hub stores one aggregate per (model, experiment, second).
import { randomBytes } from 'node:crypto';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ExperimentStart, Timing } from '../../shared/inference.js';
import type { ExperimentEvent, InferenceAggregate } from '../../shared/protocol.js';
import type { InferenceSink } from './receiver.js';

export interface InferenceDrain {
  /** Histograms of sealed seconds, oldest first. */
  aggregates: InferenceAggregate[];
  /** infer.<model>.* for the last complete second, on the drain that first sees it sealed. */
  metrics: Record<string, number>;
  /** Experiments started or ended since the previous drain (one event when both). */
  experiments: ExperimentEvent[];
}

export interface AggregatorLimits {
  /** How long after a second ends it stays open for timings still on their way (ms). */
  lateMs: number;
  /** Distinct (model, experiment) pairs kept per second; timings for more are dropped. */
  maxPairsPerSecond: number;
  /** Seconds held at once: before the first drain, timings' own `t` can spread over many. */
  maxOpenSeconds: number;
  /** Seconds this old that were never drained are dropped (ms). */
  maxAgeMs: number;
  /** Open experiments; starting one more ends the oldest. */
  maxOpenExperiments: number;
  /** Aggregates per drain: the protocol's cap on a sample's `i`. The rest wait. */
  maxAggregatesPerDrain: number;
  /** Experiment events per drain: the protocol's cap on a sample's `e`. The rest wait. */
  maxEventsPerDrain: number;
  /** Models that get infer.* metrics in one sample (busiest first), so a sample stays under the value cap. */
  maxMetricModels: number;
  /** Models given a metric segment over the agent's lifetime. */
  maxNamedModels: number;
}

export const DEFAULT_AGGREGATOR_LIMITS: AggregatorLimits = {
  lateMs: 250,
  maxPairsPerSecond: 256,
  maxOpenSeconds: 32,
  maxAgeMs: 10_000,
  maxOpenExperiments: 64,
  maxAggregatesPerDrain: 256,
  maxEventsPerDrain: 64,
  maxMetricModels: 64,
  maxNamedModels: 1024,
};

/** A timing's own `t` is trusted back to this long before the agent clock. */
export const MAX_CLOCK_SKEW_MS = 3_600_000;
/**
 * …and only this far ahead of it. Processes on one device share its clock, so a `t` in the
 * future is a bug in the sender; trusting it would hold that second open until it came, and
 * a steady stream of such timings would fill maxOpenSeconds and crowd out correct ones.
 */
export const MAX_AHEAD_MS = 1000;

/** Timings (not aggregates) dropped, by reason. */
export interface AggregatorDropped {
  /** Arrived for a second that was already sealed. */
  late: number;
  /** Over maxPairsPerSecond or maxOpenSeconds. */
  overflow: number;
  /** In seconds older than maxAgeMs that were never drained. */
  stale: number;
}

export interface AggregatorStats {
  timings: number;
  dropped: AggregatorDropped;
  openExperiments: number;
  /** Experiments ended because maxOpenExperiments were open when another started. */
  experimentsEvicted: number;
  /** Models that had timings but no infer.* metrics (over maxMetricModels or maxNamedModels). */
  metricsSkipped: number;
}

interface Cell {
  readonly model: string;
  readonly experiment: string | undefined;
  readonly hist: LogHistogram;
  items: number;
}

interface OpenExperiment extends ExperimentStart {
  readonly id: string;
  readonly start: number;
}

const SECOND = 1000;

export class InferenceAggregator implements InferenceSink {
  private readonly limits: AggregatorLimits;
  /** Second start (ms) → cells keyed by model and experiment. */
  private readonly seconds = new Map<number, Map<string, Cell>>();
  /** Seconds that start before this are sealed: handed out, waiting to be, or dropped. */
  private sealedBefore = 0;
  /** The newest second whose infer.* metrics were computed. */
  private metricSecond = -Infinity;
  private readonly open = new Map<string, OpenExperiment>();
  /** Events not yet handed out, by experiment id, in the order they happened. */
  private readonly events = new Map<string, ExperimentEvent>();
  private readonly segments = new Map<string, string>();
  private readonly takenSegments = new Set<string>();
  private lastIdMs = -1;
  private readonly idsThisMs = new Set<string>();
  private timings = 0;
  private readonly droppedBy: AggregatorDropped = { late: 0, overflow: 0, stale: 0 };
  private experimentsEvicted = 0;
  private metricsSkipped = 0;

  constructor(limits: Partial<AggregatorLimits> = {}) {
    this.limits = { ...DEFAULT_AGGREGATOR_LIMITS, ...limits };
  }

  /** Timings dropped so far, all reasons together. */
  get dropped(): number {
    return this.droppedBy.late + this.droppedBy.overflow + this.droppedBy.stale;
  }

  stats(): AggregatorStats {
    return {
      timings: this.timings,
      dropped: { ...this.droppedBy },
      openExperiments: this.open.size,
      experimentsEvicted: this.experimentsEvicted,
      metricsSkipped: this.metricsSkipped,
    };
  }

  timing(t: Timing, receivedAt: number): void {
    this.timings++;
    const at = t.t !== undefined && t.t >= receivedAt - MAX_CLOCK_SKEW_MS && t.t <= receivedAt + MAX_AHEAD_MS ? t.t : receivedAt;
    const second = Math.floor(at / SECOND) * SECOND;
    if (second < this.sealedBefore) {
      this.droppedBy.late++;
      return;
    }
    let cells = this.seconds.get(second);
    if (!cells) {
      if (this.seconds.size >= this.limits.maxOpenSeconds) {
        this.droppedBy.overflow++;
        return;
      }
      cells = new Map();
      this.seconds.set(second, cells);
    }
    const key = t.experiment === undefined ? t.model : `${t.model}\u0000${t.experiment}`;
    let cell = cells.get(key);
    if (!cell) {
      if (cells.size >= this.limits.maxPairsPerSecond) {
        this.droppedBy.overflow++;
        return;
      }
      cell = { model: t.model, experiment: t.experiment, hist: new LogHistogram(), items: 0 };
      cells.set(key, cell);
    }
    cell.hist.add(t.latencyMs);
    cell.items += t.batch ?? 1;
  }

  startExperiment(s: ExperimentStart, at: number): { id: string; start: number } {
    const start = Math.max(0, Math.floor(at));
    if (this.open.size >= this.limits.maxOpenExperiments) {
      // Most likely a script that crashed without ending its experiment: ending the oldest
      // keeps new experiments working instead of refusing them until the agent restarts.
      const oldest = this.open.keys().next().value!;
      this.endExperiment(oldest, start);
      this.experimentsEvicted++;
    }
    const id = this.newId(start);
    const experiment: OpenExperiment = { ...s, id, start };
    this.open.set(id, experiment);
    this.events.set(id, eventOf(experiment, undefined));
    return { id, start };
  }

  endExperiment(id: string, at: number): { id: string; end: number } | null {
    const experiment = this.open.get(id);
    if (!experiment) return null;
    this.open.delete(id);
    // An experiment's end cannot precede its start, even if the clock stepped back.
    const end = Math.max(experiment.start, Math.floor(at));
    // Replaces a start event not yet handed out, so the hub gets one event with both ends.
    this.events.delete(id);
    this.events.set(id, eventOf(experiment, end));
    return { id, end };
  }

  /** Hands out what has become final by `now` (agent clock, ms); called once per sampler tick. */
  drain(now: number): InferenceDrain {
    const sealedBefore = Math.floor((now - this.limits.lateMs) / SECOND) * SECOND;
    if (sealedBefore + this.limits.maxAgeMs < this.sealedBefore) this.clockSteppedBack(sealedBefore);
    if (sealedBefore > this.sealedBefore) this.sealedBefore = sealedBefore;
    this.dropStale(now);

    const lastComplete = this.sealedBefore - SECOND;
    let metrics: Record<string, number> = {};
    if (lastComplete > this.metricSecond) {
      this.metricSecond = lastComplete;
      const cells = this.seconds.get(lastComplete);
      if (cells) metrics = this.metricsOf(cells);
    }
    return { aggregates: this.takeAggregates(), metrics, experiments: this.takeEvents() };
  }

  private takeAggregates(): InferenceAggregate[] {
    const out: InferenceAggregate[] = [];
    const sealed = [...this.seconds.keys()].filter((s) => s < this.sealedBefore).sort((a, b) => a - b);
    for (const second of sealed) {
      const cells = this.seconds.get(second)!;
      for (const [key, cell] of cells) {
        if (out.length >= this.limits.maxAggregatesPerDrain) return out;
        out.push(aggregateOf(second, cell));
        cells.delete(key);
      }
      this.seconds.delete(second);
    }
    return out;
  }

  private takeEvents(): ExperimentEvent[] {
    const out: ExperimentEvent[] = [];
    for (const [id, event] of this.events) {
      if (out.length >= this.limits.maxEventsPerDrain) break;
      out.push(event);
      this.events.delete(id);
    }
    return out;
  }

  private dropStale(now: number): void {
    for (const [second, cells] of this.seconds) {
      if (second + SECOND > now - this.limits.maxAgeMs) continue;
      for (const cell of cells.values()) this.droppedBy.stale += cell.hist.count;
      this.seconds.delete(second);
    }
  }

  /**
   * The clock went back by more than maxAgeMs (NTP's first sync on a board without an RTC):
   * seconds held now lie in the "future" and would block memory until the clock caught up.
   */
  private clockSteppedBack(sealedBefore: number): void {
    for (const [second, cells] of this.seconds) {
      if (second < sealedBefore) continue;
      for (const cell of cells.values()) this.droppedBy.stale += cell.hist.count;
      this.seconds.delete(second);
    }
    this.sealedBefore = sealedBefore;
    this.metricSecond = -Infinity;
  }

  private metricsOf(cells: Map<string, Cell>): Record<string, number> {
    // One model's experiments share its metrics: a chart of a model's rate counts every call.
    const byModel = new Map<string, { hist: LogHistogram; items: number }>();
    for (const cell of cells.values()) {
      let m = byModel.get(cell.model);
      if (!m) byModel.set(cell.model, (m = { hist: new LogHistogram(), items: 0 }));
      m.hist.merge(cell.hist.summary());
      m.items += cell.items;
    }
    const busiest = [...byModel.entries()].sort((a, b) => b[1].hist.count - a[1].hist.count || (a[0] < b[0] ? -1 : 1));
    const out: Record<string, number> = {};
    let named = 0;
    for (const [model, { hist, items }] of busiest) {
      const segment = named < this.limits.maxMetricModels ? this.segmentOf(model) : undefined;
      if (segment === undefined) {
        this.metricsSkipped++;
        continue;
      }
      named++;
      const prefix = `infer.${segment}`;
      // Over exactly one second, a count is a rate per second.
      out[`${prefix}.rate`] = hist.count;
      out[`${prefix}.items_rate`] = items;
      out[`${prefix}.latency.mean`] = hist.mean;
      out[`${prefix}.latency.p50`] = hist.quantile(0.5);
      out[`${prefix}.latency.p99`] = hist.quantile(0.99);
      out[`${prefix}.latency.max`] = hist.max;
    }
    return out;
  }

  /** The model's metric segment, fixed the first time it is seen so names never move. */
  private segmentOf(model: string): string | undefined {
    const known = this.segments.get(model);
    if (known !== undefined) return known;
    if (this.segments.size >= this.limits.maxNamedModels) return undefined;
    const segment = uniqueSegment(metricSegment(model), this.takenSegments);
    this.segments.set(model, segment);
    return segment;
  }

  /** `x-<ms base36>-<4 hex>`: sorts by start time (ids of one ms in any order), unique per agent. */
  private newId(at: number): string {
    if (at !== this.lastIdMs) {
      this.lastIdMs = at;
      this.idsThisMs.clear();
    }
    for (;;) {
      const id = `x-${at.toString(36)}-${randomBytes(2).toString('hex')}`;
      if (!this.idsThisMs.has(id) && !this.open.has(id)) {
        this.idsThisMs.add(id);
        return id;
      }
    }
  }
}

function aggregateOf(second: number, cell: Cell): InferenceAggregate {
  const { count, sum, sumSq, min, max, buckets } = cell.hist.summary();
  return {
    model: cell.model,
    ...(cell.experiment !== undefined ? { experiment: cell.experiment } : {}),
    t: second,
    count,
    sum,
    sumSq,
    min,
    max,
    items: cell.items,
    buckets,
  };
}

function eventOf(e: OpenExperiment, end: number | undefined): ExperimentEvent {
  const event: ExperimentEvent = { id: e.id, name: e.name, start: e.start };
  if (e.tags !== undefined) event.tags = e.tags;
  if (e.params !== undefined) event.params = e.params;
  if (e.modelBytes !== undefined) event.modelBytes = e.modelBytes;
  if (end !== undefined) event.end = end;
  return event;
}
