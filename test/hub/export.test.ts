// History export (GET /api/v1/devices/<id>/export) through a real hub on 127.0.0.1 with its
// SQLite file in a temp dir. History is written with store.commitBatches, part of it sealed
// into compressed chunks (store.sealAll) and part left in raw_head, and every export is
// parsed and compared with the values written. Also: a 200k-row export with the hub's memory
// measured, a paused and an aborted client, a store failure mid-stream, and the README's
// pandas snippet run for real (python3 + pandas; skipped without pandas unless
// EDGEWATCH_REQUIRE_PANDAS=1).
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credentials } from '../../dashboard/server/auth/credentials.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { Store } from '../../dashboard/store/store.js';
import { silentLogger } from '../../shared/log.js';
import type { Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually, REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The store seals raw samples per device in windows of this length (dashboard/store/tiers/layout.ts). */
const WINDOW = 15 * MINUTE;

type Cell = [mean: number, min: number, max: number, count: number];
type RawRow = [t: number, values: (number | null)[]];
type RollupRow = [t: number, values: (Cell | null)[]];

// ---------------------------------------------------------------- data written and expected

/** Doubles whose text form is easy to get wrong: they take the store's lossless float path. */
const AWKWARD = [0.1 + 0.2, 1e-7, 123456789.12345679, -42.5, 1 / 3, 2 ** -1074, 1e21, 2 ** 53 - 1, 98.6];

/** Sample i of a test device: three metrics, temp.cpu on every third sample only. */
function sampleAt(t: number, i: number, awkward: boolean): Sample {
  const m: Record<string, number> = {
    'cpu.util': awkward ? AWKWARD[i % AWKWARD.length]! : Math.round((i * 7.3) % 100 * 100) / 100,
    'mem.used': 1_000_000_000 + i * 4096,
  };
  if (i % 3 === 0) m['temp.cpu'] = 40 + (i % 17) * 0.125;
  return { t, m };
}

function commit(store: Store, deviceNum: number, samples: Sample[], seq: { n: number }, perBatch = 50): void {
  for (let i = 0; i < samples.length; i += perBatch) {
    store.commitBatches([{ deviceNum, seq: ++seq.n, receivedAt: Date.now(), samples: samples.slice(i, i + perBatch) }]);
  }
}

/** Raw rows the export should give: from ≤ t < to, one per sample that has any of the metrics. */
function expectedRaw(samples: readonly Sample[], metrics: readonly string[], from: number, to: number): RawRow[] {
  return samples
    .filter((s) => s.t >= from && s.t < to)
    .map((s): RawRow => [s.t, metrics.map((m) => s.m[m] ?? null)])
    .filter(([, values]) => values.some((v) => v !== null));
}

/** Rollup rows: buckets of `res` ms starting in [from, to), per metric mean/min/max/count. */
function expectedRollup(samples: readonly Sample[], metrics: readonly string[], from: number, to: number, res: number): RollupRow[] {
  const buckets = new Map<number, (Cell | null)[]>();
  for (const s of samples) {
    const b = Math.floor(s.t / res) * res;
    if (b < from || b >= to) continue;
    metrics.forEach((m, j) => {
      const v = s.m[m];
      if (v === undefined) return;
      let row = buckets.get(b);
      if (!row) buckets.set(b, (row = metrics.map(() => null)));
      const c = row[j];
      // The sum rides in the mean slot until the end.
      if (!c) row[j] = [v, v, v, 1];
      else row[j] = [c[0] + v, Math.min(c[1], v), Math.max(c[2], v), c[3] + 1];
    });
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, cells]): RollupRow => [t, cells.map((c) => (c ? [c[0] / c[3], c[1], c[2], c[3]] : null))]);
}

/**
 * Rollup rows equal: min, max and count exactly. The mean to what the store keeps of a sum:
 * rounded to 6 decimals (rollup-codec.ts; agents send no finer values), added in its own order.
 */
