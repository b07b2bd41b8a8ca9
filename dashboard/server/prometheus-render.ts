// The Prometheus text exposition (format 0.0.4) of the fleet's latest values and the hub's own
// health: a pure function of what the route gathered, so it is tested and timed without a hub.
//
// Only devices with a connected agent export their metric values: a disconnected device's last
// sample would otherwise be scraped again and again as if it were current (a flat line, an alert
// that never clears). Every known device still exports edgewatch_device_up, last-seen time and
// its info, so "device went away" is itself alertable. No sample timestamps are sent: the
// scrape time is what Prometheus expects from an exporter, and devices' clocks may be off.
import type { DeviceSummary, RemoteWriteStatus } from '../../shared/live.js';
import { escapeHelp, escapeLabelValue, formatValue } from './prometheus-format.js';
import { CATALOG_FAMILIES, DEVICE_LABEL, NAME_PREFIX, seriesNameOf, UNCATALOGUED_FAMILY, type Family } from './prometheus-names.js';

/** The hub's own numbers, read once per scrape. */
export interface HubHealth {
  version: string;
  startedAtMs: number;
  nowMs: number;
  agentsConnected: number;
  liveViewers: number;
  committedBatches: number;
  committedSamples: number;
  refusedBatches: number;
  futureSamplesRejected: number;
  writable: boolean;
  /** The database file plus its WAL; null when the file cannot be read. */
  databaseBytes: number | null;
  /** Each remote-write destination's queue and counts (none configured: empty). */
  remoteWrite?: readonly RemoteWriteStatus[];
}

const ALL_FAMILIES: readonly Family[] = [...CATALOG_FAMILIES, UNCATALOGUED_FAMILY];

function header(family: Family): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}

/** One family: its header, then its sample lines; nothing when it has none. */
function family(f: Family, lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${header(f)}${lines.join('\n')}\n`;
}

const p = (name: string): string => `${NAME_PREFIX}${name}`;

const DEVICE_FAMILIES = {
  up: { name: p('device_up'), help: 'Whether an agent for the device is connected to this hub now (1) or not (0)', type: 'gauge' },
  lastSeen: { name: p('device_last_seen_timestamp_seconds'), help: 'Hub time (Unix seconds) the last batch from the device was committed', type: 'gauge' },
  dropped: { name: p('device_dropped_samples_total'), help: 'Samples the agent reported dropping because its spool was full', type: 'counter' },
  info: { name: p('device_info'), help: 'Device facts as labels (always 1): display name, hostname, agent version', type: 'gauge' },
} as const satisfies Record<string, Family>;

interface Line {
  readonly family: number;
  /** Everything before the value: `name{device="…",core="3"} `. */
  readonly prefix: string;
  readonly convert: (value: number) => number;
  /** The value last written and its whole line: totals, sizes and clocks rarely change between scrapes. */
  value: number;
  text: string;
}

/**
 * The same text as one flat string. A concatenation is a tree of pieces in V8, and every later
 * concatenation and join that contains it walks that tree again; a string kept for the life of
 * the hub is worth copying once.
 */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** A device that sends more distinct names than this has its cached lines forgotten and rebuilt. */
const MAX_NAMES_PER_DEVICE = 10_000;

/**
 * Each series' line (name and labels, and the last value with its text), per device and metric
 * name, kept between scrapes: a scrape then builds a line with one concatenation instead of
 * five, and formats only values that changed. At 500 devices × 150 metrics that is most of the
 * rendering time, for about 15 MB kept.
 */
export class LineCache {
  private readonly byDevice = new Map<string, Map<string, Line>>();

  of(deviceId: string): Map<string, Line> {
    let lines = this.byDevice.get(deviceId);
    if (!lines || lines.size > MAX_NAMES_PER_DEVICE) this.byDevice.set(deviceId, (lines = new Map()));
    return lines;
  }

  /** Forgets devices that are gone from the store. */
  keepOnly(devices: readonly DeviceSummary[]): void {
    if (this.byDevice.size <= devices.length) return;
    const ids = new Set(devices.map((d) => d.id));
    for (const id of this.byDevice.keys()) if (!ids.has(id)) this.byDevice.delete(id);
  }
}

/**
 * The full exposition body. Each family's samples are written together, across devices, as
 * the format requires; families come in catalog order, then per-device and hub families.
 */
export function renderExposition(devices: readonly DeviceSummary[], hub: HubHealth, cache: LineCache = new LineCache()): string {
  const byFamily: string[][] = ALL_FAMILIES.map(() => []);
  const up: string[] = [];
  const lastSeen: string[] = [];
  const dropped: string[] = [];
  const info: string[] = [];
  for (const device of devices) {
    const id = escapeLabelValue(device.id);
    // Demo devices (edgewatch demo) say so on every series, so a dashboard or alert can leave them out.
    const demo = device.demo ? ',demo="true"' : '';
    const only = `{${DEVICE_LABEL}="${id}"${demo}} `;
    up.push(`${DEVICE_FAMILIES.up.name}${only}${device.online ? 1 : 0}`);
    if (device.lastSeen !== null) lastSeen.push(`${DEVICE_FAMILIES.lastSeen.name}${only}${formatValue(device.lastSeen / 1000)}`);
    dropped.push(`${DEVICE_FAMILIES.dropped.name}${only}${formatValue(device.droppedSamples)}`);
    info.push(
      `${DEVICE_FAMILIES.info.name}{${DEVICE_LABEL}="${id}"${demo},name="${escapeLabelValue(device.name)}",hostname="${escapeLabelValue(device.hostname ?? '')}",agent_version="${escapeLabelValue(device.agentVersion ?? '')}"} 1`,
    );
    if (!device.online || !device.latest) continue;
    const known = cache.of(device.id);
    const values = device.latest.m;
    for (const metric in values) {
      const value = values[metric];
      if (typeof value !== 'number') continue;
      let line = known.get(metric);
      if (line === undefined) {
        const series = seriesNameOf(metric);
        // NaN as the last value: never equal, so the first scrape writes the text.
        line = { family: series.family, prefix: flat(`${series.head}${id}"${demo}${series.labels}} `), convert: series.convert, value: NaN, text: '' };
        known.set(metric, line);
      }
      if (value !== line.value) {
        line.value = value;
        line.text = line.prefix + formatValue(line.convert(value));
      }
      byFamily[line.family]!.push(line.text);
    }
  }
  cache.keepOnly(devices);

  let out = '';
  ALL_FAMILIES.forEach((f, idx) => (out += family(f, byFamily[idx]!)));
  out += family(DEVICE_FAMILIES.up, up) + family(DEVICE_FAMILIES.lastSeen, lastSeen) + family(DEVICE_FAMILIES.dropped, dropped) + family(DEVICE_FAMILIES.info, info);
  return out + renderHub(hub, devices.length) + renderRemoteWrite(hub.remoteWrite ?? []);
}

