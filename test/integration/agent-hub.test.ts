// Real processes end to end: `edgewatch hub` and `edgewatch agent` on 127.0.0.1 with a temp
// data directory. Samples reach SQLite and a live browser socket; the hub is killed -9 and
// restarted; the agent reconnects, resends what was not acked, and history has no gap.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceSummary, SeriesResponse } from '../../shared/live.js';
import { eventually, freePort, getJson, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const INTERVAL_MS = 500;

describe('agent → hub → SQLite → browser, with real processes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let port: number;
  let hub: CliProcess;
  let agent: CliProcess;
  let base: string;
  const startedAt = Date.now();

  const startHubProcess = () => spawnCli(['hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', tmp.dir]);
  const health = () => getJson<{ ok: boolean; agentsOnline: number }>(`${base}/healthz`);

  beforeAll(async () => {
    tmp = tempDir();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    hub = startHubProcess();
    await eventually('hub /healthz', async () => (await health()).ok);
    agent = spawnCli(['agent', '--hub', `ws://127.0.0.1:${port}`, '--interval', String(INTERVAL_MS), '--state-dir', join(tmp.dir, 'agent-state'), '--name', 'itest-device']);
  });

  afterAll(async () => {
    await agent?.kill();
    await hub?.kill();
    tmp?.remove();
  });

  const device = async (): Promise<DeviceSummary | undefined> =>
    (await getJson<{ devices: DeviceSummary[] }>(`${base}/api/v1/devices`)).devices.find((d) => d.name === 'itest-device');

  it('registers the device with its inventory and capabilities', async () => {
    const dev = await eventually('the agent to register', device);
    expect(dev.online).toBe(true);
    expect(dev.capabilities).toEqual(expect.arrayContaining(['cpu', 'memory', 'load']));
    expect(dev.inventory.os?.platform).toBe('linux');
    expect(dev.intervalMs).toBe(INTERVAL_MS);
  });

  it('streams samples to a live browser socket within seconds', async () => {
    const viewer = await TestPeer.connect(`ws://127.0.0.1:${port}/ws/live`);
    const frame = await viewer.waitFor((f) => f.type === 'samples' && JSON.stringify(f.samples).includes('cpu.util'), 10_000);
    const sample = (frame.samples as { t: number; m: Record<string, number> }[])[0]!;
    expect(Math.abs(sample.t - Date.now())).toBeLessThan(10_000);
    expect(sample.m['mem.total']).toBeGreaterThan(0);
    expect(sample.m['cpu.util']).toBeGreaterThanOrEqual(0);
    expect(sample.m['cpu.util']).toBeLessThanOrEqual(100);
    viewer.close();
  });

  it('keeps every sample in SQLite', async () => {
    const db = new Database(join(tmp.dir, 'edgewatch.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = await eventually('samples in SQLite', () => {
        const n = db.prepare('SELECT COUNT(*) FROM raw_head').pluck().get() as number;
        return n >= 3 ? n : undefined;
      });
      expect(rows).toBeGreaterThanOrEqual(3);
    } finally {
      db.close();
    }
  });

  it('survives kill -9 of the hub: the agent reconnects, resends what was not acked, and history has no gap', async () => {
    const dev = (await device())!;
    await hub.kill('SIGKILL');
    const downAt = Date.now();
    // The agent keeps sampling into its buffer while the hub is gone.
    await new Promise((r) => setTimeout(r, 3000));
    hub = startHubProcess();
    await eventually('the agent to reconnect', async () => (await health()).agentsOnline === 1, 30_000);
    const upAt = Date.now();
    // Let the backlog drain and a few live samples land.
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS + 500));

    const series = await getJson<SeriesResponse>(`${base}/api/v1/devices/${dev.id}/series?metrics=mem.used&from=${startedAt}&to=${Date.now()}&points=5000`);
    const times = series.series['mem.used']!.map(([t]) => t);
    expect(series.stepMs).toBe(0);
    expect(times.some((t) => t > downAt && t < upAt)).toBe(true); // samples taken while the hub was down
    expect(times.some((t) => t > upAt)).toBe(true);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Ticks are 500 ms apart on a monotonic grid; allow for a skipped tick on a busy machine.
    expect(Math.max(...gaps)).toBeLessThan(3 * INTERVAL_MS);
    expect(new Set(times).size).toBe(times.length);
    expect(agent.output()).toMatch(/connected to hub/);
  }, 60_000);
});