function expectRollupsEqual(actual: RollupRow[], expected: RollupRow[]): void {
  expect(actual.map(([t]) => t)).toEqual(expected.map(([t]) => t));
  actual.forEach(([t, cells], i) => {
    cells.forEach((c, j) => {
      const e = expected[i]![1][j]!;
      if (e === null) return expect(c, `${new Date(t).toISOString()} metric ${j}`).toBeNull();
      expect(c, `${new Date(t).toISOString()} metric ${j}`).not.toBeNull();
      expect([c![1], c![2], c![3]]).toEqual([e[1], e[2], e[3]]);
      expect(Math.abs(c![0] - e[0])).toBeLessThanOrEqual(0.5e-6 / e[3] + 1e-12 * Math.max(1, Math.abs(e[0])));
    });
  });
}

// ---------------------------------------------------------------- parsing what comes back

/** RFC 4180: CRLF-terminated records, fields optionally double-quoted with "" for a quote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"' && field === '') {
      const close = (): number => {
        for (let k = i + 1; k < n; k++) {
          if (text[k] !== '"') continue;
          if (text[k + 1] === '"') k++;
          else return k;
        }
        throw new Error(`CSV: unterminated quoted field at offset ${i}`);
      };
      const end = close();
      field = text.slice(i + 1, end).replace(/""/g, '"');
      i = end + 1;
    } else if (ch === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (ch === '\n' || ch === '\r') {
      throw new Error(`CSV: bare ${JSON.stringify(ch)} at offset ${i} (records end with CRLF)`);
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || record.length > 0) throw new Error('CSV: the last record does not end with CRLF');
  return records;
}

/** A CSV number cell back to a number, insisting the text is exactly what String(v) prints. */
function csvNumber(cell: string): number | null {
  if (cell === '') return null;
  const v = Number(cell);
  expect(String(v), `cell ${JSON.stringify(cell)}`).toBe(cell);
  return v;
}

/** Raw CSV → header and rows, checking that time and t_ms agree. */
function rawRowsFromCsv(text: string): { header: string[]; rows: RawRow[] } {
  const [header, ...records] = parseCsv(text);
  const rows = records.map((r): RawRow => {
    expect(r).toHaveLength(header!.length);
    const t = Number(r[1]);
    expect(r[0]).toBe(new Date(t).toISOString());
    return [t, r.slice(2).map(csvNumber)];
  });
  return { header: header!, rows };
}

function rollupRowsFromCsv(text: string): { header: string[]; rows: RollupRow[] } {
  const [header, ...records] = parseCsv(text);
  const rows = records.map((r): RollupRow => {
    expect(r).toHaveLength(header!.length);
    const t = Number(r[1]);
    expect(r[0]).toBe(new Date(t).toISOString());
    const cells: (Cell | null)[] = [];
    for (let k = 2; k < r.length; k += 4) {
      const four = r.slice(k, k + 4).map(csvNumber);
      // A metric is absent from a bucket as a whole: all four cells empty, or none.
      expect(four.every((x) => x === null) || four.every((x) => x !== null)).toBe(true);
      cells.push(four[0] === null ? null : (four as Cell));
    }
    return [t, cells];
  });
  return { header: header!, rows };
}

interface SampleObject {
  t: number;
  time: string;
  m: Record<string, number | { mean: number; min: number; max: number; count: number }>;
}

function rawRowsFromObjects(objects: SampleObject[], metrics: readonly string[]): RawRow[] {
  return objects.map((o): RawRow => {
    expect(o.time).toBe(new Date(o.t).toISOString());
    expect(Object.keys(o.m).every((k) => metrics.includes(k))).toBe(true);
    return [o.t, metrics.map((m) => (o.m[m] === undefined ? null : (o.m[m] as number)))];
  });
}

function rollupRowsFromObjects(objects: SampleObject[], metrics: readonly string[]): RollupRow[] {
  return objects.map((o): RollupRow => {
    expect(o.time).toBe(new Date(o.t).toISOString());
    return [
      o.t,
      metrics.map((m) => {
        const c = o.m[m];
        if (c === undefined) return null;
        if (typeof c === 'number') throw new Error(`rollup cell of ${m} is a bare number`);
        expect(Object.keys(c)).toEqual(['mean', 'min', 'max', 'count']);
        return [c.mean, c.min, c.max, c.count];
      }),
    ];
  });
}

