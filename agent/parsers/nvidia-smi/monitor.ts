// `nvidia-smi dmon` (per-GPU) and `nvidia-smi pmon` (per-process): whitespace-aligned columns
// under two `#` lines, one naming the columns and one giving their units; `-` means no value.
// Which columns appear depends on `-s`, and `-o DT` adds Date and Time in front, so columns are
// always looked up by name. The header is repeated now and then in long runs.
import type { ParsedProcess } from '../types.js';
import { GpuMetricSet, type GpuMetric } from './gpu-metrics.js';
import type { GpuReading } from './samples.js';
import { MIB, parseCompactTimestamp, parseQuantity, parseWholeInt } from './values.js';

/** dmon column → catalog metric. `pclk` is the processor (graphics) clock. */
const DMON_METRICS: Readonly<Record<string, GpuMetric>> = {
  pwr: 'power',
  gtemp: 'temp',
  temp: 'temp',
  mtemp: 'temp.mem',
  sm: 'util',
  mem: 'mem.bus_util',
  enc: 'enc.util',
  dec: 'dec.util',
  mclk: 'clock.mem',
  pclk: 'clock.gr',
};

interface Header {
  readonly columns: string[];
}

/** `# gpu  pwr …` or `#Date  Time  gpu …` → lower-case column names; the units line is not a header. */
function readHeader(line: string): Header | null {
  const tokens = line.replace(/^#/, '').trim().split(/\s+/);
  const columns = tokens.map((t) => t.toLowerCase());
  return columns.includes('gpu') ? { columns } : null;
}

function tokens(line: string): string[] {
  return line.trim().split(/\s+/);
}

export function looksLikeDmon(text: string): boolean {
  return /^#\s*(Date\s+Time\s+)?gpu\s+(pwr|gtemp|temp|sm|fb|mclk|pclk|rxpci|pviol|sbecc)\b/im.test(text);
}

export function looksLikePmon(text: string): boolean {
  return /^#\s*(Date\s+Time\s+)?gpu\s+pid\s+type\b/im.test(text);
}

export interface DmonResult {
  readonly readings: GpuReading[];
  readonly warnings: string[];
}

export function parseDmon(text: string): DmonResult {
  const readings: GpuReading[] = [];
  const warnings: string[] = [];
  for (const { header, cells, lineNo, at } of monitorRows(text)) {
    if (cells.length !== header.columns.length) {
      if (warnings.length < 20) warnings.push(`line ${lineNo}: ${cells.length} columns where the header has ${header.columns.length}; line skipped`);
      continue;
    }
    const index = parseWholeInt(at('gpu'));
    if (index === undefined) continue;
    const metrics = new GpuMetricSet();
    header.columns.forEach((col, i) => {
      const metric = DMON_METRICS[col];
      if (metric) metrics.set(metric, parseQuantity(cells[i])?.value);
    });
    const fb = parseQuantity(at('fb'))?.value;
    if (fb !== undefined) metrics.set('mem.used', fb * MIB);
    readings.push({ index, t: parseCompactTimestamp(at('date'), at('time')), m: metrics.toRecord(index) });
  }
  return { readings, warnings };
}

export interface PmonResult {
  readonly processes: ParsedProcess[];
  readonly warnings: string[];
}

export function parsePmon(text: string): PmonResult {
  // pmon prints every process once per interval: keep the last row of each (GPU, pid).
  const processes = new Map<string, ParsedProcess>();
  const warnings: string[] = [];
  for (const { header, cells, lineNo, at } of monitorRows(text)) {
    const last = header.columns.length - 1;
    // The command name is the last column and may hold spaces (`NVIDIA Overlay.`).
    if (cells.length < last || header.columns[last] !== 'command') {
      if (warnings.length < 20) warnings.push(`line ${lineNo}: ${cells.length} columns where the header has ${header.columns.length}; line skipped`);
      continue;
    }
    const gpuIndex = parseWholeInt(at('gpu'));
    const pid = parseWholeInt(at('pid'));
    // A GPU with no processes gets a row of `-`.
    if (gpuIndex === undefined || pid === undefined) continue;
    const fb = parseQuantity(at('fb'))?.value;
    processes.set(`${gpuIndex}:${pid}`, {
      pid,
      name: cells.slice(last).join(' '),
      gpuIndex,
      ...(fb === undefined ? {} : { usedMemoryBytes: fb * MIB }),
    });
  }
  return { processes: [...processes.values()], warnings };
}

interface MonitorRow {
  readonly header: Header;
  readonly cells: readonly string[];
  /** 1-based, for warnings. */
  readonly lineNo: number;
  /** The cell under a header column, e.g. `at('gpu')`. */
  at(column: string): string | undefined;
}

/**
 * The data rows of dmon/pmon output. `#` lines carry the column header (printed again every
 * page of output, so the latest one applies); rows before any header are skipped.
 */
function* monitorRows(text: string): Generator<MonitorRow> {
  let header: Header | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (line.trimStart().startsWith('#')) {
      header = readHeader(line) ?? header;
      continue;
    }
    if (header === null) continue;
    const columns = header.columns;
    const cells = tokens(line);
    yield {
      header,
      cells,
      lineNo: i + 1,
      at: (column) => {
        const k = columns.indexOf(column);
        return k < 0 ? undefined : cells[k];
      },
    };
  }
}
