// Remote write end to end: a real hub on 127.0.0.1 (temp SQLite file) fed by raw agent peers,
// and a real HTTP receiver in the test that decodes each request (Snappy + protobuf) and
// answers what the test says: 200, 503/429 with Retry-After, 400 for a bad series, or nothing
// at all (port closed). What arrives is checked sample by sample against what the hub stored.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHub, type Hub, type HubOptions } from '../../dashboard/server/hub.js';
import type { RemoteWriteConfig } from '../../dashboard/server/remote-write/config.js';
import { decodeWriteRequest, metricSeries, seriesLabels, type TimeSeries } from '../../dashboard/server/remote-write/encode.js';
import type { RemoteWriteStatus } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type Sample } from '../../shared/protocol.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  series: TimeSeries[];
  status: number;
}

/** A remote-write receiver: decodes every request, answers with `answer`, keeps both. */
class Receiver {
  readonly requests: Received[] = [];
  answer: (series: TimeSeries[], n: number) => Answer = () => ({ status: 200 });

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const series = decodeWriteRequest(Buffer.concat(chunks));
        const a = self!.answer(series, self!.requests.length);
        self!.requests.push({ at: Date.now(), headers: req.headers, series, status: a.status });
        res.writeHead(a.status, a.headers).end(a.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    self = new Receiver(server, (server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/write`;
  }

  /** Every sample of accepted requests, in arrival order, per series (its labels as JSON). */
  accepted(): Map<string, [t: number, v: number][]> {
    const out = new Map<string, [number, number][]>();
    for (const r of this.requests) {
      if (r.status < 200 || r.status >= 300) continue;
      for (const s of r.series) {
        const key = JSON.stringify(s.labels);
        const list = out.get(key) ?? [];
        for (const x of s.samples) list.push([x.timestamp, x.value]);
        out.set(key, list);
      }
    }
    return out;
  }

  acceptedCount(): number {
    let n = 0;
    for (const list of this.accepted().values()) n += list.length;
    return n;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const r = await Receiver.start();
  const port = r.port;
  await r.close();
  return port;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const METRICS = ['cpu.util', 'cpu.freq', 'gpu.0.temp', 'mem.used', 'infer.resnet.latency.p50', 'brand.new.metric'];

/** Samples one second apart from `t0`, every metric in METRICS, values that vary. */
function samplesFrom(t0: number, count: number, seed = 1): Sample[] {
  return Array.from({ length: count }, (_, k) => ({
    t: t0 + k * 1000,
    m: Object.fromEntries(METRICS.map((name, j) => [name, Math.round(((seed * 7919 + k * 31 + j * 17) % 1000) * 10) / 100])),
  }));
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Fast retry and batching timings so each test takes seconds, not minutes. */
function destination(url: string, extra: Partial<RemoteWriteConfig> = {}): RemoteWriteConfig {
  return { url, name: 'rx', batchWaitMs: 20, minBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000, ...extra };
}

async function hubWith(dataDir: string, remoteWrite: RemoteWriteConfig[], extra: Partial<HubOptions> = {}): Promise<Hub> {
  const hub = await startHub({ port: 0, host: '127.0.0.1', dataDir, log: silentLogger(), version: EDGEWATCH_VERSION, remoteWrite, remoteWriteQueue: { checkEveryMs: 100 }, ...extra });
  cleanups.push(() => hub.close());
  return hub;
}

function newDataDir(): string {
  const tmp = tempDir('edgewatch-rw-');
  cleanups.push(tmp.remove);
  return tmp.dir;
}

/** An agent peer that has said hello; `send` waits for each batch's ack. */
async function agent(hub: Hub, id: string, clockAheadMs = 0): Promise<{ send: (samples: Sample[]) => Promise<void>; close: () => void }> {
  const peer = await TestPeer.connect(hub.agentUrl);
  cleanups.push(() => peer.close());
  peer.send(helloFrame(id, { clock: Date.now() + clockAheadMs }));
  const welcome = await peer.waitFor((f) => f.type === 'welcome');
  let seq = (welcome.lastSeq as number | null) ?? 0;
  return {
    async send(samples) {
      for (let i = 0; i < samples.length; i += 10) {
        const s = ++seq;
        peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples: samples.slice(i, i + 10), sentAt: Date.now() + clockAheadMs });
        await peer.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
        const error = peer.received.find((f) => f.type === 'error');
        if (error) throw new Error(`hub refused batch ${s}: ${JSON.stringify(error)}`);
      }
    },
    close: () => peer.close(),
  };
}

/** What the hub stored for a device, as the receiver should have it: series labels → [t, converted v]. */
function stored(hub: Hub, deviceId: string): Map<string, [number, number][]> {
  const device = hub.store.getDevice(deviceId)!;
  const raw = hub.store.rawSamples(device.num, METRICS, 0, Number.MAX_SAFE_INTEGER);
  const out = new Map<string, [number, number][]>();
  for (const [metric, points] of Object.entries(raw)) {
    out.set(JSON.stringify(seriesLabels(metric, deviceId)), points.map(([t, v]) => [t, metricSeries(metric).convert(v)]));
  }
  return out;
}

function storedCount(hub: Hub, ...devices: string[]): number {
  let n = 0;
  for (const d of devices) for (const list of stored(hub, d).values()) n += list.length;
  return n;
}

/** The receiver's series limited to one device's. */
function receivedFor(rx: Receiver, deviceId: string): Map<string, [number, number][]> {
  return new Map([...rx.accepted()].filter(([key]) => (JSON.parse(key) as { name: string; value: string }[]).some((l) => l.name === 'device' && l.value === deviceId)));
}

const NOW = Math.floor(Date.now() / 1000) * 1000;

describe('remote write from the hub', () => {
  it('sends every committed sample with its stored timestamp (clock-corrected devices too), value and the protocol headers', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    const hub = await hubWith(newDataDir(), [destination(rx.url)]);
    const good = await agent(hub, 'edge-good');
    // An hour ahead: the hub stores its samples on the hub's clock, and sends them so.
    const ahead = await agent(hub, 'edge-ahead', 3_600_000);
    await good.send(samplesFrom(NOW - 60_000, 40));
    await ahead.send(samplesFrom(NOW - 60_000 + 3_600_000, 40, 2));
    const total = storedCount(hub, 'edge-good', 'edge-ahead');
    expect(total).toBe(2 * 40 * METRICS.length);
    await until('every sample at the receiver', () => rx.acceptedCount() >= total);

    expect(receivedFor(rx, 'edge-good')).toEqual(stored(hub, 'edge-good'));
    expect(receivedFor(rx, 'edge-ahead')).toEqual(stored(hub, 'edge-ahead'));
    // Corrected onto the hub's clock, not an hour in the future.
    const aheadTimes = [...receivedFor(rx, 'edge-ahead').values()].flat().map(([t]) => t);
    expect(Math.max(...aheadTimes)).toBeLessThan(Date.now() + 60_000);
    expect(rx.acceptedCount()).toBe(total);

    const h = rx.requests[0]!.headers;
    expect(h['content-encoding']).toBe('snappy');
    expect(h['content-type']).toBe('application/x-protobuf');
    expect(h['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(h['user-agent']).toBe(`edgewatch/${EDGEWATCH_VERSION}`);
    for (const r of rx.requests) expect(r.series.reduce((n, s) => n + s.samples.length, 0)).toBeLessThanOrEqual(2000);

    await until('the status to catch up', () => hub.remoteWrite.status()[0]!.pending === 0);
    expect(hub.remoteWrite.status()).toEqual([
      { name: 'rx', url: rx.url, sent: total, pending: 0, failed: 0, retries: 0, lastError: null, lastErrorAt: null, lastSentAt: expect.any(Number), lagSeconds: 0 },
    ]);
  });

  it('retries a 503 after the Retry-After seconds and loses nothing', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    rx.answer = (_s, n) => (n === 0 ? { status: 503, headers: { 'Retry-After': '1' }, body: 'ingester overloaded' } : { status: 200 });
    const hub = await hubWith(newDataDir(), [destination(rx.url)]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 30_000, 20));
    const total = storedCount(hub, 'edge-1');
    await until('every sample at the receiver', () => rx.acceptedCount() >= total);
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
    // The retry waited the second it was told (less a little for clock granularity).
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950);
    // The receiver has them a moment before the hub has read its answer and counted them.
    await until('the hub to count the accepted samples', () => hub.remoteWrite.status()[0]!.sent === total);
    const s = hub.remoteWrite.status()[0]!;
    expect(s).toMatchObject({ sent: total, failed: 0, retries: 1 });
    expect(s.lastError).toContain('HTTP 503');
    expect(s.lastError).toContain('ingester overloaded');
  });

  it('retries a 429 after a Retry-After HTTP date, and a plain 500 with backoff', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    const retryAt = new Date(Date.now() + 2000).toUTCString();
    rx.answer = (_s, n) => (n === 0 ? { status: 429, headers: { 'Retry-After': retryAt }, body: 'rate limited' } : n === 1 ? { status: 500 } : { status: 200 });
    const hub = await hubWith(newDataDir(), [destination(rx.url)]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 30_000, 20));
    const total = storedCount(hub, 'edge-1');
    await until('every sample at the receiver', () => rx.acceptedCount() >= total);
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
    // An HTTP date has whole seconds: at least until that second began.
    expect(rx.requests[1]!.at).toBeGreaterThanOrEqual(Date.parse(retryAt) - 50);
    expect(rx.requests[2]!.at - rx.requests[1]!.at).toBeGreaterThanOrEqual(40);
    await until('the hub to count the accepted samples', () => hub.remoteWrite.status()[0]!.sent === total);
    expect(hub.remoteWrite.status()[0]).toMatchObject({ sent: total, failed: 0, retries: 2 });
  });

  it('on a 400 drops only the series the receiver refuses, counted with its reason, and sends the rest', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    const bad = (s: TimeSeries): boolean => s.labels.some((l) => l.name === 'metric' && l.value === 'brand.new.metric');
    rx.answer = (series) => (series.some(bad) ? { status: 400, body: 'out of order sample for series brand.new.metric' } : { status: 200 });
    const hub = await hubWith(newDataDir(), [destination(rx.url)]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 30_000, 30));
    const expected = stored(hub, 'edge-1');
    const badKey = JSON.stringify(seriesLabels('brand.new.metric', 'edge-1'));
    const badCount = expected.get(badKey)!.length;
    expected.delete(badKey);
    const good = [...expected.values()].reduce((n, l) => n + l.length, 0);
    await until('the good samples and the drop count', () => rx.acceptedCount() >= good && hub.remoteWrite.status()[0]!.failed >= badCount);
    await until('the queue to drain', () => hub.remoteWrite.status()[0]!.pending === 0);
    expect(receivedFor(rx, 'edge-1')).toEqual(expected);
    const s = hub.remoteWrite.status()[0]!;
    expect(s).toMatchObject({ sent: good, failed: badCount, retries: 0 });
    expect(s.lastError).toContain('HTTP 400');
    expect(s.lastError).toContain('out of order sample for series brand.new.metric');
    expect(s.lastError).toContain('edgewatch_uncatalogued_value');
  });

  it('keeps the backlog in SQLite while the receiver is down, then drains it in commit order', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    const hub = await hubWith(newDataDir(), [destination(url, { batchSamples: 50 })]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 120_000, 60));
    const total = storedCount(hub, 'edge-1');
    await until('failed attempts', () => hub.remoteWrite.status()[0]!.retries >= 2);
    let s = hub.remoteWrite.status()[0]!;
    expect(s).toMatchObject({ sent: 0, pending: total, failed: 0 });
    expect(s.lastError).toContain(`cannot reach ${url}`);
    // In the outbox table, one row per batch (10 samples each).
    expect(hub.store.remoteWriteQueue!.size().rows).toBe(6);

    const rx = await Receiver.start(port);
    cleanups.push(() => rx.close());
    await until('the backlog at the receiver', () => rx.acceptedCount() >= total);
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
    // In commit order: each request's samples all come after the previous request's.
    let prevMax = -Infinity;
    for (const r of rx.requests) {
      const times = r.series.flatMap((x) => x.samples.map((p) => p.timestamp));
      expect(Math.min(...times)).toBeGreaterThanOrEqual(prevMax);
      prevMax = Math.max(...times);
      expect(times.length).toBeLessThanOrEqual(50);
    }
    await until('the queue to drain', () => hub.remoteWrite.status()[0]!.pending === 0);
    s = hub.remoteWrite.status()[0]!;
    expect(s).toMatchObject({ sent: total, pending: 0, failed: 0, lagSeconds: 0 });
    // Accepted by every destination: deleted from the outbox.
    await until('the outbox to empty', () => hub.store.remoteWriteQueue!.size().rows === 0);
  });

  it('shows each destination on /healthz and /metrics: pending, retries, the last error and the lag while the receiver is down', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    const hub = await hubWith(newDataDir(), [destination(url, { name: 'vm-site-a' })]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 30_000, 20));
    const total = storedCount(hub, 'edge-1');
    await until('a failed attempt', () => hub.remoteWrite.status()[0]!.retries >= 1);
    // The lag is how long the oldest queued batch has waited: it grows while nothing is sent.
    await until('the lag to grow', () => hub.remoteWrite.status()[0]!.lagSeconds >= 0.5);
    const health = (await (await fetch(`http://127.0.0.1:${hub.port}/healthz`)).json()) as { ok: boolean; remoteWrite: RemoteWriteStatus[] };
    // A receiver that is down is not the hub's health: it still stores everything.
    expect(health.ok).toBe(true);
    expect(health.remoteWrite).toEqual([expect.objectContaining({ name: 'vm-site-a', url, sent: 0, pending: total, lastError: expect.stringContaining(`cannot reach ${url}`) })]);
    const metrics = await (await fetch(`http://127.0.0.1:${hub.port}/metrics`)).text();
    const labels = `{destination="vm-site-a",url="${url}"}`;
    expect(metrics).toContain(`edgewatch_remote_storage_samples_pending${labels} ${total}\n`);
    expect(metrics).toContain(`edgewatch_remote_storage_samples_total${labels} 0\n`);
    expect(metrics).toMatch(new RegExp(`edgewatch_remote_storage_retries_total\\{destination="vm-site-a"[^}]*\\} [1-9]`));
    expect(metrics).toMatch(/edgewatch_remote_storage_last_error_timestamp_seconds\{destination="vm-site-a"[^}]*\} \d/);

    const rx = await Receiver.start(port);
    cleanups.push(() => rx.close());
    await until('the queue to drain', () => hub.remoteWrite.status()[0]!.pending === 0, 10_000);
    const after = await (await fetch(`http://127.0.0.1:${hub.port}/metrics`)).text();
    expect(after).toContain(`edgewatch_remote_storage_samples_pending${labels} 0\n`);
    expect(after).toContain(`edgewatch_remote_storage_samples_total${labels} ${total}\n`);
    expect(after).toContain(`edgewatch_remote_storage_lag_seconds${labels} 0\n`);
  });

