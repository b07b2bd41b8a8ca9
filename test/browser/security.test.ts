// The dashboard under the hub's own security headers, in Chromium: the Content-Security-Policy
// header is present on the page, the UI works under it (scripts, styles, the live WebSocket
// through connect-src 'self'), nothing violates it, and hostile inventory strings (hostname,
// board model, GPU name, OS, CPU brand) are shown as text, never run.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { HAVE_BROWSER, launchChromium, startUiHub, watchPage } from './harness.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const DEVICE_ID = 'hostile-box';
const HOST = `${HOSTILE}.local`;
const BOARD = `Board ${HOSTILE}`;
const GPU = `GPU "><svg onload=alert(3)>`;

describe.skipIf(!HAVE_BROWSER)('dashboard under the hub CSP header, with hostile inventory', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let agent: TestPeer | undefined;
  let base = '';

  beforeAll(async () => {
    tmp = tempDir('edgewatch-security-');
    hub = await startUiHub(tmp.dir);
    base = `http://127.0.0.1:${hub.port}/`;
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(
      helloFrame(DEVICE_ID, {
        device: { id: DEVICE_ID, name: `name ${HOSTILE}`, hostname: HOST },
        inventory: {
          os: { platform: 'linux', distro: `Distro ${HOSTILE}`, release: '1', kernel: '6.1', arch: 'x64' },
          cpu: { brand: `CPU <script>alert(4)</script>`, cores: 4 },
          board: { manufacturer: 'ACME', model: BOARD, revision: '<b>r1</b>' },
          gpus: [{ index: 0, name: GPU, memTotalBytes: 8 * 1024 ** 3, driver: '<i>550</i>' }],
          memTotalBytes: 16 * 1024 ** 3,
        },
      }),
    );
    await agent.waitFor((f) => f.type === 'welcome');
    const now = Date.now();
    agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples: [{ t: now - 1000, m: { 'cpu.util': 12, 'gpu.0.util': 40 } }, { t: now, m: { 'cpu.util': 14, 'gpu.0.util': 41 } }] });
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    agent?.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('serves the CSP header, works under it (live socket included), violates nothing and runs no hostile text', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    const dialogs: string[] = [];
    watchPage(page, { errors: problems, dialogs });
    // Count violations from inside the page too (a blocked inline handler reports here).
    await page.addInitScript(
      "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    );
    try {
      const response = await page.goto(base);
      const headers = response!.headers();
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).toContain("connect-src 'self'");
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-powered-by']).toBeUndefined();

      // The live socket opened under connect-src 'self' (ws:// to the same host).
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');

      // Fleet card: name and hostname as text.
      const card = page.locator(`a.device-card[data-device-id="${DEVICE_ID}"]`);
      await card.waitFor({ state: 'visible' });
      expect(await card.locator('.device-host').textContent()).toBe(HOST);
      expect(await card.textContent()).toContain(`name ${HOSTILE}`);

      // Device page: title, hostname and the inventory strings as text.
      await card.click();
      await expect.poll(() => page.locator('h1.device-title').textContent()).toBe(`name ${HOSTILE}`);
      const inventory = page.locator('dl.inventory');
      await expect.poll(() => inventory.textContent()).toContain(BOARD);
      const inv = (await inventory.textContent()) ?? '';
      expect(inv).toContain(GPU);
      expect(inv).toContain(`Distro ${HOSTILE}`);
      expect(inv).toContain('CPU <script>alert(4)</script>');
      expect(await page.locator('.device-host').first().textContent()).toBe(HOST);
      // Charts drew (scripts and canvases work under the policy).
      await expect.poll(async () => Number(await page.locator('canvas[data-chart="cpu"]').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(0);

      // A live sample still arrives over the socket.
      agent!.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 2, samples: [{ t: Date.now(), m: { 'cpu.util': 77 } }] });
      await agent!.waitFor((f) => f.type === 'ack' && f.seq === 2);

      expect(await page.locator('img[src="x"], svg[onload], script:not([src]), b, i').count()).toBe(0);
      await page.waitForTimeout(500);
      expect(await page.evaluate('window.__csp')).toEqual([]);
      expect(problems).toEqual([]);
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
