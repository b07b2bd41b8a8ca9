// Process tables through a real hub on 127.0.0.1 (temp SQLite file): an agent peer sends a
// batch carrying `p`; the REST endpoint serves it, live viewers receive it, device summaries
// do not carry it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../../agent/agent.js';
import { loadCollector } from '../../agent/collectors/load.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { DeviceSummary, ProcessesResponse } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, ProcessTableSchema, type ProcessTable } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { eventually } from '../helpers/processes.js';
import { TestPeer } from '../helpers/ws-client.js';

const TABLE: ProcessTable = {
  total: 187,
  rows: [
    { pid: 3120, name: 'python3', cmd: 'python3 -m vllm.entrypoints.api_server --model llama', user: 'ml', cpu: 187.25, rss: 6_442_450_944, readBps: 0, writeBps: 4096, gpuMem: 42_949_672_960, threads: 57 },
    { pid: 1, name: 'systemd', cmd: '/sbin/init', user: 'root', cpu: 0.2, rss: 12_582_912, threads: 1 },
    { pid: 2, name: 'kthreadd', cmd: '[kthreadd]', user: 'root', cpu: 0, rss: 0, threads: 1 },
  ],
};

describe('process table API and live feed', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  let agent: TestPeer;
  let viewer: TestPeer;
  const t1 = 1_790_000_000_000;
  const t2 = t1 + 5000;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    base = `${hub.url}/api/v1`;
    viewer = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/live`);
    await viewer.waitFor((f) => f.type === 'snapshot');
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(helloFrame('edge-1', { capabilities: ['cpu', 'processes'] }));
    await agent.waitFor((f) => f.type === 'welcome');
    agent.send({
      type: 'batch',
      v: PROTOCOL_VERSION,
      seq: 1,
      samples: [
        { t: t1, m: { 'cpu.util': 50, 'procs.count': 186, 'procs.running': 3 }, p: { ...TABLE, total: 186 } },
        { t: t1 + 1000, m: { 'cpu.util': 51 } },
        { t: t2, m: { 'cpu.util': 52, 'procs.count': 187, 'procs.running': 2 }, p: TABLE },
      ],
    });
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
  });
  afterAll(async () => {
    agent.close();
    viewer.close();
    await hub.close();
    tmp.remove();
  });

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json() };
  };

  it('serves the newest table, and the one at or before ?at=', async () => {
    expect(await get('/devices/edge-1/processes')).toEqual({ status: 200, body: { deviceId: 'edge-1', t: t2, table: TABLE } satisfies ProcessesResponse });
    expect(await get(`/devices/edge-1/processes?at=${t2 - 1}`)).toEqual({
      status: 200,
      body: { deviceId: 'edge-1', t: t1, table: { ...TABLE, total: 186 } } satisfies ProcessesResponse,
    });
    expect(await get(`/devices/edge-1/processes?at=${t2}`)).toMatchObject({ body: { t: t2 } });
    expect(await get(`/devices/edge-1/processes?at=${t1 - 1}`)).toEqual({ status: 200, body: { deviceId: 'edge-1', t: null, table: null } });
  });

  it('answers a known device without tables with nulls', async () => {
    const other = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    other.send(helloFrame('edge-plain'));
    await other.waitFor((f) => f.type === 'welcome');
    other.close();
    expect(await get('/devices/edge-plain/processes')).toEqual({ status: 200, body: { deviceId: 'edge-plain', t: null, table: null } });
  });

  it('answers 404 for an unknown device and 400 for a bad at', async () => {
    const missing = await get('/devices/nope/processes');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: string }).error).toMatch(/no device with id "nope"/);
    for (const at of ['abc', '1.5', '-5', '99999999999999999999', '']) {
      const res = await get(`/devices/edge-1/processes?at=${at}`);
      if (at === '') expect(res.status).toBe(200); // empty means "not given"
      else {
        expect(res.status, `at=${at}`).toBe(400);
        expect((res.body as { error: string }).error).toMatch(/\bat\b/);
      }
    }
  });

  it('streams p to live viewers with the samples', async () => {
    const frame = await viewer.waitFor((f) => f.type === 'samples' && f.deviceId === 'edge-1');
    const samples = frame.samples as { t: number; p?: ProcessTable }[];
    expect(samples.map((s) => s.t)).toEqual([t1, t1 + 1000, t2]);
    expect(samples[2]!.p).toEqual(TABLE);
    expect(samples[1]).not.toHaveProperty('p');
  });

  it('keeps the table out of device summaries (REST and live)', async () => {
    const { devices } = (await (await fetch(`${base}/devices`)).json()) as { devices: DeviceSummary[] };
    const summary = devices.find((d) => d.id === 'edge-1')!;
    expect(summary.latest).toEqual({ t: t2, m: { 'cpu.util': 52, 'procs.count': 187, 'procs.running': 2 } });
    expect(summary.capabilities).toContain('processes');

    const late = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/live`);
    const snapshot = await late.waitFor((f) => f.type === 'snapshot');
    const live = (snapshot.devices as DeviceSummary[]).find((d) => d.id === 'edge-1')!;
    expect(live.latest).not.toHaveProperty('p');
    late.close();
  });

  it('gets tables from a real agent reading this machine\'s /proc', async () => {
    const running = await startAgent({
      hubUrl: hub.agentUrl,
      intervalMs: 500,
      processIntervalMs: 1000,
      topProcesses: 3,
      inferencePort: null,
      stateDir: `${tmp.dir}/agent-state`,
      deviceId: 'real-agent',
      collectors: [loadCollector],
      skipInventory: true,
      log: silentLogger(),
    });
    try {
      const body = await eventually('a process table from the real agent', async () => {
        const res = (await get('/devices/real-agent/processes')).body as ProcessesResponse;
        return res.table ? res : null;
      });
      expect(body.table!.total).toBeGreaterThan(1);
      // Top 3 by CPU ∪ top 3 by memory.
      expect(body.table!.rows.length).toBeGreaterThanOrEqual(3);
      expect(body.table!.rows.length).toBeLessThanOrEqual(6);
      expect(ProcessTableSchema.safeParse(body.table).success).toBe(true);
      const cpus = body.table!.rows.map((r) => r.cpu);
      expect(cpus).toEqual([...cpus].sort((a, b) => b - a));
      const device = hub.store.getDevice('real-agent')!;
      expect(device.capabilities).toEqual(['load', 'processes']);
      expect(hub.store.metricNames(device.num)).toEqual(expect.arrayContaining(['load.1', 'procs.count', 'procs.running']));
    } finally {
      await running.stop();
    }
  });
});
