// Turns individual inference timings into one mergeable histogram per (model, experiment) per
// second, and hands sealed seconds to the sampler. Only these per-second aggregates travel to
// the hub, so what the agent sends does not grow with the user's call rate.
//
// A second is sealed once it has ended plus LATE_MS and is handed out then. A timing that
// arrives later for a sealed second (an SDK that flushed its last lines at exit, a process that
// was paused) is still counted: it opens the second again and goes out as another aggregate for
// the same key, which the hub merges into the one it has. Only a bound (too many seconds or
// pairs at once) drops a timing, and every drop is counted: per device as the
// `inference.dropped` metric, per experiment on its end event.
//
// Experiments also keep their own running histograms here (measured and warm-up apart), so that
// ending one answers with its figures on the device itself: `edgewatch bench` needs no hub.
import { randomBytes } from 'node:crypto';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { RunConditions } from '../../shared/conditions.js';
import {
  MAX_SCORES_PER_EXPERIMENT,
  type ExperimentEndSummary,
  type ExperimentStart,
  type LatencyDigest,
  type Score,
  type Timing,
} from '../../shared/inference.js';
import type { ExperimentEvent, InferenceAggregate } from '../../shared/protocol.js';
import type { PersistedExperiment } from './open-experiments-file.js';
import { HttpError, type InferenceSink } from './receiver.js';

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
  /** Models whose warm-up calls are counted apart per experiment; more share one count. */
  maxModelsPerExperiment: number;
  /**
   * Distinct models taken outside open experiments within modelWindowMs; a timing for one more
   * is refused and counted (dropped.models). A fleet of 50 real models never meets it, a
   * sender inventing names (100,000 of them) is held to it instead of spreading the hub thin.
   */
  maxModels: number;
  /** A model not seen for this long no longer counts against maxModels (ms). */
  modelWindowMs: number;
  /**
   * (model, experiment) pairs per second for timings of open experiments, apart from
   * maxPairsPerSecond: a flood of other timings cannot crowd out an experiment being measured.
   */
  maxExperimentPairsPerSecond: number;
  /** With maxOpenExperiments open, the oldest one idle this long (no timing, ms) is ended for a new one; else the start is refused. */
  experimentIdleMs: number;
  /** Experiment events waiting for a drain; a start past it is refused (events carry up to 32 tags each). */
  maxPendingEvents: number;
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
  maxModelsPerExperiment: 256,
  maxModels: 1024,
  modelWindowMs: 600_000,
  maxExperimentPairsPerSecond: 256,
  experimentIdleMs: 60_000,
  maxPendingEvents: 1024,
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
  /** Over maxPairsPerSecond or maxOpenSeconds. */
  overflow: number;
  /** Held longer than maxAgeMs without a drain, or in "future" seconds after the clock stepped back. */
  stale: number;
  /** Refused for a model past maxModels. */
  models: number;
}

/** The metric that counts the timings dropped since the previous tick (sent on ticks with drops). */
export const DROPPED_METRIC = 'inference.dropped';

export interface AggregatorStats {
  timings: number;
  /** Timings that arrived after their second was handed out, sent as a further aggregate. */
  late: number;
  dropped: AggregatorDropped;
  openExperiments: number;
  /** Experiments ended because maxOpenExperiments were open when another started. */
  experimentsEvicted: number;
  /** Models that had timings but no infer.* metrics (over maxMetricModels or maxNamedModels). */
  metricsSkipped: number;
  /** Experiment starts refused (all maxOpenExperiments active, or maxPendingEvents waiting). */
  experimentsRefused: number;
  /** Distinct models outside experiments counted against maxModels now. */
  models: number;
}

interface Cell {
  readonly model: string;
  readonly experiment: string | undefined;
  readonly warmup: boolean;
  readonly hist: LogHistogram;
  items: number;
}

interface Second {
  readonly cells: Map<string, Cell>;
  /** Cells of open experiments among them (they have their own cap). */
  experimentCells: number;
  /** Agent clock when the first timing for it arrived: what staleness is counted from. */
  readonly openedAt: number;
}

