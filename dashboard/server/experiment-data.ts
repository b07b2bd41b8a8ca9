// Gathers from the store what an experiment's summary and comparison need: its timings (by
// the store's rule of which belong to it) and the raw samples of the metrics compare.ts reads.
import { LogHistogram } from '../../shared/histogram.js';
import type { ExperimentSummary, ExperimentTimeline } from '../../shared/live.js';
import { experimentRangeEnd, type ExperimentRow, type Store } from '../store/store.js';
import { choosePower, combineByTime, comparisonMetrics, DEFAULT_IDLE_WINDOW_S, type ExperimentInput, type ModelTimingsInput } from './compare.js';
import { downsampleMean, latencyDistribution, MAX_TIMELINE_POINTS, TimelineBuilder } from './experiment-series.js';

/** The experiment's own fields, as the row has them now (a snapshot's figures are shown under these). */
export function ownFields(row: ExperimentRow): Omit<ExperimentSummary, 'models' | 'inferences'> {
  return {
    id: row.id,
    deviceId: row.deviceId,
    deviceName: row.deviceName,
    name: row.name,
    tags: row.tags,
    params: row.params,
    modelBytes: row.modelBytes,
    start: row.start,
    end: row.end,
  };
}

/** The list's view of an experiment: `inferences` counts every timing, warm-up included. */
export function experimentSummary(store: Store, row: ExperimentRow): ExperimentSummary {
  const counts = store.inferenceCounts(store.experimentTimingScope(row).query);
  const all = [...counts, ...store.warmupCounts(row.deviceNum, row.id)];
  return {
    ...ownFields(row),
    models: [...new Set(all.map((c) => c.model))].sort(),
    inferences: all.reduce((sum, c) => sum + c.count, 0),
  };
}

function timingsOf(models: Iterable<{ model: string; histogram: { summary(): ModelTimingsInput['histogram'] }; items: number }>): ModelTimingsInput[] {
  return [...models].map((m) => ({ model: m.model, histogram: m.histogram.summary(), items: m.items }));
}

/** Everything compare.ts needs of one experiment; samples reach back idleWindowS before the start for idle power. */
export function experimentInput(store: Store, row: ExperimentRow, idleWindowS = DEFAULT_IDLE_WINDOW_S): ExperimentInput {
  const scope = store.experimentTimingScope(row);
  const rangeEnd = experimentRangeEnd(row);
  const metrics = comparisonMetrics(store.metricNames(row.deviceNum));
  return {
    experiment: ownFields(row),
    rangeEnd,
    timings: timingsOf(store.inferenceHistogram(scope.query).values()),
    latencySource: scope.source,
    samples: store.rawSamples(row.deviceNum, metrics, row.start - idleWindowS * 1000, rangeEnd),
    warmup: row.warmup,
    warmupTimings: timingsOf(store.warmupHistogram(row.deviceNum, row.id).values()),
    measuredFrom: row.measuredFrom,
    firstCallMs: row.firstCallMs,
    timingsDropped: row.dropped,
    conditions: row.conditions,
    scores: store.experimentScores(row.id),
  };
}

/**
 * An experiment's run step by step (throughput, p50 and p99 of its measured timings, from the
 * same per-second rows as its comparison figures), its power over [start, rangeEnd] from the
 * sensors the comparison sums, and the CDF of all its measured timings; at most `maxPoints`
 * points per series (experiment-series.ts).
 */
export function experimentTimeline(store: Store, row: ExperimentRow, maxPoints = MAX_TIMELINE_POINTS): ExperimentTimeline {
  const scope = store.experimentTimingScope(row);
  const rangeEnd = experimentRangeEnd(row);
  const timeline = new TimelineBuilder(row.start, rangeEnd, maxPoints);
  const merged = new LogHistogram();
  store.inferenceSeconds(scope.query, (r) => {
    timeline.add(r);
    merged.merge(r.histogram);
  });
  // Only the power sensors: one read, and choosePower picks among those with samples in the run.
  const candidates = store.metricNames(row.deviceNum).filter((n) => choosePower([n]) !== null);
  const samples = candidates.length > 0 ? store.rawSamples(row.deviceNum, candidates, row.start, rangeEnd) : {};
  const power = choosePower(Object.keys(samples));
  const watts = power ? downsampleMean(combineByTime(power.metrics.map((m) => samples[m] ?? []), 'sum'), maxPoints) : null;
  const latency = timeline.points();
  return {
    experimentId: row.id,
    deviceId: row.deviceId,
    name: row.name,
    start: row.start,
    end: row.end,
    rangeEnd,
    measuredFrom: row.measuredFrom,
    latencySource: merged.count > 0 ? scope.source : null,
    stepMs: timeline.stepMs,
    latency,
    power: power && watts ? { source: power.source, metrics: power.metrics, stepMs: watts.stepMs, points: watts.points } : null,
    distribution: latencyDistribution(merged.summary()),
  };
}
