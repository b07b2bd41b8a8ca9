// `--query-compute-apps=… --format=csv`: one row per process with a compute context. The GPU is
// given by UUID (there is no index field); on Windows (WDDM) memory is `[N/A]`.
import type { ParsedProcess } from '../types.js';
import { alignCells, columnsFromHeader, splitCsvLine } from './csv.js';
import { canonicalAppField, type HeaderField } from './fields.js';
import { parseBytes, parseText, parseWholeInt } from './values.js';

export interface ComputeAppsResult {
  readonly processes: ParsedProcess[];
  readonly warnings: string[];
}

/** Expects the first non-blank line to be the header (`pid, process_name, used_gpu_memory [MiB]`). */
export function parseComputeAppsCsv(text: string): ComputeAppsResult {
  const processes: ParsedProcess[] = [];
  const warnings: string[] = [];
  let columns: HeaderField[] | null = null;
  text.split('\n').forEach((line, lineNo) => {
    if (line.trim() === '') return;
    const cells = splitCsvLine(line);
    if (columns === null) {
      columns = columnsFromHeader(cells, canonicalAppField);
      return;
    }
    // Process names are free text and may hold ", " (Windows paths, command lines).
    const aligned = alignCells(columns, cells, 'process_name');
    if (aligned === null) {
      if (warnings.length < 20) warnings.push(`line ${lineNo + 1}: ${cells.length} cells where the header has ${columns.length}; line skipped`);
      return;
    }
    const get = (field: string): { raw: string | undefined; unit: string | undefined } => {
      const i = columns!.findIndex((c) => c.field === field);
      return { raw: i < 0 ? undefined : aligned[i], unit: i < 0 ? undefined : columns![i]!.unit };
    };
    const pid = parseWholeInt(get('pid').raw);
    if (pid === undefined) {
      if (warnings.length < 20) warnings.push(`line ${lineNo + 1}: no pid in ${JSON.stringify(line.slice(0, 80))}; line skipped`);
      return;
    }
    const mem = get('used_gpu_memory');
    const usedMemoryBytes = parseBytes(mem.raw, mem.unit);
    const gpuUuid = parseText(get('gpu_uuid').raw);
    processes.push({
      pid,
      name: parseText(get('process_name').raw) ?? '',
      ...(gpuUuid === undefined ? {} : { gpuUuid }),
      ...(usedMemoryBytes === undefined ? {} : { usedMemoryBytes }),
    });
  });
  return { processes, warnings };
}
