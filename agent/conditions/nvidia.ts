// NVIDIA GPU settings at the start of a run: one `--query-gpu` call for what can be set per GPU
// (application clocks, power limit, persistence mode) and where it stands (clocks, P-state),
// and the CUDA version the driver supports, which `--query-gpu` has no field for: it comes
// from `nvidia-smi --version` or, on drivers without that option, the table's header line.
import type { GpuConditions } from '../../shared/conditions.js';
import { alignCells, splitCsvLine } from '../parsers/nvidia-smi/csv.js';
import type { HeaderField } from '../parsers/nvidia-smi/fields.js';
import { parseTable } from '../parsers/nvidia-smi/table.js';
import { parsePstate, parseQuantity, parseText, parseWholeInt } from '../parsers/nvidia-smi/values.js';
import { parseVersion } from '../parsers/nvidia-smi/version.js';
import { runTool, type ConditionsSink } from './tool.js';

export const CONDITIONS_QUERY_FIELDS = [
  'index',
  'name',
  'driver_version',
  'clocks.sm',
  'clocks.mem',
  'clocks.applications.graphics',
  'clocks.applications.memory',
  'power.limit',
  'persistence_mode',
  'pstate',
] as const;

type QueryField = (typeof CONDITIONS_QUERY_FIELDS)[number];

export interface ParsedConditionsQuery {
  readonly gpus: GpuConditions[];
  /** driver_version of the first GPU that gave one (a machine has one driver). */
  readonly driver?: string;
}

function nonNegative(raw: string | undefined): number | undefined {
  const v = parseQuantity(raw)?.value;
  return v !== undefined && v >= 0 ? v : undefined;
}

/** `Enabled` / `Disabled`; `[N/A]` (Windows, some containers) and anything else are unknown. */
function parsePersistence(raw: string | undefined): boolean | undefined {
  const s = raw?.trim().toLowerCase();
  return s === 'enabled' ? true : s === 'disabled' ? false : undefined;
}

/**
 * `--query-gpu=<fields> --format=csv,noheader,nounits` rows, `fields` in the order asked.
 * Placeholders (`[N/A]`, `[Not Supported]`, `[Requested functionality has been deprecated]`,
 * which drivers from 5xx print for the application clocks) leave the value out; a row without
 * a GPU index is skipped.
 */
export function parseConditionsQuery(text: string, fields: readonly string[] = CONDITIONS_QUERY_FIELDS): ParsedConditionsQuery {
  const columns: HeaderField[] = fields.map((field) => ({ field }));
  const gpus: GpuConditions[] = [];
  let driver: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const cells = alignCells(columns, splitCsvLine(line), 'name');
    if (cells === null) continue;
    const raw = (f: QueryField): string | undefined => {
      const at = fields.indexOf(f);
      return at < 0 ? undefined : cells[at];
    };
    const index = parseWholeInt(raw('index'));
    if (index === undefined) continue;
    const gpu: GpuConditions = { index };
    const name = parseText(raw('name'));
    if (name !== undefined) gpu.name = name.slice(0, 256);
    const numbers: [keyof GpuConditions, QueryField][] = [
      ['smClockMHz', 'clocks.sm'],
      ['memClockMHz', 'clocks.mem'],
      ['appSmClockMHz', 'clocks.applications.graphics'],
      ['appMemClockMHz', 'clocks.applications.memory'],
      ['powerLimitW', 'power.limit'],
    ];
    for (const [key, field] of numbers) {
      const v = nonNegative(raw(field));
      if (v !== undefined) (gpu as Record<string, unknown>)[key] = v;
    }
    const persistence = parsePersistence(raw('persistence_mode'));
    if (persistence !== undefined) gpu.persistenceMode = persistence;
    const pstate = parsePstate(raw('pstate'));
    if (pstate !== undefined) gpu.pstate = pstate;
    driver ??= parseText(raw('driver_version'));
    if (gpus.length < 64) gpus.push(gpu);
  }
  return { gpus: gpus.sort((a, b) => a.index - b.index), ...(driver === undefined ? {} : { driver: driver.slice(0, 256) }) };
}

/** `Field "clocks.applications.graphics" is not a valid field to query.` → that field. */
function rejectedField(output: string): string | undefined {
  return /Field "([^"]+)" is not a valid field to query/i.exec(output)?.[1];
}

/**
 * Runs the query, leaving out a field the driver rejects (nvidia-smi refuses the whole query
 * for one field it does not know; a future driver may drop the deprecated application clocks).
 */
async function queryGpus(executable: string, signal: AbortSignal): Promise<ParsedConditionsQuery> {
  let fields: string[] = [...CONDITIONS_QUERY_FIELDS];
  for (let attempt = 0; ; attempt++) {
    let output: string;
    let failed = false;
    try {
      output = await runTool(executable, [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'], signal);
    } catch (err) {
      output = `${(err as { stdout?: string }).stdout ?? ''}\n${(err as Error).message}`;
      failed = true;
    }
    const rejected = rejectedField(output);
    if (rejected !== undefined && attempt < 3 && fields.includes(rejected) && rejected !== 'index') {
      fields = fields.filter((f) => f !== rejected);
      continue;
    }
    if (failed) throw new Error(output.trim().split('\n').pop() ?? 'nvidia-smi --query-gpu failed');
    return parseConditionsQuery(output, fields);
  }
}

/** The CUDA version (and the driver, as the header names it) from `--version`, else from the table. */
async function queryVersions(executable: string, signal: AbortSignal): Promise<{ cuda?: string; driver?: string }> {
  try {
    const v = parseVersion(await runTool(executable, ['--version'], signal));
    if (v.cuda !== undefined) return { cuda: v.cuda, ...(v.driver === undefined ? {} : { driver: v.driver }) };
  } catch {
    // A driver without --version, or one that fails it: the table's header line has the same.
  }
  const { version } = parseTable(await runTool(executable, [], signal));
  return { ...(version.cuda === undefined ? {} : { cuda: version.cuda }), ...(version.driver === undefined ? {} : { driver: version.driver }) };
}

/**
 * What nvidia-smi says, put into `sink` as each answer arrives (a version answer that beats the
 * deadline is kept when the query does not); fields it could not give stay absent.
 */
export async function readNvidiaConditions(executable: string, signal: AbortSignal, sink: ConditionsSink): Promise<void> {
  await Promise.all([
    queryGpus(executable, signal).then(
      (q) => {
        if (q.gpus.length > 0) sink.set({ gpus: q.gpus });
        if (q.driver !== undefined) sink.set({ gpuDriver: q.driver });
      },
      (err) => sink.failed('nvidia-smi --query-gpu', err),
    ),
    queryVersions(executable, signal).then(
      (v) => {
        if (v.cuda !== undefined) sink.set({ cudaVersion: v.cuda.slice(0, 256) });
        // The query's driver_version wins; this one only stands in when the query failed.
        if (v.driver !== undefined) sink.fill({ gpuDriver: v.driver.slice(0, 256) });
      },
      (err) => sink.failed('nvidia-smi version', err),
    ),
  ]);
}
