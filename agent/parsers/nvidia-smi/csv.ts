// The CSV that `--query-gpu` prints, one GPU per row. nvidia-smi joins cells with ", " and
// never quotes, so a cell is whatever lies between separators; the header (when printed) names
// each column, with its unit in brackets.
import { GpuMetricSet } from './gpu-metrics.js';
import type { GpuReading } from './samples.js';
import {
  canonicalGpuField,
  isKnownGpuField,
  KNOWN_APP_FIELDS,
  QUERY_GPU_METRIC_SOURCES,
  splitHeaderCell,
  type HeaderField,
} from './fields.js';
import { parseBytes, parseCsvTimestamp, parsePstate, parseQuantity, parseText, parseWholeInt } from './values.js';

export function splitCsvLine(line: string): string[] {
  const text = line.replace(/\r$/, '');
  return (text.includes(', ') ? text.split(', ') : text.split(',')).map((c) => c.trim());
}

const FIELD_NAME_CELL = /^[A-Za-z_][A-Za-z0-9_.]*(\s*\[[^\]]*\])?$/;

/** A header names fields; data cells are values. Needs one name the parsers know, so `P0, Default` is data. */
export function looksLikeHeader(cells: readonly string[], extraKnown: readonly string[] = []): boolean {
  if (cells.length === 0 || !cells.every((c) => FIELD_NAME_CELL.test(c))) return false;
  return cells.some((c) => {
    const name = splitHeaderCell(c).name.toLowerCase();
    return isKnownGpuField(c) || KNOWN_APP_FIELDS.includes(name) || extraKnown.includes(canonicalGpuField(name));
  });
}

export function columnsFromHeader(cells: readonly string[], canonical: (name: string) => string): HeaderField[] {
  return cells.map((cell) => {
    const { name, unit } = splitHeaderCell(cell);
    return unit === undefined ? { field: canonical(name) } : { field: canonical(name), unit };
  });
}

export function columnsFromFields(fields: readonly string[], canonical: (name: string) => string): HeaderField[] {
  return fields.map((f) => ({ field: canonical(f) }));
}

/**
 * Fits a row's cells to the columns. A row with extra cells had ", " inside a free-text value
 * (a process or GPU name): those cells are joined back into that column. Any other mismatch
 * means a truncated or foreign line, and the row is rejected.
 */
export function alignCells(columns: readonly HeaderField[], cells: readonly string[], freeText: string): string[] | null {
  if (cells.length === columns.length) return [...cells];
  const at = columns.findIndex((c) => c.field === freeText);
  if (cells.length < columns.length || at < 0) return null;
  const surplus = cells.length - columns.length;
  return [...cells.slice(0, at), cells.slice(at, at + surplus + 1).join(', '), ...cells.slice(at + surplus + 1)];
}

/** One GPU's row: the values it gave, keyed by catalog metric name once the GPU number is known. */
export interface GpuRow {
  /** The `index` column, if the query had one. */
  readonly index?: number;
  readonly t: number | null;
  readonly metrics: GpuMetricSet;
  readonly name?: string;
  readonly uuid?: string;
  readonly busId?: string;
  readonly driver?: string;
  readonly memTotalBytes?: number;
}

export function readGpuRow(columns: readonly HeaderField[], cells: readonly string[]): GpuRow {
  const metrics = new GpuMetricSet();
  let index: number | undefined;
  let t: number | null = null;
  let name: string | undefined;
  let uuid: string | undefined;
  let busId: string | undefined;
  let driver: string | undefined;
  columns.forEach((col, i) => {
    const raw = cells[i];
    switch (col.field) {
      case 'index':
        index = parseWholeInt(raw);
        return;
      case 'timestamp':
        t = parseCsvTimestamp(raw);
        return;
      case 'name':
        name = parseText(raw);
        return;
      case 'uuid':
        uuid = parseText(raw);
        return;
      case 'pci.bus_id':
        busId = parseText(raw);
        return;
      case 'driver_version':
        driver = parseText(raw);
        return;
    }
    const source = QUERY_GPU_METRIC_SOURCES[col.field];
    if (!source) return;
    const value =
      source.kind === 'bytes' ? parseBytes(raw, col.unit) : source.kind === 'pstate' ? parsePstate(raw) : parseQuantity(raw)?.value;
    metrics.set(source.metric, value, source.rank);
  });
  const memTotalBytes = metrics.get('mem.total');
  return {
    ...(index === undefined ? {} : { index }),
    t,
    metrics,
    ...(name === undefined ? {} : { name }),
    ...(uuid === undefined ? {} : { uuid }),
    ...(busId === undefined ? {} : { busId }),
    ...(driver === undefined ? {} : { driver }),
    ...(memTotalBytes === undefined ? {} : { memTotalBytes }),
  };
}

/**
 * GPU numbers for rows without an `index` column: a GPU keeps the number of its first
 * appearance (by UUID or bus id); with neither, rows are numbered in order within one timestamp.
 */
export class GpuNumbering {
  private readonly byIdentity = new Map<string, number>();
  private groupT: number | undefined;
  private inGroup = 0;
  private untimed = 0;

  indexFor(row: GpuRow): number {
    if (row.index !== undefined) return row.index;
    const identity = row.uuid ?? row.busId;
    if (identity !== undefined) {
      let n = this.byIdentity.get(identity);
      if (n === undefined) {
        n = this.byIdentity.size;
        this.byIdentity.set(identity, n);
      }
      return n;
    }
    // Without a timestamp there is no way to tell one query's rows from the next: one query of n GPUs.
    if (row.t === null) return this.untimed++;
    if (row.t !== this.groupT) {
      this.groupT = row.t;
      this.inGroup = 0;
    }
    return this.inGroup++;
  }
}

/** The row as a reading of GPU `index`. */
export function rowToReading(row: GpuRow, index: number): GpuReading {
  return {
    index,
    t: row.t,
    m: row.metrics.toRecord(index),
    ...(row.name === undefined ? {} : { name: row.name }),
    ...(row.uuid === undefined ? {} : { uuid: row.uuid }),
    ...(row.driver === undefined ? {} : { driver: row.driver }),
    ...(row.memTotalBytes === undefined ? {} : { memTotalBytes: row.memTotalBytes }),
  };
}
