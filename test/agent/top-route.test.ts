// GET /v1/top on the agent's inference port, against the real receiver on loopback: it hands
// out what the provider holds, takes GET only, and is absent when no provider is wired.
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceAggregator } from '../../agent/inference/aggregator.js';
import { startInferenceReceiver, type InferenceReceiver } from '../../agent/inference/receiver.js';
import { TopLiveState } from '../../agent/top/live.js';
import { fetchAgentSnapshot } from '../../agent/top/source-agent.js';
import { silentLogger } from '../../shared/log.js';

describe('GET /v1/top', () => {
  let receiver: InferenceReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('returns the snapshot without sampling, rejects other methods, and top reads it back', async () => {
    const live = new TopLiveState({ device: { name: 'dev', hostname: 'host' }, agentVersion: '9', intervalMs: 500, processIntervalMs: 1000, capabilities: ['cpu', 'processes'], inventory: {} });
    let calls = 0;
    receiver = await startInferenceReceiver({
      host: '127.0.0.1',
      port: 0,
      log: silentLogger(),
      sink: new InferenceAggregator(),
      top: () => {
        calls++;
        return live.snapshot();
      },
    });
    const base = `http://127.0.0.1:${receiver.port}`;
    const empty = await (await fetch(`${base}/v1/top`)).json();
    expect(empty).toMatchObject({ device: { name: 'dev' }, intervalMs: 500, sample: null, processes: null, experiments: [] });

    live.record({ t: 1000, m: { 'cpu.util': 12.5 }, p: { rows: [{ pid: 1, name: 'init', cmd: '/sbin/init', cpu: 0.1, rss: 4096 }], total: 1 } });
    const answer = await fetchAgentSnapshot(base);
    expect(answer.ok).toBe(true);
    if (answer.ok) {
      expect(answer.snapshot.sample).toEqual({ t: 1000, m: { 'cpu.util': 12.5 } });
      expect(answer.snapshot.processes?.rows[0]?.cmd).toBe('/sbin/init');
    }
    const post = await fetch(`${base}/v1/top`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(calls).toBe(2);
  });

  it('is a 404 where the agent has no top provider, which top reports as an older agent', async () => {
    receiver = await startInferenceReceiver({ host: '127.0.0.1', port: 0, log: silentLogger(), sink: new InferenceAggregator() });
    const answer = await fetchAgentSnapshot(`http://127.0.0.1:${receiver.port}`);
    expect(answer).toEqual({ ok: false, why: `agent at 127.0.0.1:${receiver.port} has no /v1/top (an older version)` });
  });
});
