// Builders for hand-made compare responses (the shapes in shared/live.ts), shared by the tests
// that feed the compare page, its pure logic and the report exports without a hub. Every
// default is the neutral one (no figure, no sensor, no warm-up); a test names what it measured
// in the overrides, so its fixture reads as the values it checks.
import type { ComparisonResponse, Estimate, ExperimentFigure, ExperimentStats, RepeatFigure, RepeatGroup, TrialSummary } from '../../shared/live.js';

/** An experiment with nothing measured but its count and time: 100 calls in 10 s on device "dev", named as its id. */
export function experimentStats(id: string, over: Partial<ExperimentStats> = {}): ExperimentStats {
  return {
    id,
    deviceId: 'dev',
    deviceName: 'dev',
    name: id,
    tags: {},
    params: null,
    modelBytes: null,
    start: 0,
    end: 1000,
    models: [],
    inferences: 100,
    running: false,
    items: 100,
    durationS: 10,
    inferencesPerS: 10,
    itemsPerS: 10,
    latencySource: 'experiment',
    latencyMeanMs: null,
    latencyP50Ms: null,
    latencyP90Ms: null,
    latencyP95Ms: null,
    latencyP99Ms: null,
    latencyMaxMs: null,
    latencyStdevMs: null,
    latencyCov: null,
    warmup: null,
    firstCallMs: null,
    warmupInferences: 0,
    warmupMeanMs: null,
    timingsDropped: null,
    conditions: null,
    scores: [],
    scoreDeltas: [],
    cpuUtilMean: null,
    cpuUtilPeak: null,
    gpuUtilMean: null,
    gpuUtilPeak: null,
    memUsedPeakBytes: null,
    powerSource: null,
    powerMetrics: [],
    powerMeanW: null,
    powerPeakW: null,
    powerSampleIntervalS: null,
    energyJ: null,
    energyPerInferenceJ: null,
    idlePowerW: null,
    netEnergyJ: null,
    netEnergyPerInferenceJ: null,
    tempPeakC: null,
    throttled: null,
    throttledS: null,
    speedupP50: null,
    speedupMean: null,
    compressionParams: null,
    spaceSavingParams: null,
    compressionBytes: null,
    spaceSavingBytes: null,
    ...over,
  };
}

/** A median with its 95 % interval. */
export function estimate(value: number, lo: number, hi: number): Estimate {
  return { value, lo, hi };
}

/** A baseline group's trials: 5 of them, no estimate, no spread, no warning. */
export function trialSummary(over: Partial<TrialSummary> = {}): TrialSummary {
  return {
    n: 5,
    latencyP50Ms: null,
    latencyP90Ms: null,
    latencyP95Ms: null,
    latencyP99Ms: null,
    latencyMeanMs: null,
    inferencesPerS: null,
    energyPerInferenceJ: null,
    netEnergyPerInferenceJ: null,
    cov: null,
    versusBaseline: null,
    verdict: 'baseline',
    warnings: [],
    ...over,
  };
}

/** A repeat group of `ids`, with only the given figures (the readers tested look at no others). */
export function repeatGroup(name: string, ids: string[], trials: TrialSummary | null, figures: Partial<Record<ExperimentFigure, RepeatFigure>> = {}): RepeatGroup {
  return { name, runs: ids.length, ids, figures: figures as RepeatGroup['figures'], trials };
}

/** A compare response: no groups, warnings or notes unless given, a 30 s idle window. */
export function comparison(over: Pick<ComparisonResponse, 'baseline' | 'experiments'> & Partial<ComparisonResponse>): ComparisonResponse {
  const { baseline, experiments, ...rest } = over;
  return { baseline, experiments, groups: [], idleWindowS: 30, conditionWarnings: [], notes: [], ...rest };
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF rows), to read a CSV export as a spreadsheet would. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}