/**
 * Remote-write destinations, named as Prometheus names its own sender's series
 * (prometheus_remote_storage_samples_total, …_pending, …_failed_total, …_retried_total, the
 * highest timestamp and its lag), under our prefix and with a `destination` label.
 */
export function renderRemoteWrite(destinations: readonly RemoteWriteStatus[]): string {
  if (destinations.length === 0) return '';
  const rows = destinations.map((d) => ({ d, labels: `{destination="${escapeLabelValue(d.name)}",url="${escapeLabelValue(d.url)}"}` }));
  const each = (name: string, type: Family['type'], help: string, value: (d: RemoteWriteStatus) => number | null): string =>
    family(
      { name: p(name), type, help },
      rows.flatMap(({ d, labels }) => {
        const v = value(d);
        return v === null ? [] : [`${p(name)}${labels} ${formatValue(v)}`];
      }),
    );
  return (
    each('remote_storage_samples_total', 'counter', 'Samples the remote-write receiver accepted since the hub started', (d) => d.sent) +
    each('remote_storage_samples_pending', 'gauge', 'Samples committed on the hub and not yet accepted by the receiver (the durable queue)', (d) => d.pending) +
    each('remote_storage_samples_failed_total', 'counter', 'Samples the receiver refused for good (a 4xx other than 429) since the hub started', (d) => d.failed) +
    each('remote_storage_retries_total', 'counter', 'Requests retried after a 5xx, 429 or network error since the hub started', (d) => d.retries) +
    each('remote_storage_lag_seconds', 'gauge', 'How long the oldest batch still queued for the receiver has waited (0 when it has everything)', (d) => d.lagSeconds) +
    each('remote_storage_last_send_timestamp_seconds', 'gauge', 'When the receiver last accepted a request (Unix seconds)', (d) => (d.lastSentAt === null ? null : d.lastSentAt / 1000)) +
    each('remote_storage_last_error_timestamp_seconds', 'gauge', 'When sending last failed (Unix seconds); the error itself is on /healthz', (d) => (d.lastErrorAt === null ? null : d.lastErrorAt / 1000))
  );
}

function renderHub(hub: HubHealth, devices: number): string {
  let out = '';
  const one = (name: string, type: Family['type'], help: string, value: number, labels = ''): void => {
    out += family({ name: p(name), type, help }, [`${p(name)}${labels} ${formatValue(value)}`]);
  };
  one('hub_info', 'gauge', 'Build information of this hub (always 1)', 1, `{version="${escapeLabelValue(hub.version)}"}`);
  one('hub_start_time_seconds', 'gauge', 'When this hub process started (Unix seconds)', hub.startedAtMs / 1000);
  one('hub_uptime_seconds', 'gauge', 'Seconds since this hub process started', Math.max(0, (hub.nowMs - hub.startedAtMs) / 1000));
  one('hub_agents_connected', 'gauge', 'Devices with an agent connected now', hub.agentsConnected);
  one('hub_devices', 'gauge', 'Devices this hub knows (connected or not)', devices);
  one('hub_live_viewers', 'gauge', 'Browsers on the live socket now', hub.liveViewers);
  one('hub_committed_batches_total', 'counter', 'Batches committed to SQLite since the hub started (resent duplicates excluded)', hub.committedBatches);
  one('hub_committed_samples_total', 'counter', 'Samples committed to SQLite since the hub started', hub.committedSamples);
  one('hub_refused_batches_total', 'counter', 'Batches refused since the hub started because it could not write (agents keep and resend them)', hub.refusedBatches);
  one('hub_future_samples_rejected_total', 'counter', "Samples rejected since the hub started because they lay more than 10 minutes in the hub's future", hub.futureSamplesRejected);
  one('hub_store_writable', 'gauge', 'Whether the hub can save data now (1) or writes fail, e.g. disk full or read-only (0)', hub.writable ? 1 : 0);
  if (hub.databaseBytes !== null) one('hub_database_size_bytes', 'gauge', 'Size of the SQLite database file plus its write-ahead log', hub.databaseBytes);
  return out;
}
