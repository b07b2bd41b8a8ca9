// The remote-write encoder on its own: a request decoded back with an independent protobuf
// schema and Snappy (block format), labels sorted, and every series named, labelled and
// converted exactly as GET /metrics renders the same value (renderExposition is the reference).
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { decodeWriteRequest, encodeWriteRequest, seriesLabels, metricSeries, REMOTE_WRITE_HEADERS, type TimeSeries } from '../../dashboard/server/remote-write/encode.js';
import { renderExposition, type HubHealth } from '../../dashboard/server/prometheus-render.js';
import { packSamples, unpackSamples, type OutboxSample } from '../../dashboard/store/remote-write-codec.js';
import { METRIC_CATALOG } from '../../shared/catalog.js';
import type { DeviceSummary } from '../../shared/live.js';

// Written out here, apart from the encoder's copy, as prometheus/prompb has it (with metadata).
const PROMPB = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequest = protobuf.parse(PROMPB).root.lookupType('prometheus.WriteRequest');

function decodeIndependently(body: Buffer): TimeSeries[] {
  const raw = snappy.uncompress(new Uint8Array(body));
  const msg = WriteRequest.toObject(WriteRequest.decode(raw), { longs: Number, arrays: true, defaults: true }) as { timeseries: TimeSeries[] };
  return msg.timeseries;
}

/** A uvarint at the start of a buffer (Snappy's block format begins with the uncompressed length). */
function leadingUvarint(buf: Buffer): number {
  let v = 0;
  let scale = 1;
  for (const b of buf) {
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 128;
  }
  throw new Error('no varint');
}

const T = 1_700_000_123_456;

describe('remote-write encoding', () => {
  it('encodes a WriteRequest that decodes back, Snappy block format, int64 ms timestamps', () => {
    const series: TimeSeries[] = [
      { labels: seriesLabels('cpu.util', 'edge-1'), samples: [{ value: 0.25, timestamp: T }, { value: 0.5, timestamp: T + 1000 }] },
      { labels: seriesLabels('gpu.0.temp', 'edge-1'), samples: [{ value: -3.5, timestamp: T }] },
      // Zero values and the largest ms timestamp Prometheus takes: proto3 defaults and 64-bit ints.
      { labels: seriesLabels('mem.used', 'edge-2'), samples: [{ value: 0, timestamp: 253_402_300_799_000 }] },
    ];
    const body = encodeWriteRequest(series);
    // Framed Snappy would start with its stream identifier (ff 06 00 00 "sNaPpY"): block format does not.
    expect(body[0]).not.toBe(0xff);
    const raw = snappy.uncompress(new Uint8Array(body));
    expect(leadingUvarint(body)).toBe(raw.length);
    expect(decodeIndependently(body)).toEqual(series);
    expect(decodeWriteRequest(body)).toEqual(series);
    expect(REMOTE_WRITE_HEADERS).toEqual({ 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' });
  });

  it('sorts labels by name, __name__ among them, and adds the device name only when asked', () => {
    const labels = seriesLabels('net.eth0.rx_bps', 'jetson-7', 'Lab "Jetson"');
    expect(labels.map((l) => l.name)).toEqual([...labels.map((l) => l.name)].sort());
    expect(labels).toEqual([
      { name: '__name__', value: 'edgewatch_net_rx_bytes_per_second' },
      { name: 'device', value: 'jetson-7' },
      { name: 'iface', value: 'eth0' },
      { name: 'name', value: 'Lab "Jetson"' },
    ]);
    expect(seriesLabels('net.eth0.rx_bps', 'jetson-7').map((l) => l.name)).toEqual(['__name__', 'device', 'iface']);
  });

  it('converts to base units as /metrics does (%, MHz, ms) and keeps unknown names', () => {
    expect(metricSeries('cpu.util').convert(0.07)).toBe(0.0007);
    expect(metricSeries('cpu.freq').convert(1.001)).toBe(1_001_000);
    expect(metricSeries('infer.resnet.latency.p50').convert(12.5)).toBe(0.0125);
    expect(seriesLabels('cpu.freq', 'd')[0]).toEqual({ name: '__name__', value: 'edgewatch_cpu_frequency_hertz' });
    expect(seriesLabels('future.thing.x', 'd')).toEqual([
      { name: '__name__', value: 'edgewatch_uncatalogued_value' },
      { name: 'device', value: 'd' },
      { name: 'metric', value: 'future.thing.x' },
    ]);
  });

  it('names, labels and values every catalog family, and unknown names, exactly as GET /metrics does', () => {
    const m: Record<string, number> = {};
    METRIC_CATALOG.forEach((spec, idx) => {
      m[spec.pattern.replace(/<(n|i)>/g, '3').replace(/<[a-z]+>/g, 'x_y')] = idx + 0.123;
    });
    m['brand.new.metric'] = 7.25;
    m['odd"name\\with'] = 1;
    const device: DeviceSummary = {
      id: 'dev "quoted"',
      name: 'd',
      hostname: null,
      online: true,
      lastSeen: T,
      firstSeen: T,
      intervalMs: 1000,
      agentVersion: null,
      capabilities: [],
      inventory: {},
      latest: { t: T, m },
      clockOffsetMs: null,
      droppedSamples: 0,
    };
    const health: HubHealth = { version: 't', startedAtMs: T, nowMs: T, agentsConnected: 1, liveViewers: 0, committedBatches: 0, committedSamples: 0, refusedBatches: 0, futureSamplesRejected: 0, writable: true, databaseBytes: null };
    const exposition = new Map<string, number>();
    for (const line of renderExposition([device], health).split('\n')) {
      const parsed = parseLine(line);
      if (parsed && parsed.labels.device === device.id && !parsed.name.startsWith('edgewatch_device_')) exposition.set(key(parsed.name, parsed.labels), parsed.value);
    }
    const remote = new Map<string, number>();
    const series: TimeSeries[] = Object.entries(m).map(([metric, v]) => ({ labels: seriesLabels(metric, device.id), samples: [{ value: metricSeries(metric).convert(v), timestamp: T }] }));
    for (const s of decodeWriteRequest(encodeWriteRequest(series))) {
      const labels = Object.fromEntries(s.labels.map((l) => [l.name, l.value]));
      const { __name__: name, ...rest } = labels;
      remote.set(key(name!, rest), s.samples[0]!.value);
    }
    expect(remote.size).toBe(Object.keys(m).length);
    expect(remote).toEqual(exposition);
  });

  it('packs outbox rows losslessly (times, float64 values, names) and leaves out samples without values', () => {
    const samples: OutboxSample[] = [
      { t: T, m: { 'cpu.util': 12.345678901234, 'odd.ünï.cödé': -0 } },
      { t: T - 5000, m: {} },
      { t: T - 2000, m: { 'cpu.util': Number.MAX_VALUE, 'mem.used': 5e-324 } },
    ];
    const packed = packSamples(samples);
    expect(packed.values).toBe(4);
    expect(unpackSamples(packed.data)).toEqual([samples[0], samples[2]]);
    expect(() => unpackSamples(packed.data.subarray(0, packed.data.length - 3))).toThrow(/truncated/);
  });
});

function key(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** One sample line of the text format: name, labels (unescaped) and value; null for others. */
function parseLine(line: string): { name: string; labels: Record<string, string>; value: number } | null {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
  if (!m) return null;
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  for (let l = re.exec(m[2]!); l; l = re.exec(m[2]!)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return { name: m[1]!, labels, value: Number(m[3]) };
}
