// The compare page says where an ended run's figures come from, in Chromium against a real hub:
// a recent run read from its stored snapshot ("figures as computed at …"), and a 10-day-old run
// whose raw samples retention (cut to 1 day here) has dropped and that has no snapshot, so its
// power and CPU figures come from the 1-minute rollups, marked approximate, with the hub's note.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ComparisonResponse } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, privateWebRoot } from './harness.js';

const DAY_MS = 86_400_000;
const OLD_T0 = Math.floor((Date.now() - 10 * DAY_MS) / 3_600_000) * 3_600_000;
const NOW_T0 = Math.floor((Date.now() - 300_000) / 60_000) * 60_000;

/** A minute-long run at `t0` + 60 s with samples a second around it and tagged timings. */
function run(id: string, name: string, t0: number, watts: number): Sample[] {
  const samples: Sample[] = [];
  for (let k = 50; k <= 130; k++) samples.push({ t: t0 + k * 1000, m: { 'power.board': watts + (k % 2), 'cpu.util': 30 + (k % 7) } });
  const at = (t: number): Sample => samples.find((s) => s.t === t)!;
  at(t0 + 60_000).e = [{ id, name, start: t0 + 60_000 }];
  for (let t = t0 + 60_000; t < t0 + 120_000; t += 1000) {
    const h = new LogHistogram();
    for (let j = 0; j < 5; j++) h.add(10 + j);
    const s = h.summary();
    (at(t + 1000).i ??= []).push({ model: 'm', t, count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max, items: 5, buckets: s.buckets, experiment: id });
  }
  at(t0 + 120_000).e = [{ id, name, start: t0 + 60_000, end: t0 + 120_000 }];
  return samples;
}

describe.skipIf(!HAVE_BROWSER)('compare page: where the figures come from', () => {
  const tmp = tempDir('edgewatch-compare-snapshot-');
  let hub: Hub;
  let browser: Browser;
  const errors: string[] = [];
  const url = (): string => `${hub.url}/#/compare?ids=x-recent,x-old`;

  beforeAll(async () => {
    const webRoot = await privateWebRoot(tmp.dir);
    hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'data'),
      webRoot,
      log: silentLogger(),
      snapshotDelayMs: 100,
      maintenanceMs: 200,
      store: { retention: { rawMs: DAY_MS } },
    });
    const agent = await TestPeer.connect(hub.agentUrl);
    agent.send(helloFrame('edge-cmp', { capabilities: ['cpu', 'power', 'inference'] }));
    await agent.waitFor((f) => f.type === 'welcome');
    const samples = [...run('x-old', 'baseline-fp32', OLD_T0, 6), ...run('x-recent', 'pruned-int8', NOW_T0, 4), { t: Date.now(), m: { 'power.board': 3 } }];
    for (let seq = 1; samples.length > 0; seq++) {
      agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: samples.splice(0, 40) });
      await agent.waitFor((f) => (f.type === 'ack' && f.seq === seq) || f.type === 'error');
    }
    expect(agent.received.filter((f) => f.type === 'error')).toEqual([]);
    agent.close();
    const num = hub.store.getDevice('edge-cmp')!.num;
    await eventually('the old raw samples to expire', () => Object.keys(hub.store.rawSamples(num, ['power.board'], OLD_T0, OLD_T0 + 200_000)).length === 0);
    await eventually('the recent run to have a snapshot', () => hub.store.snapshots.get('x-recent') !== undefined);
    // As if the old run predated snapshots.
    hub.store.snapshots.remove('x-old');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    tmp.remove();
  });

  it('shows "figures as computed at" for the stored run and "from 1-minute rollups" for the old one', async () => {
    const api = (await (await fetch(`${hub.url}/api/v1/experiments/compare?ids=x-recent,x-old`)).json()) as ComparisonResponse;
    const recent = api.experiments.find((e) => e.id === 'x-recent')!;
    const old = api.experiments.find((e) => e.id === 'x-old')!;
    expect(recent.snapshot?.source).toBe('raw');
    expect(old.snapshot).toBeNull();
    expect(old.sampleSource).toBe('1m');
    expect(old.energyPerInferenceJ).not.toBeNull();

    const { context, page } = await newWatchedPage(browser, { width: 1280, height: 800 }, { errors }, { httpErrors: true });
    await page.goto(url());
    await page.locator('[data-page="compare"][data-loading="false"]').waitFor();
    const recentOrigin = page.locator('[data-origin="x-recent"]');
    await expect.poll(() => recentOrigin.textContent()).toMatch(/^figures as computed at /);
    expect(await page.locator('[data-origin="x-old"]').textContent()).toBe('power and CPU from 1-minute rollups (approximate)');
    const notes = await page.locator('[data-panel="notes"]').textContent();
    expect(notes).toContain('1-minute rollups');
    await page.screenshot({ path: join(ARTIFACTS, 'compare-snapshot.png'), fullPage: true });
    await context.close();

    const phone = await newWatchedPage(browser, { width: 390, height: 844 }, { errors }, { httpErrors: true });
    await phone.page.goto(url());
    await phone.page.locator('[data-page="compare"][data-loading="false"]').waitFor();
    await phone.page.locator('[data-origin="x-recent"]').waitFor();
    await noHorizontalOverflow(phone.page);
    await phone.context.close();
    expect(errors).toEqual([]);
  });
});
