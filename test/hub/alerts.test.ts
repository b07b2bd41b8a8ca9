// Alerts end to end: a real hub on 127.0.0.1 over a temp SQLite file, an agent peer sending
// real frames, and a real HTTP server as the webhook receiver. Rules fire only once their
// condition has held for forMs, resolve when it clears, go offline with the agent, survive a
// restart without firing twice, and their notifications are retried until the receiver takes
// them. The engine's timing rules are also checked tick by tick on a clock the test sets.
import Database from 'better-sqlite3';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertEngine } from '../../dashboard/server/alerts/engine.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { AlertStore } from '../../dashboard/store/alert-store.js';
import { migrate } from '../../dashboard/store/migrations.js';
import { metricGlobMatches, type AlertEvent, type AlertRule, type AlertRuleInput, type WebhookPayload } from '../../shared/alerts.js';
import type { DeviceSummary } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const FAST = { evalEveryMs: 50, retryDelaysMs: [50, 100, 150], webhookTimeoutMs: 2000 };

/** A webhook receiver: records every POST; answers `failNext` of them with 500 first. */
class Receiver {
  readonly posts: { body: WebhookPayload; at: number; contentType: string | undefined }[] = [];
  failNext = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        receiver.posts.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload, at: Date.now(), contentType: req.headers['content-type'] });
        if (receiver.failNext > 0) {
          receiver.failNext--;
          res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down for maintenance');
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  of(state: string, ruleId?: number): WebhookPayload[] {
    return this.posts.map((p) => p.body).filter((b) => b.state === state && (ruleId === undefined || b.rule.id === ruleId));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** An agent peer for one device, sending one sample per batch. */
class Agent {
  private seq = 0;
  private constructor(readonly peer: TestPeer) {}

  static async connect(hub: Hub, id: string, name = `device ${id}`): Promise<Agent> {
    const peer = await TestPeer.connect(hub.agentUrl);
    peer.send(helloFrame(id, { device: { id, name, hostname: `${id}.local` } }));
    await peer.waitFor((f) => f.type === 'welcome');
    const agent = new Agent(peer);
    // Continue after the sequence numbers the hub already has (a reconnect after a restart).
    const welcome = peer.received.find((f) => f.type === 'welcome') as { lastSeq?: number } | undefined;
    agent.seq = welcome?.lastSeq ?? 0;
    return agent;
  }

  async send(m: Record<string, number>): Promise<void> {
    const seq = ++this.seq;
    this.peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t: Date.now(), m }] });
    await this.peer.waitFor((f) => f.type === 'ack' && f.seq === seq);
  }

  close(): void {
    this.peer.close();
  }
}

