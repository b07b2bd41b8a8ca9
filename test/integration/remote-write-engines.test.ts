// Remote write into the engines fleets run, for real: two standalone agents → `edgewatch hub
// --remote-write` (its own process) → a real Prometheus 2.42 and a real VictoriaMetrics 1.79 on
// 127.0.0.1. Then both receivers go down while the agents keep sending, the hub is killed with
// SIGKILL while its queue holds that backlog, and everything comes back. At the end each engine
// must hold exactly the samples the hub stored: the same series, the same timestamps, the same
// values, none missing and none twice (read back raw, sample by sample, from each engine's API).
//
// Engine settings this relies on, as docs/scaling.md tells operators: Prometheus needs
// `out_of_order_time_window` for samples written behind newer ones (a backfilling agent, a
// backlog after an outage); VictoriaMetrics keeps a resent sample twice unless
// `-dedup.minScrapeInterval` is set (delivery is at least once: a request the receiver took
// just before the hub was killed is sent again).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSeries, seriesLabels } from '../../dashboard/server/remote-write/encode.js';
import { Store } from '../../dashboard/store/store.js';
import type { RemoteWriteStatus } from '../../shared/live.js';
import {
  engineAvailable,
  startPrometheus,
  startVictoriaMetrics,
  seriesCount as seriesCountOf,
  type MatrixSeries,
  type PrometheusEngine,
  type VictoriaMetricsEngine,
} from '../helpers/engines.js';
import { PROTOCOL_VERSION, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { TestPeer } from '../helpers/ws-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const DEVICES = ['rw-a', 'rw-b'];
const HAVE_ENGINES = engineAvailable('prometheus') && engineAvailable('victoria-metrics');

/** series (labels as sorted JSON) → [t, v] in time order. */
type SeriesMap = Map<string, [number, number][]>;

function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sorted(map: SeriesMap): SeriesMap {
  for (const list of map.values()) list.sort((a, b) => a[0] - b[0]);
  return new Map([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe.skipIf(!HAVE_ENGINES)('remote write into a real Prometheus and a real VictoriaMetrics', () => {
  let tmp: ReturnType<typeof tempDir>;
  let prom: PrometheusEngine;
  let vm: VictoriaMetricsEngine;
  let hub: CliProcess | undefined;
  let hubPort = 0;
  const agents: ChildProcess[] = [];

  function startHub(): CliProcess {
    return spawnCli(
      ['hub', '--no-auth', '--host', '127.0.0.1', '--port', String(hubPort), '--data', join(tmp.dir, 'hub'), '--remote-write', prom.remoteWriteUrl, '--remote-write', vm.remoteWriteUrl],
      { EDGEWATCH_LOG_LEVEL: 'info' },
    );
  }

  async function health(): Promise<{ remoteWrite: RemoteWriteStatus[] }> {
    const res = await fetch(`http://127.0.0.1:${hubPort}/healthz`);
    return (await res.json()) as { remoteWrite: RemoteWriteStatus[] };
  }

  async function hubUp(): Promise<void> {
    await eventually('the hub answering /healthz', async () => (await fetch(`http://127.0.0.1:${hubPort}/healthz`)).ok, 20_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${hub?.output().slice(-3000)}`);
    });
  }

  async function drained(timeoutMs = 60_000): Promise<void> {
    await eventually(
      'both destinations caught up',
      async () => {
        const h = await health();
        return h.remoteWrite.length === 2 && h.remoteWrite.every((d) => d.pending === 0) ? h : undefined;
      },
      timeoutMs,
      250,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await health()).remoteWrite)}\n${hub?.output().slice(-3000)}`);
    });
  }

  /** What the hub stored, as the engines should have it: Prometheus names and labels, base-unit values. */
  function storedSeries(): SeriesMap {
    const store = Store.open(join(tmp.dir, 'hub'));
    try {
      const out: SeriesMap = new Map();
      for (const id of DEVICES) {
        const device = store.getDevice(id);
        if (!device) throw new Error(`the hub never stored device ${id}`);
        const raw = store.rawSamples(device.num, store.metricNames(device.num), 0, Number.MAX_SAFE_INTEGER);
        for (const [metric, points] of Object.entries(raw)) {
          const labels = Object.fromEntries(seriesLabels(metric, id).map((l) => [l.name, l.value]));
          out.set(keyOf(labels), points.map(([t, v]) => [t, metricSeries(metric).convert(v)]));
        }
      }
      return sorted(out);
    } finally {
      store.close();
    }
  }

  /** Every raw sample Prometheus holds for the devices: a range selector returns samples, not evaluated steps. */
  async function prometheusSeries(): Promise<SeriesMap> {
    const out: SeriesMap = new Map();
    for (const id of DEVICES) {
      const result = await prom.query(`{device="${id}"}[1d]`);
      expect(result.resultType).toBe('matrix');
      for (const s of result.result as MatrixSeries[]) out.set(keyOf(s.metric), s.values.map(([t, v]) => [Math.round(Number(t) * 1000), Number(v)]));
    }
    return sorted(out);
  }

  async function victoriaSeries(): Promise<SeriesMap> {
    const out: SeriesMap = new Map();
    for (const id of DEVICES) {
      // Explicit range: an export ends at "now" by default, and the newest sample may carry a device time a hair ahead.
      for (const s of await vm.export(`{device="${id}"}`, { flush: true, start: 0, end: Date.now() + 3_600_000 })) {
        out.set(keyOf(s.metric), s.timestamps.map((t, k) => [t, s.values[k]!]));
      }
    }
    return sorted(out);
  }

  function startAgent(id: string): ChildProcess {
    const child = spawn(
      process.execPath,
      [AGENT, '--hub', `ws://127.0.0.1:${hubPort}/ws/agent`, '--id', id, '--name', id, '--interval', '500ms', '--state-dir', join(tmp.dir, id), '--process-interval', '0', '--inference-port', '0'],
      { env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' }, stdio: 'ignore' },
    );
    agents.push(child);
    return child;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-rw-engines-');
    // A backlog after an outage lands behind newer samples of other series, and a backfilling
    // agent sends old samples after new ones: Prometheus takes them within this window.
    prom = await startPrometheus({ outOfOrderWindow: '2h' });
    vm = await startVictoriaMetrics({ dedup: '1ms' });
    hubPort = await freePort();
    hub = startHub();
    await hubUp();
  }, 90_000);

  afterAll(async () => {
    for (const a of agents) a.kill('SIGKILL');
    await hub?.kill();
    await prom?.close();
    await vm?.close();
    tmp?.remove();
  }, 60_000);

  it('holds every sample the hub stored, through a receiver outage and a hub kill -9', async () => {
    for (const id of DEVICES) startAgent(id);
    await eventually('samples from both agents reaching the engines', async () => (await health()).remoteWrite.every((d) => d.sent > 200), 30_000, 250);

    // Both receivers down; the agents keep sampling, the hub keeps committing and queueing.
    await Promise.all([prom.stop(), vm.stop()]);
    await eventually('a backlog in the queue', async () => (await health()).remoteWrite.every((d) => d.pending > 200 && d.lastError !== null), 20_000, 250);
    // The hub dies holding that backlog (nothing flushed, nothing said), and comes back.
    hub!.child.kill('SIGKILL');
    await hub!.exited;
    await new Promise((r) => setTimeout(r, 1500)); // agents spool meanwhile
    hub = startHub();
    await hubUp();
    const after = await health();
    expect(after.remoteWrite.every((d) => d.pending > 0)).toBe(true);
    await Promise.all([prom.start(), vm.start()]);
    await new Promise((r) => setTimeout(r, 2000)); // new samples flow while the backlog drains

    // Stop the agents (they send what they still hold), let everything drain, stop the hub.
    for (const a of agents) a.kill('SIGTERM');
    await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));
    await drained();
    const final = await health();
    expect(final.remoteWrite.map((d) => d.failed)).toEqual([0, 0]);
    await hub!.kill('SIGTERM');

    const stored = storedSeries();
    const storedCount = [...stored.values()].reduce((n, l) => n + l.length, 0);
    expect(storedCount).toBeGreaterThan(400);
    const fromProm = await prometheusSeries();
    // VictoriaMetrics makes just-written samples searchable within about a second, flush or not.
    const storedJson = JSON.stringify([...stored]);
    const fromVm = await eventually('VictoriaMetrics to hold every stored sample', async () => {
      const got = await victoriaSeries();
      return JSON.stringify([...got]) === storedJson ? got : undefined;
    }, 10_000, 500).catch(() => victoriaSeries());
    // Series by series, then sample by sample: no gap, no duplicate, same values.
    expect([...fromProm.keys()]).toEqual([...stored.keys()]);
    expect([...fromVm.keys()]).toEqual([...stored.keys()]);
    for (const [key, points] of stored) {
      expect(fromProm.get(key), `Prometheus ${key}`).toEqual(points);
      expect(fromVm.get(key), `VictoriaMetrics ${key}`).toEqual(points);
    }
  }, 180_000);

  it('drops only what Prometheus refuses for good (a sample older than its window; 2.42 says so with a 500), counted with the reason, and sends the rest', async () => {
    hub = startHub();
    await hubUp();
    const peer = await TestPeer.connect(`ws://127.0.0.1:${hubPort}/ws/agent`);
    try {
      peer.send(helloFrame('rw-old'));
      await peer.waitFor((f) => f.type === 'welcome');
      const now = Date.now();
      let seq = 0;
      const batch = async (samples: Sample[]) => {
        const n = ++seq;
        peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq: n, samples, sentAt: Date.now() });
        await peer.waitFor((f) => f.type === 'ack' && f.seq === n);
      };
      await batch([{ t: now - 2000, m: { 'cpu.util': 10, 'mem.used': 1000 } }]);
      // Three hours back: inside no out-of-order window Prometheus has (2 h here), so refused for
      // good; VictoriaMetrics takes it. In the same request as a sample Prometheus accepts.
      await batch([
        { t: now - 3 * 3_600_000, m: { 'load.1': 0.5 } },
        { t: now - 1000, m: { 'cpu.util': 20, 'mem.used': 2000 } },
      ]);
      await batch([{ t: now, m: { 'cpu.util': 30, 'mem.used': 3000 } }]);
      await drained(30_000);
      const [toProm, toVm] = (await health()).remoteWrite;
      expect(toProm!.failed).toBe(1);
      expect(toProm!.lastError).toMatch(/too old sample/);
      expect(toVm!.failed).toBe(0);
      const cpu = await prom.query('edgewatch_cpu_util_ratio{device="rw-old"}[1d]');
      expect((cpu.result as MatrixSeries[])[0]!.values.map(([, v]) => Number(v))).toEqual([0.1, 0.2, 0.3]);
      expect(seriesCountOf(await prom.query('edgewatch_load1{device="rw-old"}[1d]'))).toBe(0);
      expect(await vm.sampleCount('{device="rw-old"}')).toBe(7);
    } finally {
      peer.close();
    }
  }, 60_000);
});
