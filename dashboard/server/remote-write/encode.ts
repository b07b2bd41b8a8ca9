// Prometheus remote write 1.0 on the wire: series named exactly as GET /metrics names them
// (prometheus-names.ts: family with its base-unit suffix, placeholders as labels, the value
// converted to the base unit, the device id in `device`), encoded as a prometheus.WriteRequest
// protobuf and compressed with Snappy's block format. Pure: the tests decode what it makes.
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { describeMetric } from '../../../shared/catalog.js';
import { CATALOG_FAMILIES, DEVICE_LABEL, seriesNameOf, UNCATALOGUED_FAMILY, UNCATALOGUED_INDEX } from '../prometheus-names.js';

/** The request headers the protocol requires (remote write 1.0). */
export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

/** The optional label with the device's display name (as edgewatch_device_info has it). */
export const NAME_LABEL = 'name';

// From prometheus/prompb (types.proto, remote.proto); only what a 1.0 sender writes.
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

export interface Label {
  name: string;
  value: string;
}

export interface PromSample {
  value: number;
  /** ms since the epoch. */
  timestamp: number;
}

export interface TimeSeries {
  /** Sorted by name, `__name__` among them. */
  labels: Label[];
  /** In timestamp order. */
  samples: PromSample[];
}

/** What a series of one metric name is, whatever the device: family, its own labels, conversion. */
interface MetricSeries {
  family: string;
  labels: readonly Label[];
  convert: (value: number) => number;
}

const metricCache = new Map<string, MetricSeries>();
/** Names come from agents: bound what they can make the hub keep (as prometheus-names.ts does). */
const MAX_CACHED_NAMES = 100_000;

/** The family, labels (device aside) and conversion /metrics uses for an edgewatch metric name. */
export function metricSeries(metric: string): MetricSeries {
  const cached = metricCache.get(metric);
  if (cached) return cached;
  const series = seriesNameOf(metric);
  let out: MetricSeries;
  if (series.family === UNCATALOGUED_INDEX) {
    out = { family: UNCATALOGUED_FAMILY.name, labels: [{ name: 'metric', value: metric }], convert: series.convert };
  } else {
    // seriesNameOf has these labels already escaped for the text format; remote write wants the
    // raw values, so they are read from the same catalog match it made.
    const family = CATALOG_FAMILIES[series.family]!;
    const params = describeMetric(metric)?.params ?? {};
    out = {
      family: family.name,
      labels: family.labels.map((name, i) => ({ name, value: params[family.placeholders[i]!] ?? '' })),
      convert: series.convert,
    };
  }
  if (metricCache.size < MAX_CACHED_NAMES) metricCache.set(metric, out);
  return out;
}

/** The sorted label set of one metric of one device; `deviceName` adds the `name` label. */
export function seriesLabels(metric: string, deviceId: string, deviceName?: string): Label[] {
  const m = metricSeries(metric);
  const labels: Label[] = [{ name: '__name__', value: m.family }, { name: DEVICE_LABEL, value: deviceId }, ...m.labels];
  // A catalog label of the same name wins: a duplicate label makes the whole request invalid.
  if (deviceName !== undefined && !labels.some((l) => l.name === NAME_LABEL)) labels.push({ name: NAME_LABEL, value: deviceName });
  return labels.sort(byName);
}

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The request body: WriteRequest protobuf, Snappy block-compressed. */
export function encodeWriteRequest(series: readonly TimeSeries[]): Buffer {
  const raw = WriteRequest.encode({ timeseries: series }).finish();
  return Buffer.from(snappy.compress(raw));
}

/**
 * The inverse of encodeWriteRequest, for tests and tools that receive remote write; refuses a
 * body that would unpack past `maxBytes`.
 */
export function decodeWriteRequest(body: Uint8Array, maxBytes = 64 * 1024 * 1024): TimeSeries[] {
  const raw = snappy.uncompress(body, maxBytes);
  const msg = WriteRequest.toObject(WriteRequest.decode(raw), { longs: Number, arrays: true, defaults: true }) as { timeseries: TimeSeries[] };
  return msg.timeseries.map((s) => ({ labels: s.labels ?? [], samples: s.samples ?? [] }));
}

/** `name{a="1",b="2"}` for logs and error messages. */
export function seriesText(labels: readonly Label[]): string {
  const name = labels.find((l) => l.name === '__name__')?.value ?? '';
  const rest = labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  return `${name}{${rest.join(',')}}`;
}