  it('resumes from its cursor after a restart on the same data: the rest arrives, nothing twice', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    const dir = newDataDir();
    let hub = await hubWith(dir, [destination(rx.url)]);
    let a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 120_000, 20));
    const first = storedCount(hub, 'edge-1');
    await until('the first part at the receiver', () => rx.acceptedCount() >= first);
    await until('the cursor to be saved', () => hub.remoteWrite.status()[0]!.pending === 0);
    // The receiver goes away for the second part: it stays queued through the restart.
    rx.answer = () => ({ status: 503, body: 'down for maintenance' });
    await a.send(samplesFrom(NOW - 100_000, 20, 3));
    await until('a failed attempt', () => hub.remoteWrite.status()[0]!.retries >= 1);
    a.close();
    await hub.close();

    rx.answer = () => ({ status: 200 });
    hub = await hubWith(dir, [destination(rx.url)]);
    const total = storedCount(hub, 'edge-1');
    expect(total).toBe(first * 2);
    await until('the rest at the receiver', () => rx.acceptedCount() >= total);
    await until('the queue to drain', () => hub.remoteWrite.status()[0]!.pending === 0);
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
    expect(rx.acceptedCount()).toBe(total);
    expect(hub.remoteWrite.status()[0]).toMatchObject({ sent: total - first, failed: 0, pending: 0 });
    // New batches after the restart go out too.
    a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 80_000, 10, 4));
    await until('the new batches', () => rx.acceptedCount() >= storedCount(hub, 'edge-1'));
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
  });

  it('caps the queue of a receiver that never answers: the oldest go, counted as failed with "queue full"', async () => {
    const port = await closedPort();
    // Slow retries: after its first failure the sender sleeps, so the cap's message stays the last error.
    const dest = destination(`http://127.0.0.1:${port}/w`, { minBackoffMs: 5000, maxBackoffMs: 5000 });
    const hub = await hubWith(newDataDir(), [dest], { remoteWriteQueue: { maxBytes: 1500, checkEveryMs: 50 } });
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 120_000, 60));
    await until('a failed attempt and a drop', () => hub.remoteWrite.status()[0]!.retries >= 1 && hub.remoteWrite.status()[0]!.failed > 0);
    const before = hub.remoteWrite.status()[0]!.failed;
    await a.send(samplesFrom(NOW - 60_000, 30, 2));
    // Checked every 50 ms: what is left fits the cap, two rows (10 samples × 6 values each,
    // about 650 bytes packed).
    await until('another drop, down to the cap', () => hub.remoteWrite.status()[0]!.failed > before && hub.remoteWrite.status()[0]!.pending <= 2 * 60);
    const total = storedCount(hub, 'edge-1');
    const s = hub.remoteWrite.status()[0]!;
    expect(s.lastError).toMatch(/^queue full: dropped \d+ queued samples not yet accepted by rx/);
    expect(s.failed + s.pending).toBe(total);
    expect(s.pending).toBeGreaterThan(0);
  });

  it('sends to several destinations, each with its own filters, device name label and cursor', async () => {
    const all = await Receiver.start();
    const some = await Receiver.start();
    cleanups.push(() => all.close(), () => some.close());
    const filtered = destination(some.url, { name: 'cpu-only', include: ['cpu.*'], exclude: ['cpu.freq'], devices: ['edge-1'], nameLabel: true });
    const hub = await hubWith(newDataDir(), [destination(all.url, { name: 'all' }), filtered]);
    const one = await agent(hub, 'edge-1');
    const two = await agent(hub, 'edge-2');
    await one.send(samplesFrom(NOW - 30_000, 20));
    await two.send(samplesFrom(NOW - 30_000, 20, 5));
    const total = storedCount(hub, 'edge-1', 'edge-2');
    await until('everything at the first', () => all.acceptedCount() >= total);
    await until('both caught up', () => hub.remoteWrite.status().every((x) => x.pending === 0));
    expect(receivedFor(all, 'edge-2')).toEqual(stored(hub, 'edge-2'));
    const cpu = hub.store.rawSamples(hub.store.getDevice('edge-1')!.num, ['cpu.util'], 0, Number.MAX_SAFE_INTEGER)['cpu.util']!;
    expect([...some.accepted()]).toEqual([
      [JSON.stringify(seriesLabels('cpu.util', 'edge-1', 'device edge-1')), cpu.map(([t, v]) => [t, metricSeries('cpu.util').convert(v)])],
    ]);
    expect(hub.remoteWrite.status().map((x) => [x.name, x.sent, x.failed])).toEqual([
      ['all', total, 0],
      ['cpu-only', cpu.length, 0],
    ]);
    await until('the outbox to empty', () => hub.store.remoteWriteQueue!.size().rows === 0);
  });

  it('catches up a backlog no faster than maxSamplesPerSecond', async () => {
    const port = await closedPort();
    const hub = await hubWith(newDataDir(), [destination(`http://127.0.0.1:${port}/api/v1/write`, { batchSamples: 100, maxSamplesPerSecond: 400 })]);
    const a = await agent(hub, 'edge-1');
    await a.send(samplesFrom(NOW - 300_000, 200));
    const total = storedCount(hub, 'edge-1');
    expect(total).toBe(1200);
    const rx = await Receiver.start(port);
    cleanups.push(() => rx.close());
    await until('the backlog at the receiver', () => rx.acceptedCount() >= total, 8000);
    // The first request (100) was paid for before the receiver came back; after it a one-second
    // burst (400), then 400 a second: the last 700 take at least 1.75 s.
    const accepted = rx.requests.filter((r) => r.status === 200);
    expect(accepted.at(-1)!.at - accepted[0]!.at).toBeGreaterThanOrEqual(1700);
    expect(receivedFor(rx, 'edge-1')).toEqual(stored(hub, 'edge-1'));
  });

  it('refuses a bad destination at start, naming it and never echoing a secret', async () => {
    await expect(
      startHub({ port: 0, host: '127.0.0.1', dataDir: newDataDir(), log: silentLogger(), remoteWrite: [{ url: 'ftp://x', bearerToken: 's3cret-token' }, { url: 'http://a:9090/w', extra: 1 } as RemoteWriteConfig] }),
    ).rejects.toThrow(/remoteWrite\[0\]\.url: an http:\/\/ or https:\/\/ URL[\s\S]*remoteWrite\[1\]/);
    await expect(
      startHub({ port: 0, host: '127.0.0.1', dataDir: newDataDir(), log: silentLogger(), remoteWrite: [{ url: 'http://u:p4ss@a:9090/w', bearerToken: 's3cret-token' }] }),
    ).rejects.toThrow(expect.objectContaining({ message: expect.not.stringMatching(/s3cret|p4ss/) }));
  });
});