interface OpenExperiment extends ExperimentStart {
  readonly id: string;
  readonly start: number;
  /** Calls seen per model, while a warm-up by call count is running. */
  readonly calls: Map<string, number>;
  readonly measured: LogHistogram;
  readonly warm: LogHistogram;
  items: number;
  firstCallMs: number | undefined;
  /** Start of the first call after the warm-up, agent clock (experiments with a warm-up). */
  measuredFrom: number | undefined;
  dropped: number;
  readonly scores: Map<string, Score>;
  conditions: RunConditions | undefined;
  /**
   * Agent clock when a restarted agent reloaded this experiment from its state directory: its
   * histograms here only hold timings since then (the earlier ones are on the hub).
   */
  resumedAt: number | undefined;
  /** Agent clock of its last timing (its start before one): what maxOpenExperiments evicts by. */
  activeAt: number;
}

/** Reads the device's run conditions when an experiment starts; must not throw (it may reject). */
export type ConditionsReader = () => Promise<RunConditions>;

/** Shared count for the models past maxModelsPerExperiment. */
const OTHER_MODELS = '\u0000other';

const SECOND = 1000;

export class InferenceAggregator implements InferenceSink {
  private readonly limits: AggregatorLimits;
  /** Second start (ms) → cells keyed by model and experiment. */
  private readonly seconds = new Map<number, Second>();
  /** Seconds that start before this are sealed: handed out, waiting to be, or dropped. */
  private sealedBefore = 0;
  /** The newest second whose infer.* metrics were computed. */
  private metricSecond = -Infinity;
  private readonly open = new Map<string, OpenExperiment>();
  /** Ends of experiments that ended recently, for the events that follow their end (conditions). */
  private readonly ended = new BoundedMap<string, number>(256);
  /** Events not yet handed out, by experiment id, in the order they happened. */
  private readonly events = new Map<string, ExperimentEvent>();
  private readonly segments = new Map<string, string>();
  private readonly takenSegments = new Set<string>();
  private lastIdMs = -1;
  private readonly idsThisMs = new Set<string>();
  private timings = 0;
  private late = 0;
  private readonly droppedBy: AggregatorDropped = { overflow: 0, stale: 0, models: 0 };
  /** Models outside experiments → agent clock they were last seen, oldest first (see maxModels). */
  private readonly models = new Map<string, number>();
  private experimentsRefused = 0;
  /** `dropped` at the previous drain: the metric reports the difference. */
  private droppedAtDrain = 0;
  private experimentsEvicted = 0;
  private metricsSkipped = 0;
  /** Where open experiments are persisted (agent state dir); none in tests and benchmarks. */
  private persist: ((open: PersistedExperiment[]) => void) | undefined;
  /** A change worth persisting that can wait for the next drain (first call, warm-up passed, conditions). */
  private persistDue = false;

  constructor(
    limits: Partial<AggregatorLimits> = {},
    private readonly readConditions?: ConditionsReader,
  ) {
    this.limits = { ...DEFAULT_AGGREGATOR_LIMITS, ...limits };
  }

  /** Timings dropped so far, all reasons together. */
  get dropped(): number {
    return this.droppedBy.overflow + this.droppedBy.stale + this.droppedBy.models;
  }

  stats(): AggregatorStats {
    return {
      timings: this.timings,
      late: this.late,
      dropped: { ...this.droppedBy },
      openExperiments: this.open.size,
      experimentsEvicted: this.experimentsEvicted,
      metricsSkipped: this.metricsSkipped,
      experimentsRefused: this.experimentsRefused,
      models: this.models.size,
    };
  }