function parseNdjson(text: string): SampleObject[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text === '' ? [] : text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as SampleObject);
}

interface Got {
  status: number;
  headers: Headers;
  text: string;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The error message of a JSON error answer. */
function errorOf(got: Got): string {
  expect(got.headers.get('content-type')).toMatch(/^application\/json/);
  return (JSON.parse(got.text) as { error: string }).error;
}

// ---------------------------------------------------------------- exact exports

describe('history export: exact CSV, NDJSON and JSON', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  /** edge-x: raw tests. Sealed windows W0 and W1 (up to 24m50s), then in raw_head the rest of W1 and the start of W2. */
  const X: Sample[] = [];
  /** edge-r: rollup tests; 2 h 10 min of samples every 20 s, all sealed. */
  const R: Sample[] = [];
  /** recent: samples over the last hour, for the default range. */
  const RECENT: Sample[] = [];
  let xT0 = 0;
  let rT0 = 0;
  const METRICS = ['cpu.util', 'mem.used', 'temp.cpu'];

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    base = `${hub.url}/api/v1/devices`;
    const now = Date.now();
    const store = hub.store;

    // edge-x lies two windows in the future: the hub's maintenance seals a window only once
    // the hub clock is 5 min past its end or the device has samples 60 s past it, so what is
    // left in raw_head below stays there for the whole test.
    xT0 = Math.floor(now / WINDOW) * WINDOW + 2 * WINDOW;
    for (let i = 0; i < 186; i++) X.push(sampleAt(xT0 + i * 10 * SECOND, i, i < 90));
    const x = store.upsertDevice(helloFrame('edge-x'), now);
    const xSeq = { n: 0 };
    commit(store, x.num, X.slice(0, 150), xSeq);

    rT0 = Math.floor((now - 2 * DAY) / HOUR) * HOUR;
    for (let i = 0; i < 390; i++) R.push(sampleAt(rT0 + i * 20 * SECOND, i, i % 5 === 0));
    const r = store.upsertDevice(helloFrame('edge-r'), now);
    commit(store, r.num, R, { n: 0 });

    for (let i = 0; i < 60; i++) RECENT.push(sampleAt(now - HOUR + i * MINUTE, i, false));
    const recent = store.upsertDevice(helloFrame('recent'), now);
    commit(store, recent.num, RECENT, { n: 0 });

    expect(store.sealAll()).toBeGreaterThan(0);
    // The rest of edge-x: the end of W1 (whose sealed chunk it joins on read) and the start of W2.
    commit(store, x.num, X.slice(150), xSeq);
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  const xUrl = (query: string): string => `${base}/edge-x/export?${query}`;
  const xEnd = (): number => X[X.length - 1]!.t + 1;

  it('CSV: header, one row per sample time, every value exactly as written, empty where absent; sealed and unsealed alike', async () => {
    const got = await get(xUrl(`format=csv&from=${xT0}&to=${xEnd()}`));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const fromIso = new Date(xT0).toISOString().replace(/[-:]/g, '').replace('.000Z', 'Z');
    const toIso = new Date(xEnd()).toISOString().replace(/[-:]/g, '');
    expect(got.headers.get('content-disposition')).toBe(`attachment; filename="edgewatch-edge-x-${fromIso}-${toIso}.csv"`);
    // All of the device's metrics by default, in the store's order.
    const deviceMetrics = hub.store.metricNames(hub.store.getDevice('edge-x')!.num);
    expect([...deviceMetrics].sort()).toEqual([...METRICS].sort());
    const { header, rows } = rawRowsFromCsv(got.text);
    expect(header).toEqual(['time', 't_ms', ...deviceMetrics]);
    expect(rows).toEqual(expectedRaw(X, deviceMetrics, xT0, xEnd()));
    expect(rows).toHaveLength(186);
    // The awkward doubles made it through as the same doubles (toEqual above uses Object.is per value).
    expect(got.text).toContain(',0.30000000000000004,');
    expect(got.text).toContain(',5e-324,');
    expect(got.text).toContain(',1e+21,');
    // HEAD: the same headers, no body, nothing read.
    const head = await fetch(xUrl(`format=csv&from=${xT0}&to=${xEnd()}`), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-disposition')).toBe(got.headers.get('content-disposition'));
    expect(await head.text()).toBe('');
  });

  it('metrics: a subset in the order asked, duplicates once, a metric the device lacks as an empty column', async () => {
    const asked = ['temp.cpu', 'cpu.util', 'gpu.0.util'];
    const got = await get(xUrl(`format=csv&from=${xT0}&to=${xEnd()}&metrics=temp.cpu,cpu.util,temp.cpu,gpu.0.util`));
    expect(got.status).toBe(200);
    const { header, rows } = rawRowsFromCsv(got.text);
    expect(header).toEqual(['time', 't_ms', ...asked]);
    expect(rows).toEqual(expectedRaw(X, asked, xT0, xEnd()));
    // Only temp.cpu: samples without it are no rows at all.
    const only = rawRowsFromCsv((await get(xUrl(`format=csv&from=${xT0}&to=${xEnd()}&metrics=temp.cpu`))).text);
    expect(only.rows).toEqual(expectedRaw(X, ['temp.cpu'], xT0, xEnd()));
    expect(only.rows).toHaveLength(62);
  });

  it('from is inclusive and to exclusive, in sealed chunks, in raw_head and across the seam between them', async () => {
    const t = (i: number): number => X[i]!.t;
    const cases: [from: number, to: number, first: number, count: number][] = [
      [t(10), t(20), 10, 10],
      [t(10) + 1, t(20) + 1, 11, 10],
      [t(145), t(155), 145, 10], // 0–149 sealed, 150– in raw_head, same window
      [t(175), t(185), 175, 10], // raw_head only, across the W1/W2 boundary
      [t(0) - HOUR, t(0), 0, 0],
      [t(3), t(3) + 1, 3, 1],
    ];
    for (const [from, to, first, count] of cases) {
      const { rows } = rawRowsFromCsv((await get(xUrl(`format=csv&from=${from}&to=${to}`))).text);
      expect(rows.map(([rt]) => rt), `from=${from} to=${to}`).toEqual(X.slice(first, first + count).map((s) => s.t));
    }
  });

  it('NDJSON: one object per line, absent metrics left out, round-trips to the values written', async () => {
    const got = await get(xUrl(`format=ndjson&from=${xT0}&to=${xEnd()}&metrics=cpu.util,mem.used,temp.cpu`));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/x-ndjson');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="edgewatch-edge-x-\d{8}T\d{6}Z-\d{8}T\d{6}\.\d{3}Z\.ndjson"$/);
    const objects = parseNdjson(got.text);
    expect(objects[0]).toEqual({ t: X[0]!.t, time: new Date(X[0]!.t).toISOString(), m: X[0]!.m });
    expect(objects[1]!.m).not.toHaveProperty('temp.cpu');
    expect(rawRowsFromObjects(objects, METRICS)).toEqual(expectedRaw(X, METRICS, xT0, xEnd()));
    // Each line is the sample as the agent sent it.
    expect(objects.map((o) => ({ t: o.t, m: o.m }))).toEqual(X);
  });

  it('JSON: one document with the request and every sample, same objects as NDJSON', async () => {
    const got = await get(xUrl(`format=json&from=${xT0}&to=${xEnd()}&metrics=cpu.util,mem.used,temp.cpu`));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/json');
    const doc = JSON.parse(got.text) as { samples: SampleObject[] };
    expect(Object.keys(doc)).toEqual(['deviceId', 'from', 'to', 'tier', 'metrics', 'samples']);
    expect(doc).toMatchObject({ deviceId: 'edge-x', from: xT0, to: xEnd(), tier: 'raw', metrics: METRICS });
    const nd = parseNdjson((await get(xUrl(`format=ndjson&from=${xT0}&to=${xEnd()}&metrics=cpu.util,mem.used,temp.cpu`))).text);
    expect(doc.samples).toEqual(nd);
    // An empty range is still a valid document.
    const empty = JSON.parse((await get(xUrl(`format=json&from=${xT0 - HOUR}&to=${xT0}`))).text) as { samples: unknown[]; metrics: string[] };
    expect(empty.samples).toEqual([]);
    expect(empty.metrics).toHaveLength(3);
  });

  it('rollup tiers 1m and 1h: mean, min, max and count per bucket in CSV, NDJSON and JSON', async () => {
    const from = rT0;
    const to = rT0 + 3 * HOUR;
    for (const [tier, res] of [['1m', MINUTE], ['1h', HOUR]] as const) {
      const url = (format: string): string => `${base}/edge-r/export?format=${format}&tier=${tier}&from=${from}&to=${to}&metrics=${METRICS.join(',')}`;
      const expected = expectedRollup(R, METRICS, from, to, res);
      expect(expected.length).toBe(tier === '1m' ? 130 : 3);

      const csv = await get(url('csv'));
      expect(csv.status).toBe(200);
      const parsed = rollupRowsFromCsv(csv.text);
      expect(parsed.header).toEqual(['time', 't_ms', ...METRICS.flatMap((m) => ['mean', 'min', 'max', 'count'].map((f) => `${m}:${f}`))]);
      expectRollupsEqual(parsed.rows, expected);

      const nd = parseNdjson((await get(url('ndjson'))).text);
      expectRollupsEqual(rollupRowsFromObjects(nd, METRICS), expected);
      const doc = JSON.parse((await get(url('json'))).text) as { tier: string; samples: SampleObject[] };
      expect(doc.tier).toBe(tier);
      expect(doc.samples).toEqual(nd);
    }
    // A bucket boundary: from/to on whole minutes select whole buckets.
    const part = rollupRowsFromCsv((await get(`${base}/edge-r/export?format=csv&tier=1m&from=${rT0 + 10 * MINUTE}&to=${rT0 + 13 * MINUTE}`)).text);
    expect(part.rows.map(([t]) => t)).toEqual([10, 11, 12].map((k) => rT0 + k * MINUTE));
  });

  it('from and to default to the last 24 hours', async () => {
    const { rows } = rawRowsFromCsv((await get(`${base}/recent/export?format=csv`)).text);
    expect(rows.map(([t]) => t)).toEqual(RECENT.map((s) => s.t));
    // edge-r's data is two days old: outside the default range.
    const old = rawRowsFromCsv((await get(`${base}/edge-r/export?format=csv`)).text);
    expect(old.rows).toEqual([]);
    // to alone: the 24 hours before it.
    const before = rawRowsFromCsv((await get(`${base}/edge-r/export?format=csv&to=${rT0 + DAY}`)).text);
    expect(before.rows.map(([t]) => t)).toEqual(R.map((s) => s.t));
  });

  it('answers 400 naming the parameter, and 404 for an unknown device', async () => {
    const bad: [query: string, message: RegExp][] = [
      ['', /format is required: format=csv\|ndjson\|json/],
      ['format=xml', /format is not one of the choices \(got "xml"\): format=csv\|ndjson\|json/],
      ['format=csv&format=json', /format/],
      ['format=csv&tier=5m', /tier must be one of raw\|1m\|1h/],
      ['format=csv&from=abc', /from must be ms since the epoch/],
      ['format=csv&to=1.5', /to must be ms since the epoch/],
      ['format=csv&from=-5', /from must be ms since the epoch/],
      ['format=csv&to=9999999999999999', /to must be ms since the epoch/],
      [`format=csv&from=${xT0}&to=${xT0}`, /from \(\d+\) must be before to \(\d+\)/],
      ['format=csv&metrics=CPU', /metrics: not a metric name: "CPU"/],
      ['format=csv&metrics=,,', /metrics names no metric/],
      [`format=csv&metrics=${Array.from({ length: 201 }, (_, i) => `m.x${i}`).join(',')}`, /metrics: at most 200 per export, got 201/],
    ];
    for (const [query, message] of bad) {
      const got = await get(xUrl(query));
      expect(got.status, query).toBe(400);
      expect(errorOf(got), query).toMatch(message);
      expect(got.headers.get('content-disposition'), query).toBeNull();
    }
    const missing = await get(`${base}/no-such-device/export?format=csv`);
    expect(missing.status).toBe(404);
    expect(errorOf(missing)).toMatch(/no device with id "no-such-device"/);
    // Exactly 200 metrics is fine.
    const many = await get(xUrl(`format=csv&from=${xT0}&to=${xT0 + 1}&metrics=${Array.from({ length: 200 }, (_, i) => `m.x${i}`).join(',')}`));
    expect(many.status).toBe(200);
  });
});

// ---------------------------------------------------------------- large exports

/** `gc()` for this process: the flag can be set at run time; a fresh context then sees gc. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Reads a streamed body line by line, keeping only the unfinished line, with a hook every ~`everyBytes`. */
async function forEachLine(
  body: ReadableStream<Uint8Array>,
  separator: string,
  onLine: (line: string) => void,
  every?: { bytes: number; run: (bytesSoFar: number) => void },
): Promise<number> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  let bytes = 0;
  let next = every?.bytes ?? Infinity;
  for (let reads = 0; reads < 10_000_000; reads++) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    const lines = (rest + decoder.decode(value, { stream: true })).split(separator);
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
    if (bytes >= next) {
      every!.run(bytes);
      next += every!.bytes;
    }
  }
  expect(rest).toBe('');
  return bytes;
}

