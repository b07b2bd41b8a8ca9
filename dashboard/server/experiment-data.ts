// Gathers from the store what an experiment's summary and comparison need: its timings (by
// the store's rule of which belong to it) and the raw samples of the metrics compare.ts reads.
import type { ExperimentSummary } from '../../shared/live.js';
import { experimentRangeEnd, type ExperimentRow, type Store } from '../store/store.js';
import { comparisonMetrics, type ExperimentInput } from './compare.js';

function ownFields(row: ExperimentRow): Omit<ExperimentSummary, 'models' | 'inferences'> {
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

export function experimentSummary(store: Store, row: ExperimentRow): ExperimentSummary {
  const counts = store.inferenceCounts(store.experimentTimingScope(row).query);
  return {
    ...ownFields(row),
    models: counts.map((c) => c.model),
    inferences: counts.reduce((sum, c) => sum + c.count, 0),
  };
}

export function experimentInput(store: Store, row: ExperimentRow): ExperimentInput {
  const scope = store.experimentTimingScope(row);
  const timings = [...store.inferenceHistogram(scope.query).values()].map((m) => ({
    model: m.model,
    histogram: m.histogram.summary(),
    items: m.items,
  }));
  const rangeEnd = experimentRangeEnd(row);
  const metrics = comparisonMetrics(store.metricNames(row.deviceNum));
  return {
    experiment: ownFields(row),
    rangeEnd,
    timings,
    latencySource: scope.source,
    samples: store.rawSamples(row.deviceNum, metrics, row.start, rangeEnd),
  };
}