  /** Counts one timing; returns why when it could not be (it is counted as dropped then). */
  timing(t: Timing, receivedAt: number): string | undefined {
    this.timings++;
    const at = t.t !== undefined && t.t >= receivedAt - MAX_CLOCK_SKEW_MS && t.t <= receivedAt + MAX_AHEAD_MS ? t.t : receivedAt;
    const second = Math.floor(at / SECOND) * SECOND;
    const experiment = t.experiment === undefined ? undefined : this.open.get(t.experiment);
    if (!experiment && !this.seeModel(t.model, receivedAt)) {
      this.drop(undefined, 'models');
      return `model ${JSON.stringify(t.model)} refused: ${this.limits.maxModels} distinct models already had timings outside an experiment in the last ${this.limits.modelWindowMs / 1000} s (a sender inventing model names?)`;
    }
    const warmup = experiment !== undefined && this.isWarmup(experiment, t.model, at);
    let entry = this.seconds.get(second);
    if (!entry) {
      if (this.seconds.size >= this.limits.maxOpenSeconds) {
        this.drop(experiment, 'overflow');
        return `timing dropped: ${this.limits.maxOpenSeconds} seconds of timings are already waiting to be sent`;
      }
      entry = { cells: new Map(), openedAt: receivedAt, experimentCells: 0 };
      this.seconds.set(second, entry);
    }
    const key = `${t.model}\u0000${t.experiment ?? ''}\u0000${warmup ? 'w' : ''}`;
    let cell = entry.cells.get(key);
    if (!cell) {
      const full = experiment
        ? entry.experimentCells >= this.limits.maxExperimentPairsPerSecond
        : entry.cells.size - entry.experimentCells >= this.limits.maxPairsPerSecond;
      if (full) {
        this.drop(experiment, 'overflow');
        const cap = experiment ? `${this.limits.maxExperimentPairsPerSecond} (model, experiment) pairs of open experiments` : `${this.limits.maxPairsPerSecond} (model, experiment) pairs`;
        return `timing dropped: ${cap} already had timings in this second`;
      }
      cell = { model: t.model, experiment: t.experiment, warmup, hist: new LogHistogram(), items: 0 };
      entry.cells.set(key, cell);
      if (experiment) entry.experimentCells++;
    }
    if (experiment) experiment.activeAt = receivedAt;
    if (second < this.sealedBefore) this.late++;
    cell.hist.add(t.latencyMs);
    const items = t.batch ?? 1;
    cell.items += items;
    if (experiment) {
      (warmup ? experiment.warm : experiment.measured).add(t.latencyMs);
      experiment.items += items;
      let changed = false;
      if (experiment.firstCallMs === undefined) {
        experiment.firstCallMs = t.latencyMs;
        changed = true;
      }
      if (!warmup && experiment.warmup !== undefined && experiment.measuredFrom === undefined) {
        experiment.measuredFrom = Math.max(experiment.start, Math.floor(at - t.latencyMs));
        changed = true;
      }
      if (changed) {
        this.queueEvent(experiment, undefined);
        // Not written here: this is the timing path, and an fsync on an SD card takes ms.
        this.persistDue = true;
      }
    }
    return undefined;
  }

  /** Whether this timing falls in the experiment's warm-up window (and counts it if by calls). */
  private isWarmup(e: OpenExperiment, model: string, at: number): boolean {
    const w = e.warmup;
    if (w === undefined) return false;
    // Reloaded after its warm-up had passed: the per-model call counts were not kept.
    if (e.resumedAt !== undefined && e.measuredFrom !== undefined) return false;
    if ('ms' in w) return at < e.start + w.ms;
    const key = e.calls.has(model) || e.calls.size < this.limits.maxModelsPerExperiment ? model : OTHER_MODELS;
    const seen = e.calls.get(key) ?? 0;
    e.calls.set(key, seen + 1);
    return seen < w.calls;
  }

  /** Notes a model outside experiments as seen; false when it is new and maxModels are already known. */
  private seeModel(model: string, now: number): boolean {
    const seenAt = this.models.get(model);
    if (seenAt !== undefined) {
      // Re-inserted (at most once a second, it is the hot path) so the map stays ordered by last
      // sight and forgetting can stop at the first recent one.
      if (now - seenAt >= SECOND || now < seenAt) {
        this.models.delete(model);
        this.models.set(model, now);
      }
      return true;
    }
    if (this.models.size >= this.limits.maxModels) {
      this.forgetModels(now);
      if (this.models.size >= this.limits.maxModels) return false;
    }
    this.models.set(model, now);
    return true;
  }

