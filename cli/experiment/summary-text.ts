// The agent's end-of-experiment figures as the lines `run` and `bench` print.
import type { ExperimentEndSummary, Score } from '../../shared/inference.js';


/** 3 significant digits: 0.512 ms, 4.90 ms, 12.3 ms, 123 ms, 1.23 s. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 0.001 || ms === 0) return `${ms === 0 ? '0' : ms.toPrecision(3)} ms`;
  return `${(ms * 1000).toPrecision(3)} µs`;
}

export function formatScoreValue(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 1000) / 1000) : String(Number(v.toPrecision(4)));
}

/** The agent's summary in one or two lines (one more when the agent restarted during it). */
export function summaryLines(s: ExperimentEndSummary): string[] {
  const lines = countedLines(s);
  if (s.resumed) {
    const since = s.countedFrom !== undefined ? ` (${new Date(s.countedFrom).toISOString()})` : '';
    lines.push(`the agent restarted during the experiment: these figures count only the timings since its restart${since}; the hub has every timing, compare there`);
  }
  return lines;
}

function countedLines(s: ExperimentEndSummary): string[] {
  if (s.inferences === 0) {
    const lines = [`no timings reached the agent in ${(s.durationMs / 1000).toFixed(1)} s: does the command report them (edgewatch.timed / record in the SDK)?`];
    if (s.dropped > 0) lines[0] += ` ${s.dropped} were dropped (not counted)`;
    return s.scores.length > 0 ? [...lines, scoresLine(s.scores)] : lines;
  }
  const parts = [
    `${s.inferences} inference${s.inferences === 1 ? '' : 's'} in ${(s.durationMs / 1000).toFixed(1)} s`,
    `p50 ${formatMs(s.measured.p50)}, p99 ${formatMs(s.measured.p99)}`,
    `first call ${formatMs(s.firstCallMs)}`,
  ];
  if (s.warmup.count > 0) parts.push(`${s.warmup.count} warm-up call${s.warmup.count === 1 ? '' : 's'} excluded`);
  if (s.dropped > 0) parts.push(`${s.dropped} timing${s.dropped === 1 ? '' : 's'} dropped (not counted)`);
  const lines = [parts.join('; ')];
  if (s.scores.length > 0) lines.push(scoresLine(s.scores));
  return lines;
}

function scoresLine(scores: readonly Score[]): string {
  return `scores: ${scores.map((x) => `${x.name} ${formatScoreValue(x.value)}${x.better === 'lower' ? ' (lower is better)' : ''}`).join(', ')}`;
}
