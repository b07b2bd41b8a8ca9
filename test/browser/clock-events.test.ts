// The device page says when the hub re-timed a backlog for a clock step: "Clock stepped back
// 3 h 0 min at 14:02; 30 samples were re-timed". The note's wording is checked as a pure
// function, and the page in Chromium with the backlog sent over a real agent socket.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { clockEventNotes } from '../../dashboard/web/src/device-facts.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, startUiHub } from './harness.js';

const H3 = 3 * 3_600_000;

describe('clockEventNotes', () => {
  it('says the direction, the size, when, and how many samples, in local time', () => {
    const at = new Date(2026, 11, 3, 14, 2, 30).getTime();
    const today = new Date(2026, 11, 3, 18, 0);
    expect(clockEventNotes([{ at, stepMs: H3, samples: 10_800, firstT: 0, lastT: 0 }], today)).toEqual([
      'Clock stepped back 3 h 0 min at 14:02; 10,800 samples were re-timed',
    ]);
    expect(clockEventNotes([{ at, stepMs: -250_000, samples: 1, firstT: 0, lastT: 0 }], new Date(2026, 11, 5))).toEqual([
      'Clock stepped forward 4 min 10 s at 2026-12-03 14:02; 1 sample was re-timed',
    ]);
  });
});

describe.skipIf(!HAVE_BROWSER)('device page in Chromium: a clock event', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startUiHub(tmp.dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    tmp?.remove();
  });

  it('shows the step and the samples re-timed, as text, without overflow on a phone', async () => {
    const peer = await TestPeer.connect(`ws://127.0.0.1:${hub!.port}/ws/agent`);
    peer.send(helloFrame('rtc-less-ui', { clock: Date.now() }));
    await peer.waitFor((f) => f.type === 'welcome');
    const now = Date.now();
    // 30 samples taken 40 s … 11 s ago on a clock 3 h ahead, sent now on the fixed clock.
    for (let i = 0; i < 30; i++) {
      const t = now - 40_000 + i * 1000;
      peer.send({
        type: 'batch',
        v: PROTOCOL_VERSION,
        seq: i + 1,
        samples: [{ t: t + H3, m: { 'cpu.util': 10 + i, 'mem.total': 4e9 } }],
        clock: { boot: 'b0ot', mono: 1_000_000 + (t - now), wall: t + H3 },
        sentAt: Date.now(),
        sentMono: 1_000_000 + (Date.now() - now),
        sentBoot: 'b0ot',
      });
    }
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 30);
    const { context, page } = await newWatchedPage(browser!, { width: 390, height: 844 }, { errors: pageErrors });
    try {
      await page.goto(`http://127.0.0.1:${hub!.port}/#/device/rtc-less-ui`);
      const note = page.locator('.clock-events .clock-event');
      await note.first().waitFor();
      expect(await note.count()).toBe(1);
      const text = (await note.first().textContent()) ?? '';
      expect(text).toMatch(/^Clock stepped back 3 h 0 min at (\d{4}-\d\d-\d\d )?\d\d:\d\d; 30 samples were re-timed$/);
      await noHorizontalOverflow(page);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'clock-event-note.png') });
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      peer.close();
    }
  });
});
