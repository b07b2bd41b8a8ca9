// Option parsers that `run` and `bench` share: tags, counts people write as 11.7M, warm-up as a
// number of calls or a duration, and where scores come from.
import { InvalidArgumentError } from 'commander';
import type { Warmup } from '../../shared/inference.js';
import { parseDuration } from '../options.js';


export function parseTag(raw: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${raw}" is not a tag: use key=value, e.g. --tag quant=int8`);
  return { ...previous, [raw.slice(0, eq)]: raw.slice(eq + 1) };
}

export function parseCount(raw: string): number {
  // 11.7M and 44.7e6 are how people write parameter counts.
  const m = /^\s*(\d+(?:\.\d+)?)(?:e(\d+))?\s*([kKmMgG]?)\s*$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a count: use e.g. 11689512, 11.7M or 44.7e6`);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[3]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * 10 ** Number(m[2] ?? 0) * scale);
}

/** `20` → the first 20 calls of each model are warm-up; `5s`, `500ms` → those within that time of the start. */
export function parseWarmup(raw: string): Warmup {
  if (/^\s*\d+\s*$/.test(raw)) {
    const calls = Number(raw);
    if (calls <= 0 || calls > 1_000_000) throw new InvalidArgumentError(`"${raw}" is not a warm-up: use 1–1000000 calls, or a duration such as 5s or 500ms`);
    return { calls };
  }
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch {
    throw new InvalidArgumentError(`"${raw}" is not a warm-up: use a number of calls (e.g. 20) or a duration (e.g. 5s, 500ms)`);
  }
  if (ms <= 0 || ms > 86_400_000) throw new InvalidArgumentError(`"${raw}" is not a warm-up: a duration above zero and at most 1d`);
  return { ms };
}

/** `stdout`, or a path to a JSON file the command writes. */
export function parseScoresFrom(raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('--scores-from takes `stdout` or the path of a JSON file the command writes');
  return raw;
}