  private forgetModels(now: number): void {
    for (const [model, seenAt] of this.models) {
      // One seen "in the future" is from before the clock stepped back: its age is unknown, forget it.
      if (seenAt > now - this.limits.modelWindowMs && seenAt <= now + SECOND) break;
      this.models.delete(model);
    }
  }

  private drop(experiment: OpenExperiment | undefined, reason: keyof AggregatorDropped): void {
    this.droppedBy[reason]++;
    if (experiment) experiment.dropped++;
  }

  startExperiment(s: ExperimentStart, at: number): { id: string; start: number } {
    const start = Math.max(0, Math.floor(at));
    if (this.events.size >= this.limits.maxPendingEvents) {
      this.experimentsRefused++;
      throw new HttpError(429, `experiment not started: ${this.events.size} experiment events are waiting to be sent (experiments started faster than the agent sends them); retry in a few seconds`);
    }
    if (this.open.size >= this.limits.maxOpenExperiments) {
      // An idle one is most likely a script that crashed without ending it: ending it keeps new
      // experiments working. One still getting timings is being measured and is never ended
      // for a newcomer; the newcomer is refused instead.
      const idle = this.oldestIdle(start);
      if (idle === undefined) {
        this.experimentsRefused++;
        throw new HttpError(
          429,
          `experiment not started: ${this.open.size} experiments are open and each had a timing in the last ${this.limits.experimentIdleMs / 1000} s; end one (POST /v1/experiments/<id>/end) first`,
        );
      }
      this.endExperiment(idle, start);
      this.experimentsEvicted++;
    }
    const id = this.newId(start);
    const experiment: OpenExperiment = {
      ...s,
      id,
      start,
      calls: new Map(),
      measured: new LogHistogram(),
      warm: new LogHistogram(),
      items: 0,
      firstCallMs: undefined,
      measuredFrom: undefined,
      dropped: 0,
      scores: new Map(),
      conditions: undefined,
      activeAt: start,
      resumedAt: undefined,
    };
    this.open.set(id, experiment);
    this.queueEvent(experiment, undefined);
    this.recordConditions(experiment);
    this.persistNow();
    return { id, start };
  }

  /**
   * Persists open experiments through `save` from now on (called on start, end and scores at
   * once; on first call, warm-up end and conditions at the next drain).
   */
  persistTo(save: (open: PersistedExperiment[]) => void): void {
    this.persist = save;
  }

  /**
   * Reopens experiments a previous run of the agent left open (read from its state directory)
   * and queues an event for each, so the hub knows they are still running. Their histograms
   * start empty: the end summary says it covers only timings since `now`.
   */
  restore(experiments: readonly PersistedExperiment[], now: number): string[] {
    const restored: string[] = [];
    for (const p of experiments) {
      if (this.open.has(p.id) || this.open.size >= this.limits.maxOpenExperiments) continue;
      const experiment: OpenExperiment = {
        name: p.name,
        ...(p.tags !== undefined ? { tags: p.tags } : {}),
        ...(p.params !== undefined ? { params: p.params } : {}),
        ...(p.modelBytes !== undefined ? { modelBytes: p.modelBytes } : {}),
        ...(p.warmup !== undefined ? { warmup: p.warmup } : {}),
        id: p.id,
        start: p.start,
        calls: new Map(),
        measured: new LogHistogram(),
        warm: new LogHistogram(),
        items: 0,
        firstCallMs: p.firstCallMs,
        measuredFrom: p.measuredFrom,
        dropped: p.dropped ?? 0,
        scores: new Map((p.scores ?? []).map((s) => [s.name, s])),
        conditions: p.conditions,
        activeAt: Math.floor(now),
        resumedAt: Math.floor(now),
      };
      this.open.set(p.id, experiment);
      this.queueEvent(experiment, undefined);
      restored.push(p.id);
    }
    return restored;
  }

