// An experiment its agent never ended, in the browser: a real hub (in this process, a 1 s
// experiment timeout) and a device on a raw agent socket that starts an experiment, sends a few
// seconds of timings and goes away. The hub closes it; the Experiments page shows "ended by
// timeout" and the compare page says so in its notes.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { LogHistogram } from '../../shared/histogram.js';
import { PROTOCOL_VERSION, type Sample } from '../../shared/protocol.js';
import { eventually } from '../helpers/processes.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { HAVE_BROWSER, launchChromium, newWatchedPage, startUiHub } from './harness.js';

describe.skipIf(!HAVE_BROWSER)('an experiment ended by timeout, in Chromium', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';
  const errors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    tmp = tempDir('edgewatch-exp-timeout-');
    hub = await startUiHub(tmp.dir, { experimentTimeoutMs: 1000 });
    baseUrl = `http://127.0.0.1:${hub.port}/`;
    const agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(helloFrame('gone-dev', { openExperiments: [] }));
    await agent.waitFor((f) => f.type === 'welcome');
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 5000;
    const hist = new LogHistogram();
    hist.add(3);
    hist.add(3);
    const h = hist.summary();
    const samples: Sample[] = [1, 2, 3].map((k) => ({
      t: t0 + k * 1000,
      m: { 'cpu.util': 10 },
      i: [{ model: 'm', experiment: 'x-gone', t: t0 + (k - 1) * 1000, ...h, items: 2 }],
      // x-done, beside it, is ended by its agent: the one to compare with.
      ...(k === 1 ? { e: [{ id: 'x-gone', name: 'abandoned <b>run</b>', start: t0 }, { id: 'x-done', name: 'finished', start: t0 }] } : {}),
      ...(k === 3 ? { e: [{ id: 'x-done', name: 'finished', start: t0, end: t0 + 2500 }] } : {}),
    }));
    agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples });
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
    agent.close();
    await eventually('the hub to close the experiment', () => hub!.store.getExperiment('x-gone')?.endedBy === 'timeout', 15_000, 100);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('lists it as ended by timeout, and compare notes it', async () => {
    const { context, page } = await newWatchedPage(browser!, { width: 1280, height: 800 }, { errors, dialogs }, { httpErrors: true });
    try {
      await page.goto(`${baseUrl}#/experiments`);
      const row = page.locator('tr[data-experiment-id="x-gone"]');
      await row.waitFor();
      expect(await row.getAttribute('data-running')).toBe('false');
      const badge = row.locator('[data-ended-by="timeout"]');
      expect(await badge.textContent()).toBe('ended by timeout');
      expect(await badge.getAttribute('title')).toContain('the hub closed it at its last data');
      expect(await row.locator('[data-col="duration"]').textContent()).toBe('3.0 s');
      expect(await page.locator('b').count()).toBe(0);

      const done = page.locator('tr[data-experiment-id="x-done"]');
      expect(await done.locator('[data-ended-by]').count()).toBe(0);

      await page.goto(`${baseUrl}#/compare?ids=x-done,x-gone`);
      const notes = page.locator('[data-panel="notes"]');
      await expect.poll(() => notes.textContent(), { timeout: 15_000 }).toContain('abandoned <b>run</b> (x-gone) was ended by timeout');
      expect(await notes.textContent()).not.toContain('x-done) was ended');
    } finally {
      await context.close();
    }
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  }, 60_000);
});
