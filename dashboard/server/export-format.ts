// Text encodings of an exported history (GET /api/v1/devices/<id>/export): CSV (RFC 4180),
// NDJSON and one JSON document. Each is a generator of text pieces over the store's row
// generator, so the route can write them as they come and stop pulling when the client
// goes away; nothing here holds more than one row.
import type { StorageTier } from '../../shared/live.js';

export type ExportFormat = 'csv' | 'ndjson' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'ndjson', 'json'];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
  json: 'application/json',
};

/** A rollup cell as the store gives it: [mean, min, max, count]. */
export type RollupCell = readonly [mean: number, min: number, max: number, count: number];
export type RawRow = readonly [t: number, values: readonly (number | null)[]];
export type RollupRow = readonly [t: number, values: readonly (RollupCell | null)[]];

export interface ExportMeta {
  deviceId: string;
  from: number;
  to: number;
  tier: StorageTier;
  metrics: readonly string[];
}

/** Rows of one tier, tagged so the encoders know which cell shape they get. */
export type ExportRows = { tier: 'raw'; rows: Iterable<RawRow> } | { tier: '1m' | '1h'; rows: Iterable<RollupRow> };

const ROLLUP_FIELDS = ['mean', 'min', 'max', 'count'] as const;
// RFC 4180 ends records with CRLF; pandas, Python's csv module and spreadsheets all accept it.
const CRLF = '\r\n';

/** The whole export as text pieces: a header (if any), one piece per row, a trailer (if any). */
export function encodeExport(format: ExportFormat, meta: ExportMeta, data: ExportRows): Generator<string> {
  switch (format) {
    case 'csv':
      return csv(meta, data);
    case 'ndjson':
      return ndjson(meta, data);
    case 'json':
      return jsonDocument(meta, data);
  }
}

function* csv(meta: ExportMeta, data: ExportRows): Generator<string> {
  // Metric names are [a-z0-9_.] only (METRIC_NAME_RE): nothing in the header needs quoting,
  // and every other cell is a number or an ISO time, so no cell can start a spreadsheet formula.
  const columns = data.tier === 'raw' ? meta.metrics : meta.metrics.flatMap((m) => ROLLUP_FIELDS.map((f) => `${m}:${f}`));
  yield ['time', 't_ms', ...columns].join(',') + CRLF;
  if (data.tier === 'raw') {
    for (const [t, values] of data.rows) {
      let line = `${iso(t)},${t}`;
      for (const v of values) line += `,${csvNumber(v)}`;
      yield line + CRLF;
    }
  } else {
    for (const [t, values] of data.rows) {
      let line = `${iso(t)},${t}`;
      for (const c of values) line += c === null ? ',,,,' : `,${csvNumber(c[0])},${csvNumber(c[1])},${csvNumber(c[2])},${csvNumber(c[3])}`;
      yield line + CRLF;
    }
  }
}

function* ndjson(meta: ExportMeta, data: ExportRows): Generator<string> {
  for (const object of sampleObjects(meta, data)) yield object + '\n';
}

function* jsonDocument(meta: ExportMeta, data: ExportRows): Generator<string> {
  const head = { deviceId: meta.deviceId, from: meta.from, to: meta.to, tier: meta.tier, metrics: meta.metrics };
  // The head without its closing brace, so the samples array streams in after it.
  yield `${JSON.stringify(head).slice(0, -1)},"samples":[`;
  let separator = '\n';
  for (const object of sampleObjects(meta, data)) {
    yield separator + object;
    separator = ',\n';
  }
  yield '\n]}\n';
}

/** One `{"t","time","m"}` object per row, as JSON text; absent metrics are left out of m. */
function* sampleObjects(meta: ExportMeta, data: ExportRows): Generator<string> {
  const keys = meta.metrics.map((m) => JSON.stringify(m));
  if (data.tier === 'raw') {
    for (const [t, values] of data.rows) {
      let m = '';
      values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        m += `${m === '' ? '' : ','}${keys[i]}:${v}`;
      });
      yield `{"t":${t},"time":"${iso(t)}","m":{${m}}}`;
    }
  } else {
    for (const [t, values] of data.rows) {
      let m = '';
      values.forEach((c, i) => {
        if (c === null) return;
        const cell = `{"mean":${jsonNumber(c[0])},"min":${jsonNumber(c[1])},"max":${jsonNumber(c[2])},"count":${jsonNumber(c[3])}}`;
        m += `${m === '' ? '' : ','}${keys[i]}:${cell}`;
      });
      yield `{"t":${t},"time":"${iso(t)}","m":{${m}}}`;
    }
  }
}

/** ISO 8601 UTC with milliseconds, e.g. 2026-11-28T07:46:10.250Z. */
function iso(t: number): string {
  return new Date(t).toISOString();
}

// String(v) is the shortest text that reads back to the same double: lossless. A non-finite
// value cannot come from the protocol (zod rejects it); should one appear, it is left empty
// (CSV) or null (JSON) rather than written as text no parser accepts as a number.
function csvNumber(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '' : String(v);
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/**
 * The download's file name: `edgewatch-<device>-<from>-<to>.<format>`, times in ISO 8601 basic
 * form (no ':' — not allowed in Windows file names) and the device id cut down to
 * [A-Za-z0-9._-], so the name needs no quoting or escaping in Content-Disposition.
 */
export function exportFileName(deviceId: string, from: number, to: number, format: ExportFormat): string {
  const safeId = deviceId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'device';
  return `edgewatch-${safeId}-${basicIso(from)}-${basicIso(to)}.${format}`;
}

function basicIso(t: number): string {
  return iso(t).replace(/[-:]/g, '').replace(/\.000Z$/, 'Z');
}