  /** Ids of the open experiments, oldest first (the hello lists them). */
  openIds(): string[] {
    return [...this.open.keys()];
  }

  private persistNow(): void {
    this.persistDue = false;
    if (!this.persist) return;
    this.persist([...this.open.values()].map((e) => ({ ...eventOf(e, undefined), dropped: e.dropped })));
  }

  /** The open experiment with the oldest activity, if that was at least experimentIdleMs ago. */
  private oldestIdle(now: number): string | undefined {
    let oldest: OpenExperiment | undefined;
    for (const e of this.open.values()) if (oldest === undefined || e.activeAt < oldest.activeAt) oldest = e;
    return oldest !== undefined && (oldest.activeAt <= now - this.limits.experimentIdleMs || oldest.activeAt > now + this.limits.experimentIdleMs) ? oldest.id : undefined;
  }

  endExperiment(id: string, at: number): { id: string; end: number; summary: ExperimentEndSummary } | null {
    const experiment = this.open.get(id);
    if (!experiment) return null;
    this.open.delete(id);
    // An experiment's end cannot precede its start, even if the clock stepped back.
    const end = Math.max(experiment.start, Math.floor(at));
    this.ended.set(id, end);
    this.queueEvent(experiment, end);
    this.persistNow();
    return { id, end, summary: summaryOf(experiment, end) };
  }

  scoreExperiment(id: string, scores: readonly Score[]): boolean {
    const experiment = this.open.get(id);
    if (!experiment) return false;
    for (const score of scores) {
      // Beyond the cap only scores already named can change: the event must stay in bounds.
      if (experiment.scores.has(score.name) || experiment.scores.size < MAX_SCORES_PER_EXPERIMENT) experiment.scores.set(score.name, score);
    }
    this.queueEvent(experiment, undefined);
    this.persistNow();
    return true;
  }

  /**
   * Queues the experiment's event as it stands. One pending event per id: a later one replaces
   * it, and carries everything the earlier said, so the hub gets the latest in one.
   */
  private queueEvent(e: OpenExperiment, end: number | undefined): void {
    this.events.delete(e.id);
    this.events.set(e.id, eventOf(e, end ?? this.ended.get(e.id)));
  }

  /** Reads the conditions in the background; they follow in a later event (also after an early end). */
  private recordConditions(e: OpenExperiment): void {
    if (!this.readConditions) return;
    this.readConditions().then(
      (conditions) => {
        e.conditions = conditions;
        this.queueEvent(e, undefined);
        if (this.open.has(e.id)) this.persistDue = true;
      },
      () => {},
    );
  }

  /** Hands out what has become final by `now` (agent clock, ms); called once per sampler tick. */
  drain(now: number): InferenceDrain {
    const sealedBefore = Math.floor((now - this.limits.lateMs) / SECOND) * SECOND;
    if (sealedBefore + this.limits.maxAgeMs < this.sealedBefore) this.clockSteppedBack(sealedBefore);
    if (sealedBefore > this.sealedBefore) this.sealedBefore = sealedBefore;
    this.dropStale(now);
    if (this.persistDue) this.persistNow();
    this.forgetModels(now);

    const lastComplete = this.sealedBefore - SECOND;
    let metrics: Record<string, number> = {};
    if (lastComplete > this.metricSecond) {
      this.metricSecond = lastComplete;
      const entry = this.seconds.get(lastComplete);
      if (entry) metrics = this.metricsOf(entry.cells);
    }
    // Only on ticks with drops: a steady 0 would cost every device a value per tick for nothing.
    const dropped = this.dropped;
    if (dropped > this.droppedAtDrain) metrics[DROPPED_METRIC] = dropped - this.droppedAtDrain;
    this.droppedAtDrain = dropped;
    return { aggregates: this.takeAggregates(), metrics, experiments: this.takeEvents() };
  }

