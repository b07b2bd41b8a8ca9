// Store-and-forward end to end, in process: a real agent (startAgent, disk spool) streams to a
// real hub (startHub on 127.0.0.1). The hub goes away while the agent keeps sampling, then the
// agent is stopped too; the agent comes back first (same state dir), then the hub (same data
// dir, same port). Every batch the agent ever made must be committed exactly once, with no gap.
import Database from 'better-sqlite3';
import { Store } from '../../dashboard/store/store.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import type { Collector } from '../../agent/collectors/collector.js';
import { DiskSpool } from '../../agent/transport/disk-spool.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const INTERVAL_MS = 500;
const DEVICE = 'spool-restart';

describe('agent restart with a backlog on disk', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('commits every batch from before, during and after the outage exactly once, with no gap', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const hubDir = join(tmp.dir, 'hub');
    const stateDir = join(tmp.dir, 'agent');

    // Each sample carries a counter that runs on across both agent runs: what the hub must hold.
    const sampled: number[] = [];
    const counter: Collector = { name: 'counter', sample: (_now, out) => void sampled.push((out['test.n'] = sampled.length + 1)) };
    const agentAt = (url: string) =>
      startAgent({
        hubUrl: url,
        intervalMs: INTERVAL_MS,
        stateDir,
        deviceId: DEVICE,
        collectors: [{ name: 'counter', detect: async () => counter }],
        processIntervalMs: 0,
        inferencePort: null,
        skipInventory: true,
        log: silentLogger(),
      });
    const hubAt = (port: number) => startHub({ port, host: '127.0.0.1', dataDir: hubDir, log: silentLogger() });

    let hub: Hub | null = await hubAt(0);
    const port = hub.port;
    cleanups.push(() => hub?.close());
    let agent: RunningAgent | null = await agentAt(hub.agentUrl);
    cleanups.push(() => agent?.stop());
    expect(agent.spool).toBeInstanceOf(DiskSpool);

    await eventually('two batches committed', () => (hub!.store.getDevice(DEVICE)?.lastSeq ?? 0) >= 2, 10_000, 50);

    // The hub goes away; the agent keeps sampling into its spool.
    await hub.close();
    hub = null;
    await eventually('four batches spooled while the hub is down', () => agent!.spool.batchCount >= 4, 10_000, 50);
    const outageStart = sampled.length;

    // The agent stops too (a reboot), with its backlog on disk.
    await agent.stop();
    const backlogAtStop = agent.spool.batchCount;
    agent = null;

    agent = await agentAt(`ws://127.0.0.1:${port}/ws/agent`);
    const reloaded = (agent.spool as DiskSpool).reloaded;
    expect(reloaded).toBe(backlogAtStop);
    // The new run samples for a while with no hub.
    await eventually('two new batches spooled', () => agent!.spool.batchCount >= reloaded + 2, 10_000, 50);

    const hubBackAt = Date.now();
    hub = await hubAt(port);
    await eventually('the spool to drain', () => agent!.connection.connected && agent!.spool.batchCount === 0, 20_000, 50);
    // A few live batches after the drain.
    const drained = sampled.length;
    await eventually('two more live batches', () => sampled.length >= drained + 2 && agent!.spool.batchCount === 0, 10_000, 50);
    await agent.stop();
    const backfilled = agent.connection.stats.backfilled;
    agent = null;
    await hub.close();
    hub = null;

    const db = new Database(join(hubDir, 'edgewatch.db'), { readonly: true, fileMustExist: true });
    try {
      const num = db.prepare('SELECT num FROM devices WHERE id = ?').pluck().get(DEVICE) as number;
      const batches = db.prepare('SELECT seq, received_at AS receivedAt, n_samples AS n FROM batches WHERE device_num = ? ORDER BY seq').all(num) as {
        seq: number;
        receivedAt: number;
        n: number;
      }[];
      const history = Store.open(hubDir);
      const values = (history.rawSamples(num, ['test.n'], 0, Number.MAX_SAFE_INTEGER)['test.n'] ?? []).map(([, v]) => v).sort((a, b) => a - b);
      history.close();

      // Every sample the agent took is stored, once: no gap, no duplicate.
      expect(values).toEqual(sampled);
      expect(values).toEqual(Array.from({ length: sampled.length }, (_, i) => i + 1));
      expect(batches.every((b) => b.n === 1)).toBe(true);
      expect(batches).toHaveLength(sampled.length);

      // Sequence numbers: the first run's 1…a, then the second run's block (AgentState reserves
      // 10 000 at a time and a restart starts the next block), each without a gap.
      const seqs = batches.map((b) => b.seq);
      const firstRun = seqs.filter((s) => s < 10_001);
      const secondRun = seqs.filter((s) => s >= 10_001);
      expect(firstRun).toEqual(Array.from({ length: firstRun.length }, (_, i) => i + 1));
      expect(secondRun).toEqual(Array.from({ length: secondRun.length }, (_, i) => 10_001 + i));
      expect(firstRun.length).toBeGreaterThan(outageStart - 1);

      // The first run's backlog reached the hub only after it came back: it was sent from disk.
      const lateFirstRun = batches.filter((b) => b.seq < 10_001 && b.receivedAt >= hubBackAt);
      expect(lateFirstRun).toHaveLength(reloaded);
      expect(backfilled).toBeGreaterThanOrEqual(reloaded);
    } finally {
      db.close();
    }
  }, 60_000);
});
