// Quality scores a benchmark command reports: its last stdout line that is a JSON object with a
// `scores` key, or a JSON file it writes; validated against the SDKs' score schema.
import { readFileSync, statSync } from 'node:fs';
import { MAX_SCORES_PER_EXPERIMENT, ScoreSchema, type Score } from '../../shared/inference.js';

/** A stdout line longer than this is passed through but not read for scores. */
export const MAX_SCORES_LINE_BYTES = 1024 * 1024;

/** The parsed line when it is a JSON object with a `scores` key; undefined otherwise. */
export function scoresObject(line: string): unknown {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"scores"')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) && 'scores' in value ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface FoundScores {
  scores: Score[];
  /** What was wrong, in one line; absent when everything was fine. */
  problem?: string;
}

export function readScoresLine(line: unknown): FoundScores {
  if (line === undefined) return { scores: [], problem: 'the command printed no line like {"scores": {"top1": 0.91}}; no scores sent' };
  return parseScores(line);
}

export type FileStamp = { mtimeNs: bigint; size: bigint } | null;

export function fileStamp(path: string): FileStamp {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  return st ? { mtimeNs: st.mtimeNs, size: st.size } : null;
}

export function readScoresFile(path: string, before: FileStamp): FoundScores {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { scores: [], problem: `cannot read ${path} (${code === 'ENOENT' ? 'the command did not write it' : (err as Error).message}); no scores sent` };
  }
  const after = fileStamp(path);
  if (before && after && after.mtimeNs === before.mtimeNs && after.size === before.size) {
    return { scores: [], problem: `${path} was not written during this run (it holds an earlier run's scores); no scores sent` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { scores: [], problem: `${path} is not JSON (${(err as Error).message}); no scores sent` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('scores' in value)) {
    return { scores: [], problem: `${path} has no "scores" key: write e.g. {"scores": {"top1": 0.91}}; no scores sent` };
  }
  return parseScores(value);
}

/**
 * `{"scores": {"top1": 0.912, "wer": {"value": 0.08, "better": "lower"}}}`, or the wire form
 * `{"scores": [{"name": "top1", "value": 0.912, "better": "higher"}]}`. The valid scores are
 * kept; each invalid one is named in `problem`.
 */
export function parseScores(value: unknown): FoundScores {
  const raw = (value as { scores?: unknown }).scores;
  let entries: [string, unknown][];
  if (Array.isArray(raw)) {
    entries = raw.map((s, i) => [typeof (s as { name?: unknown } | null)?.name === 'string' ? (s as { name: string }).name : `#${i + 1}`, s]);
  } else if (raw !== null && typeof raw === 'object') {
    entries = Object.entries(raw).map(([name, s]) => [name, typeof s === 'number' ? { name, value: s } : s !== null && typeof s === 'object' ? { ...s, name } : { name, value: s }]);
  } else {
    return { scores: [], problem: `"scores" is ${JSON.stringify(raw)?.slice(0, 40)}, not an object such as {"top1": 0.91, "wer": {"value": 0.08, "better": "lower"}}; no scores sent` };
  }
  const scores: Score[] = [];
  const bad: string[] = [];
  for (const [name, entry] of entries) {
    const parsed = ScoreSchema.safeParse(entry);
    if (parsed.success) scores.push(parsed.data);
    else bad.push(`${JSON.stringify(name.slice(0, 40))} (${parsed.error.issues.map((i) => `${i.path.join('.') || 'score'}: ${i.message}`).join(', ')})`);
  }
  if (scores.length > MAX_SCORES_PER_EXPERIMENT) bad.push(`${scores.length - MAX_SCORES_PER_EXPERIMENT} over the ${MAX_SCORES_PER_EXPERIMENT} scores an experiment holds`);
  const kept = scores.slice(0, MAX_SCORES_PER_EXPERIMENT);
  if (bad.length === 0 && kept.length > 0) return { scores: kept };
  if (bad.length === 0) return { scores: [], problem: '"scores" is empty; no scores sent' };
  return { scores: kept, problem: `left out ${bad.join('; ')}; sent ${kept.length === 0 ? 'none' : kept.map((s) => s.name).join(', ')}` };
}