  private takeAggregates(): InferenceAggregate[] {
    const out: InferenceAggregate[] = [];
    const sealed = [...this.seconds.keys()].filter((s) => s < this.sealedBefore).sort((a, b) => a - b);
    for (const second of sealed) {
      const cells = this.seconds.get(second)!.cells;
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
    for (const [second, entry] of this.seconds) {
      // Counted from arrival: a late timing for an old second is handed out at the next drain.
      if (Math.max(second + SECOND, entry.openedAt) > now - this.limits.maxAgeMs) continue;
      this.dropCells(entry);
      this.seconds.delete(second);
    }
  }

  private dropCells(entry: Second): void {
    for (const cell of entry.cells.values()) {
      this.droppedBy.stale += cell.hist.count;
      const experiment = cell.experiment === undefined ? undefined : this.open.get(cell.experiment);
      if (experiment) experiment.dropped += cell.hist.count;
    }
  }

  /**
   * The clock went back by more than maxAgeMs (NTP's first sync on a board without an RTC):
   * seconds held now lie in the "future" and would block memory until the clock caught up.
   */
  private clockSteppedBack(sealedBefore: number): void {
    for (const [second, entry] of this.seconds) {
      if (second < sealedBefore) continue;
      this.dropCells(entry);
      this.seconds.delete(second);
    }
    this.sealedBefore = sealedBefore;
    this.metricSecond = -Infinity;
  }

  private metricsOf(cells: Map<string, Cell>): Record<string, number> {
    // One model's experiments share its metrics: a chart of a model's rate counts every call.
    const byModel = new Map<string, { hist: LogHistogram; items: number }>();
    for (const cell of cells.values()) {
      // A model's rate counts every call, warm-up or not: the chart shows what the device did.
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
    ...(cell.warmup ? { warmup: true as const } : {}),
  };
}

function eventOf(e: OpenExperiment, end: number | undefined): ExperimentEvent {
  const event: ExperimentEvent = { id: e.id, name: e.name, start: e.start };
  if (e.tags !== undefined) event.tags = e.tags;
  if (e.params !== undefined) event.params = e.params;
  if (e.modelBytes !== undefined) event.modelBytes = e.modelBytes;
  if (e.warmup !== undefined) event.warmup = e.warmup;
  if (e.firstCallMs !== undefined) event.firstCallMs = e.firstCallMs;
  if (e.measuredFrom !== undefined) event.measuredFrom = e.measuredFrom;
  if (e.conditions !== undefined) event.conditions = e.conditions;
  if (e.scores.size > 0) event.scores = [...e.scores.values()];
  if (end !== undefined) {
    event.end = end;
    event.dropped = e.dropped;
  }
  return event;
}

function digestOf(h: LogHistogram): LatencyDigest {
  const n = h.count;
  const q = (x: number): number | null => (n > 0 ? x : null);
  return {
    count: n,
    mean: q(h.mean),
    p50: q(h.quantile(0.5)),
    p90: q(h.quantile(0.9)),
    p95: q(h.quantile(0.95)),
    p99: q(h.quantile(0.99)),
    min: q(h.min),
    max: q(h.max),
    stdev: q(h.stdev),
  };
}

function summaryOf(e: OpenExperiment, end: number): ExperimentEndSummary {
  return {
    inferences: e.measured.count + e.warm.count,
    items: e.items,
    durationMs: end - e.start,
    measured: digestOf(e.measured),
    warmup: digestOf(e.warm),
    firstCallMs: e.firstCallMs ?? null,
    dropped: e.dropped,
    ...(e.conditions ? { conditions: e.conditions } : {}),
    scores: [...e.scores.values()],
    // The agent restarted during the experiment: these figures are only what it saw since.
    ...(e.resumedAt !== undefined ? { resumed: true, countedFrom: e.resumedAt } : {}),
  };
}

/** A Map that forgets its oldest entries past a size. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value!);
    return this;
  }
}
