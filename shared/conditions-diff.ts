// Plain-word warnings for runs compared side by side whose run conditions (./conditions.ts)
// make them not comparable: "run B (pruned #2) was in 15W mode, run A (dense #1) in MAXN".
// Runs are grouped by value, so N runs with the same difference give one sentence: the runs
// that differ from the first run come first, the first run's group last. A field a run did
// not record is no difference (an older agent, a tool that failed): only recorded values are
// compared. Pure and free of Node APIs: the browser bundle imports it.
import type { GpuConditions, RunConditions } from './conditions.js';

export interface ComparedRun {
  /** How the run is named in the sentences, e.g. `run B (pruned #2)`. */
  readonly label: string;
  /** null when the run has none (recorded before conditions existed, or not sent). */
  readonly conditions: RunConditions | null;
}

/** Start temperatures further apart than this make runs not comparable. */
export const START_TEMP_SPREAD_C = 10;

interface Group<T> {
  readonly value: T;
  readonly labels: string[];
}

/** `a`, `a and b`, `a, b and c`. */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

const was = (n: number): string => (n === 1 ? 'was' : 'were');

/** 700 → `700`, 1478.4 → `1478.4`, 2265.6001 → `2265.6`. */
function num(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * Runs grouped by `key` of their value, in order of first appearance; runs without a value
 * are in no group. Values whose keys match are the same value as far as a reader can tell.
 */
function groupBy<T>(runs: readonly ComparedRun[], value: (c: RunConditions) => T | undefined, key: (v: T) => string): Group<T>[] {
  const groups = new Map<string, { value: T; labels: string[] }>();
  for (const run of runs) {
    if (run.conditions === null) continue;
    const v = value(run.conditions);
    if (v === undefined) continue;
    const k = key(v);
    const g = groups.get(k);
    if (g) g.labels.push(run.label);
    else groups.set(k, { value: v, labels: [run.label] });
  }
  return [...groups.values()];
}

/**
 * One sentence for groups that differ, or undefined when all recorded values agree. `full`
 * says it for the first group named (with its verb, for `n` runs), `short` for the rest:
 * "run B was in 15W mode, run A in MAXN".
 */
function differ<T>(groups: readonly Group<T>[], full: (v: T, n: number) => string, short: (v: T) => string): string | undefined {
  if (groups.length < 2) return undefined;
  const [reference, ...others] = groups;
  return [...others, reference!]
    .map((g, i) => `${listWords(g.labels)} ${i === 0 ? full(g.value, g.labels.length) : short(g.value)}`)
    .join(', ');
}

function governorPhrase(g: string): string {
  const mixed = /^mixed \((.*)\)$/.exec(g);
  return mixed ? `mixed CPU governors (${mixed[1]})` : `the ${g} CPU governor`;
}

interface CpuLimits {
  readonly min?: number;
  readonly max?: number;
}

function cpuLimits(l: CpuLimits): string {
  if (l.min !== undefined && l.max !== undefined) return l.min === l.max ? `pinned at ${num(l.min)} MHz` : `${num(l.min)}–${num(l.max)} MHz`;
  return l.min !== undefined ? `min ${num(l.min)} MHz` : `max ${num(l.max!)} MHz`;
}

/** Pi get_throttled flag names (agent/parsers/vcgencmd/throttled.ts) in plain words. */
const THROTTLE_WORDS: Readonly<Record<string, string>> = {
  under_voltage: 'under-voltage',
  freq_capped: 'a capped ARM frequency',
  throttled: 'throttling',
  soft_temp_limit: 'the soft temperature limit',
};

function throttleWords(flags: readonly string[]): string {
  return listWords(flags.map((f) => THROTTLE_WORDS[f] ?? f.replace(/_/g, ' ')));
}

function gpuRef(indices: readonly number[]): string {
  return indices.length === 1 ? `GPU ${indices[0]}` : `GPUs ${listWords(indices.map(String))}`;
}

/** A per-GPU setting, compared by the words it is shown in. */
interface GpuField {
  readonly value: (g: GpuConditions) => string | undefined;
  readonly full: (v: string, gpus: string) => string;
  readonly short: (v: string) => string;
}

function appClocks(g: GpuConditions): string | undefined {
  const parts = [
    g.appSmClockMHz === undefined ? '' : `${num(g.appSmClockMHz)} MHz SM`,
    g.appMemClockMHz === undefined ? '' : `${num(g.appMemClockMHz)} MHz memory`,
  ].filter((s) => s !== '');
  return parts.length === 0 ? undefined : parts.join(' / ');
}

const GPU_FIELDS: readonly GpuField[] = [
  { value: appClocks, full: (v, gpus) => `had ${gpus} application clocks at ${v}`, short: (v) => v },
  {
    value: (g) => (g.powerLimitW === undefined ? undefined : `${num(g.powerLimitW)} W`),
    full: (v, gpus) => `had a ${v} power limit on ${gpus}`,
    short: (v) => v,
  },
  {
    value: (g) => (g.persistenceMode === undefined ? undefined : g.persistenceMode ? 'on' : 'off'),
    full: (v, gpus) => `had persistence mode ${v} on ${gpus}`,
    short: (v) => v,
  },
];

/**
 * Per-GPU differences, one sentence per field and pattern: GPUs whose runs differ the same way
 * (8 GPUs all given a lower power limit for run B) are named together.
 */
function gpuWarnings(runs: readonly ComparedRun[]): string[] {
  const indices = [...new Set(runs.flatMap((r) => r.conditions?.gpus?.map((g) => g.index) ?? []))].sort((a, b) => a - b);
  const out: string[] = [];
  for (const field of GPU_FIELDS) {
    const patterns = new Map<string, { groups: Group<string>[]; indices: number[] }>();
    for (const index of indices) {
      const groups = groupBy(runs, (c) => {
        const gpu = c.gpus?.find((g) => g.index === index);
        return gpu === undefined ? undefined : field.value(gpu);
      }, (v) => v);
      if (groups.length < 2) continue;
      const signature = JSON.stringify(groups.map((g) => [g.value, g.labels]));
      const p = patterns.get(signature);
      if (p) p.indices.push(index);
      else patterns.set(signature, { groups, indices: [index] });
    }
    for (const { groups, indices: same } of patterns.values()) {
      const sentence = differ(groups, (v) => field.full(v, gpuRef(same)), field.short);
      if (sentence !== undefined) out.push(sentence);
    }
  }
  return out;
}

function driverWarnings(runs: readonly ComparedRun[]): string[] {
  const byDriver = groupBy(runs, (c) => (c.gpuDriver === undefined ? undefined : { driver: c.gpuDriver, cuda: c.cudaVersion }), (v) => v.driver);
  const withCuda = (v: { driver: string; cuda: string | undefined }): string => `${v.driver}${v.cuda === undefined ? '' : ` (CUDA ${v.cuda})`}`;
  const drivers = differ(byDriver, (v) => `used NVIDIA driver ${withCuda(v)}`, withCuda);
  if (drivers !== undefined) return [drivers];
  const byCuda = groupBy(runs, (c) => c.cudaVersion, (v) => v);
  const cuda = differ(byCuda, (v) => `had CUDA ${v}`, (v) => v);
  return cuda === undefined ? [] : [cuda];
}

function throttleWarnings(runs: readonly ComparedRun[]): string[] {
  return groupBy(runs, (c) => (c.throttleAtStart && c.throttleAtStart.length > 0 ? c.throttleAtStart : undefined), (v) => [...v].sort().join(',')).map(
    (g) => `${listWords(g.labels)} started with the Pi already reporting ${throttleWords(g.value)}`,
  );
}

function startTempWarning(runs: readonly ComparedRun[]): string[] {
  const temps = runs.flatMap((r) => (r.conditions?.startTempC === undefined ? [] : [r.conditions.startTempC]));
  if (temps.length < 2) return [];
  const spread = Math.max(...temps) - Math.min(...temps);
  if (!(spread > START_TEMP_SPREAD_C)) return [];
  const groups = groupBy(runs, (c) => c.startTempC, (t) => String(Math.round(t)));
  groups.sort((a, b) => b.value - a.value);
  const parts = groups.map((g, i) => `${listWords(g.labels)} ${i === 0 ? 'started at ' : 'at '}${Math.round(g.value)} °C`);
  return [`${parts.join(', ')}: ${Math.round(spread)} °C apart`];
}

export function conditionWarnings(runs: readonly ComparedRun[]): string[] {
  const out: string[] = [];
  const add = (s: string | undefined): void => {
    if (s !== undefined) out.push(s);
  };
  const missing = runs.filter((r) => r.conditions === null).map((r) => r.label);
  if (missing.length > 0) out.push(`conditions were not recorded for ${listWords(missing)}`);

  add(differ(groupBy(runs, (c) => c.powerMode, (v) => v), (v, n) => `${was(n)} in ${v} mode`, (v) => `in ${v}`));
  add(
    differ(
      groupBy(runs, (c) => c.jetsonClocks, String),
      (v) => `ran with jetson_clocks ${v ? 'on' : 'off'}`,
      (v) => `with it ${v ? 'on' : 'off'}`,
    ),
  );
  add(differ(groupBy(runs, (c) => c.cpuGovernor, (v) => v), (v, n) => `${was(n)} on ${governorPhrase(v)}`, (v) => `on ${v}`));
  add(
    differ(
      groupBy(runs, (c): CpuLimits | undefined => (c.cpuMinMHz === undefined && c.cpuMaxMHz === undefined ? undefined : { min: c.cpuMinMHz, max: c.cpuMaxMHz }), cpuLimits),
      (v) => `had CPU clocks ${cpuLimits(v)}`,
      cpuLimits,
    ),
  );
  out.push(...driverWarnings(runs));
  out.push(...gpuWarnings(runs));
  add(differ(groupBy(runs, (c) => c.kernel, (v) => v), (v) => `ran kernel ${v}`, (v) => v));
  add(differ(groupBy(runs, (c) => c.agentVersion, (v) => v), (v, n) => `${was(n)} recorded by agent ${v}`, (v) => v));
  out.push(...throttleWarnings(runs));
  out.push(...startTempWarning(runs));
  return out;
}
