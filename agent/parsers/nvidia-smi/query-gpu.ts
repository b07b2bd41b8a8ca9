// `--query-gpu=… --format=csv[,noheader][,nounits]` as a whole text: one query or a `-l`/`-lms`
// capture, one or several GPUs.
import type { ParsedGpu, ParsedSample } from '../types.js';
import { alignCells, columnsFromFields, columnsFromHeader, GpuNumbering, looksLikeHeader, readGpuRow, rowToReading, splitCsvLine } from './csv.js';
import { canonicalGpuField, type HeaderField } from './fields.js';
import { gpusFromReadings, groupSamples, type GpuReading } from './samples.js';
import { parseCsvTimestamp, parsePstate } from './values.js';

export interface QueryGpuResult {
  readonly samples: ParsedSample[];
  readonly gpus: ParsedGpu[];
  readonly warnings: string[];
  readonly hadHeader: boolean;
}

const MAX_WARNINGS = 20;

/**
 * Without a header and without the requested field list, only cells whose shape names them can
 * be placed: a timestamp, a GPU UUID, a PCI bus id, a P-state, a multi-word product name. A bare
 * number could be any field, so it is left out rather than guessed.
 */
export function inferColumns(cells: readonly string[]): HeaderField[] {
  let nameTaken = false;
  return cells.map((cell) => {
    if (parseCsvTimestamp(cell) !== null) return { field: 'timestamp' };
    if (/^(GPU|MIG)-[0-9a-f-]+$/i.test(cell)) return { field: 'uuid' };
    if (/^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$/i.test(cell)) return { field: 'pci.bus_id' };
    if (parsePstate(cell) !== undefined) return { field: 'pstate' };
    if (!nameTaken && /^[A-Za-z][\w-]*( [\w-]+)+$/.test(cell)) {
      nameTaken = true;
      return { field: 'name' };
    }
    return { field: '' };
  });
}

export function parseQueryGpuCsv(text: string, fields?: readonly string[]): QueryGpuResult {
  const warnings: string[] = [];
  const warn = (msg: string): void => {
    if (warnings.length < MAX_WARNINGS) warnings.push(msg);
  };
  let columns: HeaderField[] | null = fields ? columnsFromFields(fields, canonicalGpuField) : null;
  let hadHeader = false;
  const numbering = new GpuNumbering();
  const readings: GpuReading[] = [];

  text.split('\n').forEach((line, lineNo) => {
    if (line.trim() === '') return;
    const cells = splitCsvLine(line);
    if (looksLikeHeader(cells)) {
      columns = columnsFromHeader(cells, canonicalGpuField);
      hadHeader = true;
      return;
    }
    if (columns === null) {
      columns = inferColumns(cells);
      warn(
        `line ${lineNo + 1}: no CSV header and no field list, so only the timestamp, uuid, name, pci.bus_id and pstate columns were recognised; ` +
          'query with a header (--format=csv) to read the numbers',
      );
    }
    const aligned = alignCells(columns, cells, 'name');
    if (aligned === null) {
      warn(`line ${lineNo + 1}: ${cells.length} cells where the header has ${columns.length}; line skipped: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const row = readGpuRow(columns, aligned);
    readings.push(rowToReading(row, numbering.indexFor(row)));
  });

  return { samples: groupSamples(readings), gpus: gpusFromReadings(readings), warnings, hadHeader };
}