async function call<T = unknown>(hub: Hub, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${hub.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function createRule(hub: Hub, input: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'name' | 'kind'>): Promise<AlertRule> {
  const res = await call<{ rule: AlertRule }>(hub, 'POST', '/alerts/rules', input);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.rule;
}

const active = async (hub: Hub): Promise<AlertEvent[]> => (await call<{ events: AlertEvent[] }>(hub, 'GET', '/alerts/active')).body.events;
const history = async (hub: Hub, q = ''): Promise<AlertEvent[]> => (await call<{ events: AlertEvent[] }>(hub, 'GET', `/alerts/events${q}`)).body.events;

describe('alerts on a running hub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: Hub;
  let receiver: Receiver;

  beforeAll(async () => {
    tmp = tempDir();
    receiver = await Receiver.start();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), alerts: FAST });
    expect((await call(hub, 'PUT', '/alerts/settings', { webhookUrl: receiver.url })).status).toBe(200);
  });
  afterAll(async () => {
    await hub.close();
    await receiver.close();
    tmp.remove();
  });

  it('fires a threshold rule only after it held for forMs, posts it to the webhook, and resolves it', async () => {
    const rule = await createRule(hub, { name: 'GPU hot', kind: 'threshold', metric: 'gpu.*.temp', op: 'above', value: 85, forMs: 400 });
    const agent = await Agent.connect(hub, 'gpu-box', 'GPU box');
    // gpu.1.temp.mem is hotter still, but `*` stands for one segment: not this rule's metric.
    await agent.send({ 'gpu.0.temp': 70, 'gpu.1.temp': 91.5, 'gpu.1.temp.mem': 99 });

    const fired = await eventually('the firing notification', () => receiver.of('firing', rule.id)[0]);
    const post = receiver.posts.find((p) => p.body === fired)!;
    expect(post.contentType).toBe('application/json');
    expect(fired).toMatchObject({
      source: 'edgewatch',
      test: false,
      rule: { id: rule.id, name: 'GPU hot', kind: 'threshold', op: 'above', threshold: 85, forMs: 400 },
      device: { id: 'gpu-box', name: 'GPU box' },
      metric: 'gpu.1.temp',
      value: 91.5,
      threshold: 85,
      resolvedAt: null,
      link: '/#/device/gpu-box',
    });
    expect(fired.summary).toContain('GPU hot on GPU box');
    // It waited: the condition began to hold at startedAt, and the post came forMs later or more.
    expect(post.at - fired.startedAt).toBeGreaterThanOrEqual(400);

    const [open] = await active(hub);
    expect(open).toMatchObject({ id: fired.eventId, alertId: fired.eventId, state: 'firing', metric: 'gpu.1.temp', deviceName: 'GPU box' });
    await eventually('delivery recorded', async () => (await active(hub))[0]?.delivery === 'delivered');
    expect((await active(hub)).map((e) => e.metric)).toEqual(['gpu.1.temp']);

    await agent.send({ 'gpu.0.temp': 70, 'gpu.1.temp': 60, 'gpu.1.temp.mem': 99 });
    const resolved = await eventually('the resolution', () => receiver.of('resolved', rule.id)[0]);
    expect(resolved).toMatchObject({ alertId: fired.eventId, metric: 'gpu.1.temp', value: 60, startedAt: fired.startedAt });
    expect(resolved.resolvedAt).toBeGreaterThanOrEqual(fired.startedAt);
    expect(await active(hub)).toEqual([]);

    const rows = await history(hub, `?rule=${rule.id}`);
    expect(rows.map((e) => [e.state, e.alertId])).toEqual([
      ['resolved', fired.eventId],
      ['firing', fired.eventId],
    ]);
    expect(rows[1]!.resolvedAt).toBe(resolved.resolvedAt);
    agent.close();
    expect((await call(hub, 'DELETE', `/alerts/rules/${rule.id}`)).status).toBe(204);
  });

  it('fires an offline rule when the agent disconnects and resolves it when it is back', async () => {
    const rule = await createRule(hub, { name: 'Pi gone', kind: 'offline', forMs: 300, device: 'pi4' });
    let agent = await Agent.connect(hub, 'pi4');
    await agent.send({ 'cpu.util': 3 });
    agent.close();
    const fired = await eventually('the offline notification', () => receiver.of('firing', rule.id)[0]);
    expect(fired).toMatchObject({ rule: { kind: 'offline', forMs: 300 }, device: { id: 'pi4' }, metric: null, threshold: null });
    expect(fired.value).toBeGreaterThanOrEqual(0);
    expect(fired.summary).toMatch(/offline/);

    agent = await Agent.connect(hub, 'pi4');
    const resolved = await eventually('the back-online resolution', () => receiver.of('resolved', rule.id)[0]);
    expect(resolved.alertId).toBe(fired.eventId);
    agent.close();
    expect((await call(hub, 'DELETE', `/alerts/rules/${rule.id}`)).status).toBe(204);
  });

  it('retries a failing receiver until it answers 2xx, and records every attempt', async () => {
    receiver.failNext = 2;
    const before = receiver.posts.length;
    const rule = await createRule(hub, { name: 'Disk almost full', kind: 'threshold', metric: 'fs.*.util', op: 'above', value: 90, forMs: 0 });
    const agent = await Agent.connect(hub, 'nas');
    await agent.send({ 'fs.rootfs.util': 97, 'fs.boot.util': 20 });
    const event = await eventually('delivery after two failures', async () => (await history(hub, `?rule=${rule.id}`)).find((e) => e.delivery === 'delivered'));
    expect(event).toMatchObject({ metric: 'fs.rootfs.util', value: 97, attempts: 3, lastError: null });
    expect(event.deliveredAt).not.toBeNull();
    const tries = receiver.posts.slice(before).filter((p) => p.body.eventId === event.id);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => JSON.stringify(t.body))).size).toBe(1);

    // A receiver that never recovers: every attempt, then `failed` with its answer.
    receiver.failNext = 100;
    await agent.send({ 'fs.rootfs.util': 50, 'fs.boot.util': 20 });
    const failed = await eventually('delivery given up', async () => (await history(hub, `?rule=${rule.id}`)).find((e) => e.state === 'resolved' && e.delivery === 'failed'));
    expect(failed.attempts).toBe(FAST.retryDelaysMs.length + 1);
    expect(failed.lastError).toMatch(/^HTTP 500.*receiver is down for maintenance/);
    receiver.failNext = 0;
    agent.close();
    expect((await call(hub, 'DELETE', `/alerts/rules/${rule.id}`)).status).toBe(204);
  });

  it('records a refused connection as the error, and a disabled rule resolves its alerts', async () => {
    const dead = await Receiver.start();
    const deadUrl = dead.url;
    await dead.close();
    expect((await call(hub, 'PUT', '/alerts/settings', { webhookUrl: deadUrl })).status).toBe(200);
    const rule = await createRule(hub, { name: 'Under-voltage', kind: 'threshold', metric: 'pi.throttle.under_voltage', op: 'above', value: 0.5, forMs: 0 });
    const agent = await Agent.connect(hub, 'pi-zero');
    await agent.send({ 'pi.throttle.under_voltage': 1 });
    const failed = await eventually('refused delivery', async () => (await history(hub, `?rule=${rule.id}`)).find((e) => e.delivery === 'failed'));
    expect(failed.lastError).toMatch(/ECONNREFUSED/);
    expect((await call(hub, 'PUT', '/alerts/settings', { webhookUrl: receiver.url })).status).toBe(200);

    const { id: _id, createdAt: _c, updatedAt: _u, ...input } = rule;
    expect((await call(hub, 'PUT', `/alerts/rules/${rule.id}`, { ...input, enabled: false })).status).toBe(200);
    const resolved = await eventually('resolution by disabling', () => receiver.of('resolved', rule.id)[0]);
    expect(resolved.summary).toContain('rule disabled');
    expect((await history(hub, `?rule=${rule.id}`))[0]).toMatchObject({ state: 'resolved', note: 'rule disabled', delivery: 'delivered' });
    agent.close();
  });

  it('sends a test notification to the saved or a given URL', async () => {
    const before = receiver.posts.length;
    const ok = await call(hub, 'POST', '/alerts/test');
    expect(ok).toEqual({ status: 200, body: { ok: true, status: 204, error: null } });
    expect(receiver.posts[before]!.body).toMatchObject({ test: true, state: 'firing' });

    const dead = await Receiver.start();
    const deadUrl = dead.url;
    await dead.close();
    const refused = await call<{ ok: boolean; status: number | null; error: string }>(hub, 'POST', '/alerts/test', { webhookUrl: deadUrl });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ ok: false, status: null });
    expect(refused.body.error).toMatch(/ECONNREFUSED/);
  });

  it('answers bad rules, settings and queries with 400s that name the field', async () => {
    const bad = async (method: string, path: string, body: unknown, pattern: RegExp): Promise<void> => {
      const res = await call<{ error: string }>(hub, method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error).toMatch(pattern);
    };
    const good = { name: 'ok', kind: 'threshold', metric: 'cpu.util', op: 'above', value: 90, forMs: 1000 };
    await bad('POST', '/alerts/rules', { ...good, name: '  ' }, /^name: must not be empty/);
    await bad('POST', '/alerts/rules', { ...good, metric: 'CPU util' }, /^metric: must be a metric name/);
    await bad('POST', '/alerts/rules', { ...good, metric: 'gpu.**.temp' }, /^metric: /);
    await bad('POST', '/alerts/rules', { ...good, op: 'over' }, /^op: must be "above" or "below"/);
    await bad('POST', '/alerts/rules', { ...good, value: '90' }, /^value: must be a number/);
    await bad('POST', '/alerts/rules', { ...good, forMs: -5 }, /^forMs: must not be negative/);
    await bad('POST', '/alerts/rules', { ...good, forMs: 1.5 }, /^forMs: must be a whole number/);
    await bad('POST', '/alerts/rules', { ...good, device: 'no spaces' }, /^device: must be a device id/);
    await bad('POST', '/alerts/rules', { ...good, kind: 'sometimes' }, /^kind: must be "threshold" or "offline"/);
    await bad('POST', '/alerts/rules', { ...good, for_ms: 1 }, /unknown field "for_ms"/);
    await bad('POST', '/alerts/rules', [good], /must be a JSON object/);
    await bad('PUT', '/alerts/rules/abc', good, /rule id must be a positive integer/);
    await bad('PUT', '/alerts/settings', { webhookUrl: 'ftp://example.com/x' }, /^webhookUrl: must be an http:\/\/ or https:\/\/ URL/);
    await bad('PUT', '/alerts/settings', { webhookUrl: 'javascript:alert(1)' }, /^webhookUrl: /);
    await bad('GET', '/alerts/events?limit=0', undefined, /limit must be 1–1000, got 0/);
    await bad('GET', '/alerts/events?device=%3Cx%3E', undefined, /device must be a device id/);

    const broken = await fetch(`${hub.url}/api/v1/alerts/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/bad request body/);
    const form = await fetch(`${hub.url}/api/v1/alerts/rules`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    expect(form.status).toBe(415);
    expect((await call(hub, 'PUT', '/alerts/rules/999999', good)).status).toBe(404);
    expect((await call(hub, 'DELETE', '/alerts/rules/999999')).status).toBe(404);
    // Nothing invalid was stored.
    expect((await call<{ rules: AlertRule[] }>(hub, 'GET', '/alerts/rules')).body.rules.map((r) => r.name)).not.toContain('ok');
  });
});

describe('alerts across a hub restart', () => {
  let tmp: ReturnType<typeof tempDir>;
  let receiver: Receiver;
  const hubs: Hub[] = [];
  const start = async (): Promise<Hub> => {
    const hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), alerts: FAST });
    hubs.push(hub);
    return hub;
  };

  beforeAll(async () => {
    tmp = tempDir();
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    for (const hub of hubs) await hub.close();
    await receiver.close();
    tmp.remove();
  });

  it('keeps rules, settings, history and firing alerts, and does not fire them twice', async () => {
    const first = await start();
    await call(first, 'PUT', '/alerts/settings', { webhookUrl: receiver.url });
    const hot = await createRule(first, { name: 'Board hot', kind: 'threshold', metric: 'temp.*', op: 'above', value: 80, forMs: 0 });
    let agent = await Agent.connect(first, 'jetson');
    await agent.send({ 'temp.cpu_thermal': 88, 'temp.gpu_thermal': 60 });
    const fired = await eventually('firing before the restart', () => receiver.of('firing', hot.id)[0]);
    await eventually('delivered before the restart', async () => (await active(first))[0]?.delivery === 'delivered');
    agent.close();
    await first.close();

    const second = await start();
    expect((await call<{ rules: AlertRule[] }>(second, 'GET', '/alerts/rules')).body.rules).toEqual([hot]);
    expect((await call(second, 'GET', '/alerts/settings')).body).toMatchObject({ webhookUrl: receiver.url, hasSigningSecret: true });
    expect((await active(second)).map((e) => e.id)).toEqual([fired.eventId]);

    agent = await Agent.connect(second, 'jetson');
    await agent.send({ 'temp.cpu_thermal': 89, 'temp.gpu_thermal': 60, 'mem.util': 95 });
    // A rule that fires on this same sample proves the engine has judged it with the device online.
    const probe = await createRule(second, { name: 'Memory', kind: 'threshold', metric: 'mem.util', op: 'above', value: 90, forMs: 0 });
    await eventually('the probe rule firing', () => receiver.of('firing', probe.id)[0]);
    expect(receiver.of('firing', hot.id)).toHaveLength(1);
    expect((await active(second)).filter((e) => e.ruleId === hot.id).map((e) => e.id)).toEqual([fired.eventId]);

    await agent.send({ 'temp.cpu_thermal': 60, 'temp.gpu_thermal': 60, 'mem.util': 95 });
    const resolved = await eventually('resolution after the restart', () => receiver.of('resolved', hot.id)[0]);
    expect(resolved.alertId).toBe(fired.eventId);
    agent.close();
  });
});

describe('alerts need a login where the hub has logins', () => {
  it('answers 401 without credentials', async () => {
    const tmp = tempDir();
    const hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), auth: true, alerts: FAST });
    try {
      for (const [method, path] of [['GET', '/alerts/rules'], ['GET', '/alerts/events'], ['PUT', '/alerts/settings'], ['POST', '/alerts/test']] as const) {
        expect((await call(hub, method, path, method === 'GET' ? undefined : {})).status, `${method} ${path}`).toBe(401);
      }
    } finally {
      await hub.close();
      tmp.remove();
    }
  });
});

// The engine's timing, tick by tick on a clock the test sets: real SQLite, device summaries as
// the fleet gives them.
describe('alert engine timing', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database.Database;
  let store: AlertStore;
  let devices: DeviceSummary[];
  let notified: AlertEvent[];
  let engine: AlertEngine;
  const T0 = 1_800_000_000_000;

  const device = (id: string, m: Record<string, number>, t: number, online = true): DeviceSummary => ({
    id,
    name: `name of ${id}`,
    hostname: null,
    online,
    lastSeen: t,
    firstSeen: T0 - 3_600_000,
    intervalMs: 1000,
    agentVersion: 'test',
    capabilities: [],
    inventory: {},
    latest: { t, m },
    clockOffsetMs: 0,
    droppedSamples: 0,
  });
  const rule = (input: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'kind'>): AlertRule =>
    store.insertRule({ name: 'r', enabled: true, device: null, forMs: 0, ...input } as AlertRuleInput, T0);

  beforeEach(() => {
    tmp = tempDir();
    db = new Database(join(tmp.dir, 'alerts.db'));
    migrate(db);
    store = new AlertStore(db, 20);
    store.setSettings({ webhookUrl: 'http://127.0.0.1:9/unused' }, T0);
    devices = [];
    notified = [];
    engine = new AlertEngine(store, { list: () => devices }, (e) => notified.push(e), silentLogger(), { evalEveryMs: 3_600_000, now: () => T0 });
    engine.start();
  });
  afterEach(() => {
    engine.stop();
    db.close();
    tmp.remove();
  });

  it('needs the condition on every tick for forMs: a blip does not fire, a hold does', () => {
    rule({ kind: 'threshold', metric: 'cpu.util', op: 'above', value: 90, forMs: 10_000 });
    const at = (s: number, v: number): void => {
      devices = [device('d', { 'cpu.util': v }, T0 + s * 1000)];
      engine.evaluate(T0 + s * 1000);
    };
    at(0, 95);
    at(8, 95);
    at(9, 50); // the blip ends before forMs: the wait starts over
    at(10, 95);
    at(19, 95);
    expect(store.openAlerts()).toEqual([]);
    at(20, 96);
    const open = store.openAlerts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ startedAt: T0 + 10_000, value: 96, delivery: 'pending' });
    expect(notified.map((e) => e.state)).toEqual(['firing']);
    at(21, 97);
    expect(notified).toHaveLength(1);
    at(22, 90); // "above 90": 90 itself is not above
    expect(store.openAlerts()).toEqual([]);
    expect(notified.map((e) => [e.state, e.value])).toEqual([
      ['firing', 96],
      ['resolved', 90],
    ]);
  });

  it('holds threshold alerts while the device is offline, and keeps briefly missing metrics', () => {
    rule({ kind: 'threshold', metric: 'gpu.*.temp', op: 'above', value: 85 });
    devices = [device('d', { 'gpu.0.temp': 90, 'gpu.0.temp.mem': 99, 'gpu.1.temp': 40 }, T0)];
    engine.evaluate(T0);
    expect(store.openAlerts().map((e) => e.metric)).toEqual(['gpu.0.temp']);
    // A sample without the metric (a collector failed once): the last value stands.
    devices = [device('d', { 'gpu.1.temp': 41 }, T0 + 1000)];
    engine.evaluate(T0 + 1000);
    expect(store.openAlerts()).toHaveLength(1);
    // Offline: whatever the stored sample says, neither resolve nor fire.
    devices = [device('d', { 'gpu.0.temp': 20, 'gpu.1.temp': 99 }, T0 + 2000, false)];
    engine.evaluate(T0 + 120_000);
    expect(store.openAlerts().map((e) => e.metric)).toEqual(['gpu.0.temp']);
    // Back, and the metric is gone for good: resolved as "no data" once its value is stale.
    devices = [device('d', { 'gpu.1.temp': 41 }, T0 + 121_000)];
    engine.evaluate(T0 + 121_000);
    expect(store.openAlerts()).toEqual([]);
    expect(notified.at(-1)).toMatchObject({ state: 'resolved', note: 'no data', value: null });
  });

  it('judges offline from when the device was last heard, but never from before the engine started', () => {
    rule({ kind: 'offline', forMs: 60_000 });
    // Silent for an hour when the engine starts: a minute of grace after start, then it fires.
    devices = [device('old', {}, T0 - 3_600_000, false)];
    engine.evaluate(T0 + 59_000);
    expect(store.openAlerts()).toEqual([]);
    engine.evaluate(T0 + 60_000);
    expect(store.openAlerts()).toMatchObject([{ deviceId: 'old', metric: null, startedAt: T0, value: 3660 }]);
    devices = [device('old', {}, T0 + 61_000, true)];
    engine.evaluate(T0 + 61_000);
    expect(store.openAlerts()).toEqual([]);
  });

  it('ends alerts of deleted, disabled and re-scoped rules, with the reason', () => {
    const a = rule({ kind: 'threshold', metric: 'load.1', op: 'above', value: 4 });
    const b = rule({ kind: 'threshold', metric: 'load.5', op: 'above', value: 4 });
    const c = rule({ kind: 'threshold', metric: 'load.15', op: 'above', value: 4 });
    devices = [device('d', { 'load.1': 9, 'load.5': 9, 'load.15': 9 }, T0)];
    engine.evaluate(T0);
    expect(store.openAlerts()).toHaveLength(3);
    store.deleteRule(a.id);
    store.updateRule(b.id, { ...b, enabled: false }, T0);
    store.updateRule(c.id, { ...c, device: 'other' }, T0);
    engine.evaluate(T0 + 1000);
    expect(store.openAlerts()).toEqual([]);
    const notes = Object.fromEntries(notified.filter((e) => e.state === 'resolved').map((e) => [e.ruleId, e.note]));
    expect(notes).toEqual({ [a.id]: 'rule deleted', [b.id]: 'rule disabled', [c.id]: 'rule changed' });
  });

  it('keeps history bounded, newest first, never dropping an alert still firing', () => {
    rule({ kind: 'threshold', metric: 'cpu.util', op: 'above', value: 50 });
    const stuck = rule({ kind: 'threshold', metric: 'mem.util', op: 'above', value: 50 });
    devices = [device('d', { 'cpu.util': 10, 'mem.util': 99 }, T0)];
    engine.evaluate(T0);
    // 40 flaps of cpu.util: 80 rows through a store that keeps 20.
    for (let i = 1; i <= 80; i++) {
      devices = [device('d', { 'cpu.util': i % 2 === 1 ? 90 : 10, 'mem.util': 99 }, T0 + i * 1000)];
      engine.evaluate(T0 + i * 1000);
    }
    const rows = store.events({ limit: 1000 });
    expect(rows.length).toBeLessThanOrEqual(21);
    expect(rows.map((e) => e.id)).toEqual([...rows.map((e) => e.id)].sort((x, y) => y - x));
    expect(store.openAlerts().map((e) => e.ruleId)).toEqual([stuck.id]);
    expect(rows.some((e) => e.ruleId === stuck.id && e.state === 'firing')).toBe(true);
  });

  it('matches globs on whole segments only', () => {
    expect(metricGlobMatches('fs.*.util', 'fs.rootfs.util')).toBe(true);
    expect(metricGlobMatches('fs.*.util', 'fs.boot.firmware.util')).toBe(false);
    expect(metricGlobMatches('temp.*', 'temp.cpu_thermal')).toBe(true);
    expect(metricGlobMatches('temp.*', 'temp')).toBe(false);
    expect(metricGlobMatches('cpu.util', 'cpu.util')).toBe(true);
    expect(metricGlobMatches('cpu.util', 'cpu.utilx')).toBe(false);
  });
});
