// Shapes of the hub's experiment API (GET /api/v1/experiments…), from shared/live.ts.
export type {
  ComparisonResponse,
  ExperimentFigure,
  ExperimentStats,
  ExperimentSummary,
  RepeatFigure,
  RepeatGroup,
} from '../../../shared/live.js';
