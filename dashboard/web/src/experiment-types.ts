// Shapes of the hub's experiment API (GET /api/v1/experiments…), from shared/live.ts.
export type {
  ComparisonResponse,
  Estimate,
  ExperimentFigure,
  ExperimentStats,
  ExperimentSummary,
  PowerSource,
  RepeatFigure,
  RepeatGroup,
  ScoreDelta,
  TrialComparison,
  TrialSummary,
  Verdict,
} from '../../../shared/live.js';
export type { GpuConditions, RunConditions } from '../../../shared/conditions.js';
export type { Score, Warmup } from '../../../shared/inference.js';