describe('history export: large ranges, slow and vanishing clients, failures', () => {
  const ROWS = 200_000;
  const COLS = 6;
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let big0 = 0;
  /** An export URL of device big: the whole of its data unless the query names from/to. */
  const bigUrl = (query: string): string =>
    `${hub.url}/api/v1/devices/big/export?${/(^|&)(from|to)=/.test(query) ? '' : `from=${big0}&to=${big0 + ROWS * SECOND}&`}${query}`;
  const logged: string[] = [];
  const gc = exposeGc();

  const bigValue = (k: number, j: number): number => ((k * 37 + j * 1000) % 100_000) / 100;

  beforeAll(async () => {
    tmp = tempDir();
    // The hub's log lines are kept, to check what a failed export says.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: pino({ level: 'warn' }, sink) });
    const now = Date.now();
    big0 = Math.floor((now - 4 * DAY) / HOUR) * HOUR;
    const dev = hub.store.upsertDevice(helloFrame('big'), now);
    let seq = 0;
    for (let b = 0; b < ROWS / 1000; b++) {
      const samples: Sample[] = [];
      for (let i = 0; i < 1000; i++) {
        const k = b * 1000 + i;
        const m: Record<string, number> = {};
        for (let j = 0; j < COLS; j++) m[`load.m${j}`] = bigValue(k, j);
        samples.push({ t: big0 + k * SECOND, m });
      }
      hub.store.commitBatches([{ deviceNum: dev.num, seq: ++seq, receivedAt: now, samples }]);
    }
    hub.store.sealAll();
  }, 180_000);
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  it('streams 200,000 rows while the hub’s live memory stays far below the size of the body', async () => {
    gc();
    const usage = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    const baseline = usage();
    let peak = 0;
    let rows = 0;
    let firstWrong: string | undefined;
    const res = await fetch(bigUrl('format=ndjson'));
    expect(res.status).toBe(200);
    const bytes = await forEachLine(
      res.body!,
      '\n',
      (line) => {
        const o = JSON.parse(line) as { t: number; m: Record<string, number> };
        // Every row in order (t), all columns there, one value checked; an expect() per row would be slow.
        const right = o.t === big0 + rows * SECOND && Object.keys(o.m).length === COLS && o.m['load.m3'] === bigValue(rows, 3);
        if (!right) firstWrong ??= `row ${rows}: ${line}`;
        rows++;
      },
      {
        bytes: 4 * 1024 * 1024,
        run: () => {
          gc();
          peak = Math.max(peak, usage() - baseline);
        },
      },
    );
    expect(firstWrong).toBeUndefined();
    expect(rows).toBe(ROWS);
    // Client and hub share this process: what is live here is the hub's buffers plus ours.
    // A hub that built the body first would hold all of it (bytes) at the first sample.
    expect(bytes).toBeGreaterThan(25 * 1024 * 1024);
    expect(peak).toBeLessThan(bytes / 4);
  }, 180_000);

  it('a paused client holds nothing up; one that goes away mid-stream stops the export and leaves the hub healthy', async () => {
    // Watch the real generator: how many rows the route pulled, and whether it was closed.
    const store = hub.store as { exportRows: Store['exportRows'] };
    const real = store.exportRows.bind(hub.store);
    let pulled = 0;
    let closed = false;
    store.exportRows = function* (...args: Parameters<Store['exportRows']>) {
      try {
        for (const row of real(...args)) {
          pulled++;
          yield row;
        }
      } finally {
        closed = true;
      }
    };
    try {
      const abort = new AbortController();
      const res = await fetch(bigUrl('format=ndjson'), { signal: abort.signal });
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      // The client has stopped reading: the hub must wait on the socket, not on a loop.
      const pausedAt = await eventually('the export to stall on backpressure', async () => {
        const before = pulled;
        await new Promise((r) => setTimeout(r, 200));
        return pulled === before && pulled > 0 ? pulled : undefined;
      });
      expect(pausedAt).toBeLessThan(ROWS);
      // Meanwhile the hub answers, ingests and serves another export.
      expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
      const num = hub.store.getDevice('big')!.num;
      expect(hub.store.commitBatches([{ deviceNum: num, seq: 10_000, receivedAt: Date.now(), samples: [{ t: big0 + ROWS * SECOND, m: { 'load.m0': 1 } }] }])).toEqual([{ stored: true }]);
      const small = await get(bigUrl(`format=csv&from=${big0}&to=${big0 + 10 * SECOND}`));
      expect(small.status).toBe(200);
      expect(parseCsv(small.text)).toHaveLength(11);

      abort.abort();
      await expect(reader.read()).rejects.toThrow();
      await eventually('the export generator to be closed', () => closed);
      expect(pulled).toBeLessThan(ROWS);
    } finally {
      delete (store as Partial<typeof store>).exportRows;
    }
    expect(hub.store.exportRows).toBe(Object.getPrototypeOf(hub.store).exportRows);
    const health = await get(`${hub.url}/healthz`);
    expect(health.status).toBe(200);
    const again = await get(bigUrl(`format=csv&from=${big0}&to=${big0 + 5 * SECOND}&metrics=load.m1`));
    expect(parseCsv(again.text)).toEqual([
      ['time', 't_ms', 'load.m1'],
      ...[0, 1, 2, 3, 4].map((k) => [new Date(big0 + k * SECOND).toISOString(), String(big0 + k * SECOND), String(bigValue(k, 1))]),
    ]);
  }, 120_000);

  // Last in this block: it breaks the store on purpose.
  it('a store failure mid-stream cuts the connection (no clean end) and is logged; before the first byte it is a 500', async () => {
    const res = await fetch(bigUrl('format=json'));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).startsWith('{"deviceId":"big"')).toBe(true);
    // The hub's next read from SQLite fails: the database is gone.
    hub.store.close();
    let tail = '';
    const decoder = new TextDecoder();
    const drained = (async () => {
      for (let reads = 0; reads < 10_000_000; reads++) {
        const { done, value } = await reader.read();
        if (done) return 'ended cleanly';
        tail = (tail + decoder.decode(value, { stream: true })).slice(-100);
      }
      return 'too many reads';
    })();
    await expect(drained).rejects.toThrow();
    expect(tail.endsWith('\n]}\n')).toBe(false);
    await eventually('the failure in the hub log', () => logged.find((l) => l.includes('export failed mid-stream')));

    const after = await get(bigUrl('format=csv'));
    expect(after.status).toBe(500);
    expect(errorOf(after)).toMatch(/internal error/);
    expect(after.headers.get('content-disposition')).toBeNull();
  }, 120_000);
});

