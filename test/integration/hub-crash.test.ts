// Crash safety with real processes: five agents stream to a hub; the hub is killed -9 in the
// middle of ingest and restarted on the same port and data directory; the agents (still up,
// holding what was not acked) reconnect and resend. In the SQLite file afterwards, every
// device's committed sequence numbers are gap-free and unique, and every sample is there once.
import Database from 'better-sqlite3';
import { Store } from '../../dashboard/store/store.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort, getJson, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const AGENTS = 5;
const INTERVAL_MS = 500;

describe('hub crash (kill -9) with 5 agents streaming', () => {
  const tmp = tempDir('edgewatch-crash-');
  let hub: CliProcess | undefined;
  const agents: CliProcess[] = [];

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill()));
    await hub?.kill('SIGKILL');
    tmp.remove();
  });

  it('loses nothing and stores nothing twice', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const startHub = () => spawnCli(['hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', tmp.dir]);
    const health = () => getJson<{ ok: boolean; agentsOnline: number; committedBatches: number }>(`${base}/healthz`);
    const dump = () => `hub:\n${hub?.output().slice(-3000)}\nagent 0:\n${agents[0]?.output().slice(-3000)}`;

    hub = startHub();
    await eventually('hub /healthz', async () => (await health()).ok, 20_000);
    for (let i = 0; i < AGENTS; i++) {
      agents.push(
        spawnCli([
          'agent',
          '--hub', `ws://127.0.0.1:${port}`,
          '--interval', `${INTERVAL_MS}ms`,
          '--inference-port', '0',
          '--process-interval', '0',
          '--state-dir', join(tmp.dir, `agent-${i}`),
          '--name', `crash-${i}`,
        ]),
      );
    }
    await eventually('all agents online', async () => (await health()).agentsOnline === AGENTS, 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${dump()}`);
    });
    // Let them ingest for a while, then kill the hub in the middle of it.
    await eventually('some batches committed by every agent', async () => (await health()).committedBatches >= AGENTS * 4, 20_000);
    await hub.kill('SIGKILL');
    // The agents keep sampling (and buffering) while the hub is down.
    await new Promise((r) => setTimeout(r, 2500));
    hub = startHub();
    await eventually('the agents to reconnect to the restarted hub', async () => (await health()).agentsOnline === AGENTS, 45_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${dump()}`);
    });
    // Let backlogs drain and a few live batches land, then stop the agents (they may leave
    // unacked batches behind: those are simply not committed, which the checks allow).
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS + 1000));
    await Promise.all(agents.map((a) => a.kill()));
    await hub.kill();

    const db = new Database(join(tmp.dir, 'edgewatch.db'), { readonly: true, fileMustExist: true });
    // Sample values are compressed: read them through the store, the rest with plain SQL.
    const history = Store.open(tmp.dir);
    try {
      const devices = db.prepare(`SELECT num, name FROM devices WHERE name LIKE 'crash-%' ORDER BY name`).all() as { num: number; name: string }[];
      expect(devices.map((d) => d.name)).toEqual(Array.from({ length: AGENTS }, (_, i) => `crash-${i}`));
      const memUsed = db.prepare(`SELECT id FROM metric_names WHERE name = 'mem.used'`).pluck().get() as number;
      expect(memUsed).toBeDefined();
      const restartedAt = db.prepare('SELECT MAX(received_at) FROM batches').pluck().get() as number;
      for (const d of devices) {
        const seqs = db.prepare('SELECT seq FROM batches WHERE device_num = ? ORDER BY seq').pluck().all(d.num) as number[];
        // Gap-free and unique: seq 1, 2, …, n.
        expect(seqs.length, d.name).toBeGreaterThan(6);
        expect(seqs, d.name).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect(new Set(seqs).size).toBe(seqs.length);

        // Exact counts: every committed sample is stored once, none twice, none missing.
        const { batchSamples } = db.prepare('SELECT SUM(n_samples) AS batchSamples FROM batches WHERE device_num = ?').get(d.num) as { batchSamples: number };
        const memory = history.rawSamples(d.num, ['mem.used'], 0, Number.MAX_SAFE_INTEGER)['mem.used'] ?? [];
        const times = memory.map(([t]) => t);
        expect(times.length, d.name).toBe(batchSamples);
        expect(new Set(times).size, d.name).toBe(times.length);
        // The sample times of consecutive batches follow one another without a hole around the
        // crash: no gap between batches larger than a few ticks.
        const spans = db.prepare('SELECT t_first, t_last FROM batches WHERE device_num = ? ORDER BY seq').all(d.num) as { t_first: number; t_last: number }[];
        for (let i = 1; i < spans.length; i++) expect(spans[i]!.t_first - spans[i - 1]!.t_last, `${d.name} seq ${i + 1}`).toBeLessThan(4 * INTERVAL_MS);
        // Agent clocks are the hub's here: nothing was corrected, and the send time was recorded.
        const sent = db.prepare('SELECT COUNT(*) FROM batches WHERE device_num = ? AND sent_at IS NOT NULL AND t_correction = 0').pluck().get(d.num) as number;
        expect(sent).toBe(seqs.length);
      }
      expect(restartedAt).toBeGreaterThan(0);
    } finally {
      history.close();
      db.close();
    }
  }, 150_000);
});
