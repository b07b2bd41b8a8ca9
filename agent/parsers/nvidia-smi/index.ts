// `parseNvidiaSmi`: any nvidia-smi output in, catalog metrics out. The format is recognised from
// the text itself, so `edgewatch parse nvidia-smi` needs no flag saying which command made it.
import type { ParsedGpu, ParsedProcess, ParsedSample, ParsedToolOutput } from '../types.js';
import { splitCsvLine, looksLikeHeader } from './csv.js';
import { parseComputeAppsCsv } from './compute-apps.js';
import { inferColumns, parseQueryGpuCsv } from './query-gpu.js';
import { looksLikeDmon, looksLikePmon, parseDmon, parsePmon } from './monitor.js';
import { looksLikeList, parseList } from './list.js';
import { looksLikeQueryText, parseQueryText } from './query-text.js';
import { looksLikeQueryXml, parseQueryXml } from './query-xml.js';
import { groupSamples } from './samples.js';
import { looksLikeTable, parseTable } from './table.js';
import { looksLikeVersion, parseVersion } from './version.js';

export { QueryGpuStreamReader } from './stream-reader.js';
export { parseQueryGpuCsv } from './query-gpu.js';
export type { GpuReading } from './samples.js';

export type NvidiaSmiOutput = ParsedToolOutput<'nvidia-smi'>;

export type NvidiaSmiFormat =
  | 'query-gpu-csv'
  | 'query-gpu-csv-noheader'
  | 'query-compute-apps-csv'
  | 'table'
  | 'query-text'
  | 'query-xml'
  | 'dmon'
  | 'pmon'
  | 'list'
  | 'version';

export interface ParseNvidiaSmiOptions {
  /**
   * The `--query-gpu` fields, in order, for CSV printed with `noheader`: without them only the
   * columns whose values name themselves (timestamp, uuid, name, bus id, pstate) can be read.
   */
  readonly fields?: readonly string[];
}

const EXPECTED =
  'expected nvidia-smi output: --query-gpu or --query-compute-apps CSV, the default table, -q, -q -x (XML), dmon, pmon, -L or --version';

/** Thrown for text that is not nvidia-smi output; the message says what was expected. */
export class NotNvidiaSmiOutputError extends Error {
  constructor(detail: string) {
    super(`not nvidia-smi output: ${detail}; ${EXPECTED}`);
    this.name = 'NotNvidiaSmiOutputError';
  }
}

interface Parts {
  samples?: ParsedSample[];
  gpus?: ParsedGpu[];
  processes?: ParsedProcess[];
  version?: Record<string, string>;
  warnings?: string[];
}

function output(format: NvidiaSmiFormat, parts: Parts): NvidiaSmiOutput {
  return {
    tool: 'nvidia-smi',
    format,
    samples: parts.samples ?? [],
    ...(parts.gpus && parts.gpus.length > 0 ? { gpus: parts.gpus } : {}),
    ...(parts.processes ? { processes: parts.processes } : {}),
    ...(parts.version && Object.keys(parts.version).length > 0 ? { version: parts.version } : {}),
    warnings: parts.warnings ?? [],
  };
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? '';
}

function describe(text: string): string {
  const line = firstLine(text).trim();
  return `the text starts with ${JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line)}`;
}

function parseCsv(text: string, options: ParseNvidiaSmiOptions): NvidiaSmiOutput {
  const cells = splitCsvLine(firstLine(text));
  // Fields only --query-compute-apps has (its gpu_name and gpu_uuid are --query-gpu aliases too).
  if (looksLikeHeader(cells) && cells.some((c) => /^(pid|process_name|used_gpu_memory|used_memory)(\s*\[|$)/i.test(c.trim()))) {
    const apps = parseComputeAppsCsv(text);
    return output('query-compute-apps-csv', { processes: apps.processes, warnings: apps.warnings });
  }
  const hasHeader = looksLikeHeader(cells);
  // Data without a header must at least show one self-describing cell to be taken for nvidia-smi CSV.
  if (!hasHeader && !options.fields && !(cells.length >= 2 && inferColumns(cells).some((c) => c.field !== '' && c.field !== 'name'))) {
    throw new NotNvidiaSmiOutputError(describe(text));
  }
  const result = parseQueryGpuCsv(text, options.fields);
  if (result.samples.length === 0 && result.gpus.length === 0) {
    throw new NotNvidiaSmiOutputError(`no GPU rows could be read as CSV (${describe(text)})`);
  }
  return output(result.hadHeader ? 'query-gpu-csv' : 'query-gpu-csv-noheader', {
    samples: result.samples,
    gpus: result.gpus,
    warnings: result.warnings,
  });
}

/**
 * Parses any nvidia-smi output. Never throws for malformed or truncated output of a known format
 * (what cannot be read is left out and noted in `warnings`); throws NotNvidiaSmiOutputError for
 * text that is not nvidia-smi output at all, including the `--help-query-*` field lists.
 */
export function parseNvidiaSmi(input: string, options: ParseNvidiaSmiOptions = {}): NvidiaSmiOutput {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (text.trim() === '') throw new NotNvidiaSmiOutputError('the input is empty');
  if (/^List of valid properties to query for the switch/m.test(text)) {
    throw new NotNvidiaSmiOutputError(
      'this is the --help-query-gpu / --help-query-compute-apps list of fields, not a measurement; run e.g. nvidia-smi --query-gpu=index,utilization.gpu --format=csv',
    );
  }
  if (looksLikeQueryXml(text)) {
    const r = parseQueryXml(text);
    return output('query-xml', { samples: groupSamples(r.readings), gpus: r.gpus, processes: r.processes, version: r.version });
  }
  if (looksLikeQueryText(text)) {
    const r = parseQueryText(text);
    return output('query-text', { samples: groupSamples(r.readings), gpus: r.gpus, processes: r.processes, version: r.version });
  }
  if (looksLikeTable(text)) {
    const r = parseTable(text);
    return output('table', { samples: groupSamples(r.readings), gpus: r.gpus, processes: r.processes, version: r.version, warnings: r.warnings });
  }
  if (looksLikeVersion(text)) return output('version', { version: parseVersion(text) });
  if (looksLikePmon(text)) {
    const r = parsePmon(text);
    return output('pmon', { processes: r.processes, warnings: r.warnings });
  }
  if (looksLikeDmon(text)) {
    const r = parseDmon(text);
    return output('dmon', { samples: groupSamples(r.readings), warnings: r.warnings });
  }
  if (looksLikeList(text)) return output('list', { gpus: parseList(text) });
  return parseCsv(text, options);
}