// ---------------------------------------------------------------- the README's pandas snippet

/** A python3 that can import pandas: EDGEWATCH_PYTHON, then python3 on PATH, then Debian's. */
function pandasPython(): string | null {
  const candidates = [process.env.EDGEWATCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const exe of candidates) {
    try {
      execFileSync(exe, ['-c', 'import pandas'], { stdio: 'ignore', timeout: 60_000 });
      return exe;
    } catch {
      // not this one
    }
  }
  return null;
}

const PYTHON = pandasPython();
const REQUIRE_PANDAS = process.env.EDGEWATCH_REQUIRE_PANDAS === '1';

/** The python block between the export-pandas markers in README.md, as shown there. */
function readmeSnippet(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const match = /<!-- export-pandas:begin[^>]*-->\n```python\n([\s\S]*?)```\n<!-- export-pandas:end -->/.exec(readme);
  if (!match) throw new Error('README.md has no ```python block between <!-- export-pandas:begin --> and <!-- export-pandas:end -->');
  return match[1]!;
}

describe.skipIf(PYTHON === null && !REQUIRE_PANDAS)('history export: the README pandas snippet', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let token = '';
  const LAB: Sample[] = [];

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), auth: true });
    token = new Credentials(hub.store).createApiToken('pandas').token;
    const now = Date.now();
    const dev = hub.store.upsertDevice(helloFrame('pi4-lab'), now);
    for (let i = 0; i < 120; i++) LAB.push(sampleAt(now - 2 * HOUR + i * 30 * SECOND, i, false));
    commit(hub.store, dev.num, LAB, { n: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    tmp?.remove();
  });

  it('runs as shown, against a hub that requires an API token, and loads what was stored', async () => {
    if (PYTHON === null) throw new Error('EDGEWATCH_REQUIRE_PANDAS=1 but no python3 here imports pandas: apt-get install python3-pandas (or set EDGEWATCH_PYTHON)');
    // Without the token the hub refuses: the snippet's storage_options is what gets it in.
    expect((await get(`${hub.url}/api/v1/devices/pi4-lab/export?format=csv`)).status).toBe(401);

    const snippet = readmeSnippet();
    // The README's placeholders, and only those, are swapped for this hub and its token.
    expect(snippet).toContain("'http://127.0.0.1:8080/api/v1/devices/pi4-lab/export'");
    expect(snippet).toContain("'Bearer ewa_…'");
    const runnable = snippet.replace('http://127.0.0.1:8080', hub.url).replace('ewa_…', token);
    const check = `
import json
def values(series):
    return [None if pd.isna(v) else v for v in series.tolist()]
print(json.dumps({
    'index': [ts.isoformat() for ts in df.index],
    'tz': str(df.index.tz),
    'columns': list(df.columns),
    'cpu': values(df['cpu.util']),
    'mem': values(df['mem.used']),
    'samples_index': [ts.isoformat() for ts in samples.index],
    'samples_columns': sorted(samples.columns),
    'samples_temp': values(samples['temp.cpu']),
}))
`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        PYTHON,
        ['-c', runnable + check],
        { timeout: 60_000, env: { ...process.env, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost' } },
        (err, stdout, stderr) => (err ? reject(new Error(`the README snippet failed: ${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const got = JSON.parse(out.trim().split('\n').pop()!) as {
      index: string[];
      tz: string;
      columns: string[];
      cpu: number[];
      mem: number[];
      samples_index: string[];
      samples_columns: string[];
      samples_temp: (number | null)[];
    };
    const isoPandas = (t: number): string => new Date(t).toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => (ms === '000' ? '+00:00' : `.${ms}000+00:00`));
    expect(got.tz).toBe('UTC');
    expect(got.index).toEqual(LAB.map((s) => isoPandas(s.t)));
    expect(got.columns).toEqual(['t_ms', 'cpu.util', 'mem.used']);
    got.cpu.forEach((v, i) => expect(v).toBeCloseTo(LAB[i]!.m['cpu.util']!, 9));
    expect(got.mem).toEqual(LAB.map((s) => s.m['mem.used']));
    expect(got.samples_index).toEqual(LAB.map((s) => isoPandas(s.t)));
    expect(got.samples_columns).toEqual(['cpu.util', 'mem.used', 'temp.cpu']);
    expect(got.samples_temp).toEqual(LAB.map((s) => s.m['temp.cpu'] ?? null));
  }, 120_000);
});
