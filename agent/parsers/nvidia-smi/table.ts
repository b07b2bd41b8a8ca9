// The default `nvidia-smi` table. Each GPU takes two rows of a three-column box:
//   |   0  NVIDIA H200                    On  |   00000000:00:06.0 Off |                    0 |
//   | N/A   32C    P0             77W /  700W |       0MiB / 143771MiB |      0%      Default |
// then come an optional "MIG devices" box (no catalog metric reads it) and the "Processes" box.
// The table is for people: names may be cut short (`NVIDIA GeForce RTX 2080 ...`), power is
// rounded to whole watts, and there are no clocks; prefer `--query-gpu` wherever possible.
import type { ParsedGpu, ParsedProcess } from '../types.js';
import { GpuMetricSet } from './gpu-metrics.js';
import { MIB, parseCtimeTimestamp, parsePstate, parseQuantity, parseWholeInt } from './values.js';
import type { GpuReading } from './samples.js';

export interface TableResult {
  readonly t: number | null;
  readonly readings: GpuReading[];
  readonly gpus: ParsedGpu[];
  readonly processes: ParsedProcess[];
  readonly version: Record<string, string>;
  readonly warnings: string[];
}

type Section = 'none' | 'gpus' | 'mig' | 'processes';

/** The cells between the box's outer bars. */
function boxCells(line: string): string[] | null {
  const s = line.trimEnd();
  if (!s.startsWith('|') || !s.endsWith('|') || s.length < 2) return null;
  return s.slice(1, -1).split('|');
}

function readVersions(line: string, version: Record<string, string>): void {
  const smi = /NVIDIA-SMI\s+(\S+)/.exec(line);
  if (smi) version.nvidiaSmi = smi[1]!;
  // Drivers from 610 say "KMD Version" and "CUDA UMD Version" instead.
  const driver = /(?:Driver|KMD) Version:\s*(\S+)/.exec(line);
  if (driver) version.driver = driver[1]!;
  const cuda = /CUDA (?:UMD )?Version:\s*(\S+)/.exec(line);
  if (cuda) version.cuda = cuda[1]!;
}

interface PendingGpu {
  index: number;
  name: string;
}

function readGpuFirstRow(cells: string[]): PendingGpu | null {
  const m = /^\s*(\d+)\s+(.*?)\s*$/.exec(cells[0] ?? '');
  if (!m) return null;
  // The name is followed by the persistence mode (On/Off) or, on Windows, the driver model.
  const name = m[2]!.replace(/\s{2,}(On|Off|WDDM|TCC|MCDM|N\/A)$/, '').trim();
  return { index: Number(m[1]), name };
}

function readGpuSecondRow(cells: string[], metrics: GpuMetricSet): number | undefined {
  const [left = '', mem = '', util = ''] = cells;
  const fan = /^\s*(\d+)%/.exec(left);
  if (fan) metrics.set('fan', Number(fan[1]));
  const temp = /(?:^|\s)(-?\d+)C(?=\s)/.exec(left);
  if (temp) metrics.set('temp', Number(temp[1]));
  const perf = /(?:^|\s)(P\d{1,2})(?=\s|$)/.exec(left);
  if (perf) metrics.set('pstate', parsePstate(perf[1]));
  const power = /(\S+)\s*\/\s*(\S+)\s*$/.exec(left);
  if (power) {
    metrics.set('power', parseQuantity(power[1]!)?.value);
    metrics.set('power.limit', parseQuantity(power[2]!)?.value);
  }
  let total: number | undefined;
  const memory = /(\d+)MiB\s*\/\s*(\d+)MiB/.exec(mem);
  if (memory) {
    metrics.set('mem.used', Number(memory[1]) * MIB);
    total = Number(memory[2]) * MIB;
    metrics.set('mem.total', total);
  }
  const busy = /^\s*(\d+)%/.exec(util);
  if (busy) metrics.set('util', Number(busy[1]));
  return total;
}

// `|    0    2    1            12249      C   /root/tools/memhog                     2194MiB |`
// GI and CI columns arrived with MIG (R450); older tables go straight from GPU to PID.
const PROCESS_ROW = /^\s*(\d+)\s+(?:(\S+)\s+(\S+)\s+)?(\d+)\s+([CGM](?:\+[CGM])*)\s+(.*?)\s+(\d+MiB|N\/A)\s*$/;

function readProcessRow(cell: string): ParsedProcess | null {
  const m = PROCESS_ROW.exec(cell);
  if (!m) return null;
  const pid = parseWholeInt(m[4]);
  if (pid === undefined) return null;
  const mem = /^(\d+)MiB$/.exec(m[7]!);
  return {
    pid,
    name: m[6]!.trim(),
    gpuIndex: Number(m[1]),
    ...(mem ? { usedMemoryBytes: Number(mem[1]) * MIB } : {}),
  };
}

export function looksLikeTable(text: string): boolean {
  return /^\|\s*NVIDIA-SMI\s+\S+/m.test(text) || (/^\|\s*GPU\s+Name\b/m.test(text) && /Memory-Usage/.test(text));
}

export function parseTable(text: string): TableResult {
  const lines = text.split('\n');
  const version: Record<string, string> = {};
  const readings: GpuReading[] = [];
  const gpus: ParsedGpu[] = [];
  const processes: ParsedProcess[] = [];
  const warnings: string[] = [];
  const firstLine = lines.find((l) => l.trim() !== '');
  const t = parseCtimeTimestamp(firstLine);

  let section: Section = 'none';
  let pending: PendingGpu | null = null;
  for (const line of lines) {
    if (/NVIDIA-SMI\s+\d/.test(line)) readVersions(line, version);
    if (/\bGPU\s+Name\b/.test(line)) section = 'gpus';
    else if (/MIG devices:/.test(line)) section = 'mig';
    else if (/Processes:/.test(line)) section = 'processes';
    const cells = boxCells(line);
    if (cells === null) continue;

    if (section === 'gpus') {
      if (cells.length !== 3) continue;
      const first = readGpuFirstRow(cells);
      if (first) {
        pending = first;
        continue;
      }
      if (pending === null) continue;
      const metrics = new GpuMetricSet();
      const total = readGpuSecondRow(cells, metrics);
      const gpu = pending;
      pending = null;
      if (gpu.name.endsWith('...')) warnings.push(`GPU ${gpu.index}: the table cuts the name short (${JSON.stringify(gpu.name)}); -L or --query-gpu=name gives it whole`);
      gpus.push({
        index: gpu.index,
        name: gpu.name,
        ...(total === undefined ? {} : { memTotalBytes: total }),
        ...(version.driver === undefined ? {} : { driver: version.driver }),
      });
      readings.push({ index: gpu.index, t, m: metrics.toRecord(gpu.index) });
    } else if (section === 'processes' && cells.length === 1) {
      const p = readProcessRow(cells[0]!);
      if (p) processes.push(p);
    }
  }
  return { t, readings, gpus, processes, version, warnings };
}
