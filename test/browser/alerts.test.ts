// The alerts page in Chromium, end to end: a real hub (in this process, serving a private copy of
// the built UI), an agent peer sending real frames, and a real HTTP server as the webhook. The
// user sets the webhook, makes a rule from a template, the agent's GPU gets hot, and the firing
// alert, its history row and its delivery appear; switching the rule off resolves it, and a
// rule is deleted. Device and rule names are hostile HTML that must show as text.
// Screenshots land in test-artifacts/ (git-ignored).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import {
  deliveryText,
  eventTestText,
  eventValueText,
  readRuleForm,
  ruleFormFields,
  splitDuration,
  TEMPLATES,
  thresholdText,
  type RuleFormFields,
} from '../../dashboard/web/src/alerts-model.js';
import type { WebhookPayload } from '../../shared/alerts.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, noHorizontalOverflow, privateWebRoot, type PageSink } from './harness.js';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const DEVICE = 'orin-lab';
const DEVICE_NAME = 'Orin <b>lab</b>';
const RULE_NAME = 'GPU hot <img src=x onerror=alert(1)>';

describe.skipIf(!HAVE_BROWSER)('alerts page in Chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: Hub;
  let browser: Browser;
  let agent: TestPeer;
  let receiver: Server;
  const received: WebhookPayload[] = [];
  let seq = 0;

  const push = async (m: Record<string, number>): Promise<void> => {
    const n = ++seq;
    agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq: n, samples: [{ t: Date.now(), m }] });
    await agent.waitFor((f) => f.type === 'ack' && f.seq === n);
  };

  beforeAll(async () => {
    tmp = tempDir();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const webRoot = await privateWebRoot(tmp.dir);
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), webRoot, log: silentLogger(), alerts: { evalEveryMs: 200, retryDelaysMs: [200, 400] } });
    agent = await TestPeer.connect(hub.agentUrl);
    agent.send(helloFrame(DEVICE, { device: { id: DEVICE, name: DEVICE_NAME, hostname: 'orin.local' }, capabilities: ['cpu', 'gpu'] }));
    await agent.waitFor((f) => f.type === 'welcome');
    await push({ 'cpu.util': 35, 'gpu.0.temp': 62, 'gpu.0.util': 40, 'fs.rootfs.util': 71 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    agent?.close();
    await hub?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    tmp?.remove();
  });

  const open = async (viewport: { width: number; height: number }, sink: PageSink): Promise<Page> => {
    const { page } = await newWatchedPage(browser, viewport, sink, { httpErrors: true });
    await page.goto(`${hub.url}/#/alerts`);
    await page.locator('.alerts-page[data-loading="false"]').waitFor();
    return page;
  };

  it('sets the webhook, adds a rule from a template, and shows the alert firing, delivered and resolved', async () => {
    const sink: PageSink = { errors: [], dialogs: [] };
    const page = await open(DESKTOP, sink);
    await expect(page.title()).resolves.toBe('Alerts · edgewatch');
    expect(await page.locator('.topnav a[aria-current="page"]').getAttribute('data-nav')).toBe('alerts');
    await page.locator('[data-section="firing"] .alerts-ok').waitFor();

    // The webhook, tested and saved from the page.
    const webhook = page.locator('[data-section="webhook"]');
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/edgewatch`;
    await webhook.locator('input[name="webhookUrl"]').fill(url);
    await webhook.locator('[data-action="test-webhook"]').click();
    await expect.poll(() => webhook.locator('[data-webhook="status"]').textContent()).toBe('The receiver answered HTTP 200.');
    expect(received.at(-1)).toMatchObject({ test: true });
    await webhook.locator('[data-action="save-webhook"]').click();
    await expect.poll(() => webhook.locator('[data-webhook="status"]').textContent()).toBe('Saved.');

    // A disk rule straight from its template, and a GPU rule from its template, adjusted.
    const form = page.locator('[data-section="rule-form"]');
    await form.locator('[data-template="disk-full"]').click();
    expect(await form.locator('input[name="metric"]').inputValue()).toBe('fs.*.util');
    expect(await form.locator('input[name="value"]').inputValue()).toBe('90');
    expect(await form.locator('input[name="forAmount"]').inputValue()).toBe('5');
    expect(await form.locator('select[name="forUnit"]').inputValue()).toBe('min');
    await form.locator('[data-action="save-rule"]').click();
    await page.locator('[data-section="rules"] tr[data-rule-id]').first().waitFor();

    await form.locator('[data-template="gpu-hot"]').click();
    expect(await form.locator('input[name="name"]').inputValue()).toBe('GPU hot');
    expect(await form.locator('input[name="metric"]').inputValue()).toBe('gpu.*.temp');
    expect(await form.locator('input[name="value"]').inputValue()).toBe('85');
    await form.locator('input[name="name"]').fill(RULE_NAME);
    await form.locator('input[name="forAmount"]').fill('1');
    await form.locator('select[name="forUnit"]').selectOption('s');
    await form.locator('select[name="device"]').selectOption(DEVICE);
    await form.locator('[data-action="save-rule"]').click();
    const rows = page.locator('[data-section="rules"] tr[data-rule-id]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(1).locator('.alerts-rule-name').textContent()).toBe(RULE_NAME);
    expect(await rows.nth(1).locator('.alerts-rule-cond').textContent()).toBe('gpu.*.temp above 85 °C for 1 s');
    expect(await rows.nth(1).locator('.alerts-scope').textContent()).toBe(DEVICE_NAME);
    expect(await form.getAttribute('data-mode')).toBe('new');
    expect(await form.locator('input[name="name"]').inputValue()).toBe('');

    // The GPU heats up: the alert fires, reaches the webhook, and shows with its history row.
    await push({ 'cpu.util': 97, 'gpu.0.temp': 91.5, 'gpu.0.util': 100, 'fs.rootfs.util': 71 });
    const item = page.locator('[data-section="firing"] .alert-item');
    await item.waitFor();
    expect(await item.locator('.alert-rule').textContent()).toBe(RULE_NAME);
    expect(await item.locator('.alert-device').textContent()).toBe(DEVICE_NAME);
    expect(await item.locator('[data-field="value"]').textContent()).toBe('91.5 °C');
    const firingRow = page.locator('[data-section="history"] tr[data-state="firing"]');
    await firingRow.waitFor();
    await page.locator('[data-section="history"] tr[data-state="firing"][data-delivery="delivered"]').waitFor();
    await item.locator('[data-delivery="delivered"]').waitFor();
    const fired = received.find((p) => !p.test && p.state === 'firing')!;
    expect(fired).toMatchObject({ rule: { name: RULE_NAME }, device: { id: DEVICE, name: DEVICE_NAME }, metric: 'gpu.0.temp', value: 91.5, threshold: 85 });
    expect(await page.locator('.fleet-summary').textContent()).toBe('1 firing · 2 rules');
    expect(await rows.nth(1).locator('.badge-firing').textContent()).toBe('1');
    // Hostile names stayed text.
    expect(await page.locator('.alerts-page img, .alerts-page b').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'alerts-desktop.png'), fullPage: true });

    // Switching the rule off resolves its alert, with the reason in the history.
    await rows.nth(1).locator('[data-action="toggle"]').uncheck();
    await page.locator('[data-section="firing"] .alerts-ok').waitFor();
    const resolvedRow = page.locator('[data-section="history"] tr[data-state="resolved"]');
    await resolvedRow.waitFor();
    expect(await resolvedRow.locator('.alerts-note').textContent()).toMatch(/rule disabled$/);
    await eventually('the resolution at the webhook', () => received.find((p) => p.state === 'resolved' && p.alertId === fired.eventId));
    expect(await rows.nth(1).getAttribute('data-enabled')).toBe('false');

    // Delete asks once more before it deletes.
    const del = rows.nth(0).locator('[data-action="delete"]');
    await del.click();
    expect(await del.textContent()).toBe('Confirm delete');
    await del.click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(sink.errors).toEqual([]);
    expect(sink.dialogs).toEqual([]);
  });

  it('names the field at fault before saving, and edits a rule in place', async () => {
    const sink: PageSink = { errors: [], dialogs: [] };
    const page = await open(DESKTOP, sink);
    const form = page.locator('[data-section="rule-form"]');
    await form.locator('input[name="name"]').fill('Bad metric');
    await form.locator('input[name="metric"]').fill('GPU Temp');
    await form.locator('input[name="value"]').fill('80');
    await form.locator('[data-action="save-rule"]').click();
    expect(await form.locator('[data-form="error"]').textContent()).toMatch(/^The metric is a name such as cpu\.util/);
    expect(await form.locator('input[name="metric"]').getAttribute('aria-invalid')).toBe('true');

    const row = page.locator('[data-section="rules"] tr[data-rule-id]').first();
    await row.locator('[data-action="edit"]').click();
    expect(await form.getAttribute('data-mode')).toBe('edit');
    expect(await row.getAttribute('data-editing')).toBe('true');
    await form.locator('input[name="name"]').fill('GPU very hot');
    await form.locator('input[name="value"]').fill('95');
    await form.locator('[data-action="save-rule"]').click();
    await expect.poll(() => row.locator('.alerts-rule-name').textContent()).toBe('GPU very hot');
    expect(await row.locator('.alerts-rule-cond').textContent()).toBe('gpu.*.temp above 95 °C for 1 s');
    expect(await form.getAttribute('data-mode')).toBe('new');
    expect(sink.errors).toEqual([]);
    expect(sink.dialogs).toEqual([]);
  });

  it('fits a phone', async () => {
    const sink: PageSink = { errors: [], dialogs: [] };
    const page = await open(PHONE, sink);
    await page.locator('[data-section="history"] tr[data-event-id]').first().waitFor();
    await noHorizontalOverflow(page);
    await page.screenshot({ path: join(ARTIFACTS, 'alerts-phone.png'), fullPage: true });
    expect(sink.errors).toEqual([]);
  });
});

// The page's logic without a browser: templates, the form, the words rows show.
describe('alerts page logic', () => {
  const form = (over: Partial<RuleFormFields> = {}): RuleFormFields => ({
    name: 'Hot',
    kind: 'threshold',
    metric: 'temp.*',
    op: 'above',
    value: '80',
    forAmount: '90',
    forUnit: 's',
    device: '',
    enabled: true,
    ...over,
  });

  it('reads the form into what the API takes, and names the field at fault', () => {
    expect(readRuleForm(form())).toEqual({
      ok: true,
      input: { name: 'Hot', kind: 'threshold', metric: 'temp.*', op: 'above', value: 80, forMs: 90_000, device: null, enabled: true },
    });
    expect(readRuleForm(form({ kind: 'offline', metric: 'ignored', device: 'pi4', forAmount: '2', forUnit: 'min' }))).toEqual({
      ok: true,
      input: { name: 'Hot', kind: 'offline', forMs: 120_000, device: 'pi4', enabled: true },
    });
    expect(readRuleForm(form({ name: '  ' }))).toMatchObject({ ok: false, field: 'name' });
    expect(readRuleForm(form({ metric: 'temp.**' }))).toMatchObject({ ok: false, field: 'metric' });
    expect(readRuleForm(form({ metric: 'Temp' }))).toMatchObject({ ok: false, field: 'metric' });
    expect(readRuleForm(form({ value: '' }))).toMatchObject({ ok: false, field: 'value' });
    expect(readRuleForm(form({ value: 'hot' }))).toMatchObject({ ok: false, field: 'value' });
    expect(readRuleForm(form({ forAmount: '-1' }))).toMatchObject({ ok: false, field: 'forAmount' });
    expect(readRuleForm(form({ forAmount: '8', forUnit: 'h' }))).toMatchObject({ ok: true });
    expect(readRuleForm(form({ forAmount: '169', forUnit: 'h' }))).toMatchObject({ ok: false, field: 'forAmount' });
  });

  it('round-trips every template through the form unchanged', () => {
    for (const t of TEMPLATES) expect(readRuleForm(ruleFormFields(t.input)), t.id).toEqual({ ok: true, input: t.input });
    expect(splitDuration(0)).toEqual({ amount: '0', unit: 's' });
    expect(splitDuration(300_000)).toEqual({ amount: '5', unit: 'min' });
    expect(splitDuration(7_200_000)).toEqual({ amount: '2', unit: 'h' });
    expect(splitDuration(90_000)).toEqual({ amount: '90', unit: 's' });
  });

  it('words values, thresholds and deliveries with their units', () => {
    expect(thresholdText(85, '°C')).toBe('85 °C');
    expect(thresholdText(90, '%')).toBe('90 %');
    expect(thresholdText(0.5, 'flag')).toBe('0.5');
    expect(thresholdText(512 * 1024 * 1024, 'bytes')).toBe('512 MiB');
    const gpu = { kind: 'threshold', metric: 'gpu.0.temp', op: 'above', threshold: 85, forMs: 60_000, value: 91.5 } as const;
    expect(eventTestText(gpu)).toBe('above 85 °C for 1 min');
    expect(eventValueText(gpu)).toBe('91.5 °C');
    expect(eventValueText({ kind: 'threshold', metric: 'pi.throttle.under_voltage', value: 1 })).toBe('1');
    expect(eventValueText({ kind: 'offline', metric: null, value: 150 })).toBe('offline 2 min 30 s');
    expect(eventValueText({ kind: 'threshold', metric: 'cpu.util', value: null })).toBe('—');
    expect(deliveryText({ delivery: 'delivered', attempts: 3, lastError: 'HTTP 500' })).toMatchObject({ text: 'delivered (3 attempts)', tone: 'ok' });
    expect(deliveryText({ delivery: 'failed', attempts: 6, lastError: 'ECONNREFUSED: connect' })).toEqual({ text: 'failed (6 attempts)', tone: 'bad', title: 'ECONNREFUSED: connect' });
    expect(deliveryText({ delivery: 'none', attempts: 0, lastError: null })).toMatchObject({ text: 'no webhook', tone: 'none' });
  });
});
