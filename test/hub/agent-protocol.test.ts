// A real hub on 127.0.0.1 with a temp SQLite file, spoken to by raw WebSocket peers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

describe('hub agent endpoint', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let agentUrl: string;
  let liveUrl: string;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    agentUrl = `ws://127.0.0.1:${hub.port}/ws/agent`;
    liveUrl = `ws://127.0.0.1:${hub.port}/ws/live`;
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  const batch = (seq: number, t: number, m: Record<string, number>) => ({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t, m }] });

  it('welcomes a new device, acks a batch only once it is in SQLite, and ignores a resend', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('dev-a'));
    const welcome = await peer.waitFor((f) => f.type === 'welcome');
    expect(welcome.lastSeq).toBeNull();

    const t = Date.now();
    peer.send(batch(1, t, { 'cpu.util': 42 }));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1);
    const row = hub.store.getDevice('dev-a')!;
    expect(hub.store.series({ deviceNum: row.num, deviceId: 'dev-a', metrics: ['cpu.util'], from: t - 1, to: t + 1, points: 10 }).series['cpu.util']).toEqual([[t, 42, 42, 42]]);

    // Resending the same seq with other values is acked but changes nothing.
    peer.send(batch(1, t, { 'cpu.util': 99 }));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 1 && peer.received.filter((x) => x.type === 'ack').length === 2);
    expect(hub.store.series({ deviceNum: row.num, deviceId: 'dev-a', metrics: ['cpu.util'], from: t - 1, to: t + 1, points: 10 }).series['cpu.util']).toEqual([[t, 42, 42, 42]]);
    peer.close();
  });

  it('tells a reconnecting agent the highest sequence number it has committed', async () => {
    const first = await TestPeer.connect(agentUrl);
    first.send(helloFrame('dev-b'));
    await first.waitFor((f) => f.type === 'welcome');
    first.send(batch(41, Date.now(), { 'load.1': 1 }));
    await first.waitFor((f) => f.type === 'ack');
    first.close();

    const second = await TestPeer.connect(agentUrl);
    second.send(helloFrame('dev-b'));
    expect((await second.waitFor((f) => f.type === 'welcome')).lastSeq).toBe(41);
    second.close();
  });

  it('answers malformed frames with error frames and keeps the connection usable', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send('{not json');
    expect(await peer.waitFor((f) => f.type === 'error' && f.code === 'bad_json')).toMatchObject({ v: 1 });

    peer.send(batch(1, Date.now(), { 'cpu.util': 1 }));
    expect(await peer.waitFor((f) => f.code === 'hello_required')).toMatchObject({ seq: 1 });

    peer.send({ ...helloFrame('dev-c'), v: 2 });
    const version = await peer.waitFor((f) => f.code === 'unsupported_version');
    expect(String(version.message)).toMatch(/version 2 is not supported/);

    peer.send({ type: 'telemetry', v: 1 });
    await peer.waitFor((f) => f.code === 'invalid_message');

    peer.send(helloFrame('dev-c'));
    await peer.waitFor((f) => f.type === 'welcome');
    peer.send(batch(1, Date.now(), { 'CPU Util!': 1 }));
    const invalid = await peer.waitFor((f) => f.code === 'invalid_message' && String(f.message).includes('samples'));
    expect(String(invalid.message)).toMatch(/metric names/);

    // After all that, a good batch still goes through.
    peer.send(batch(2, Date.now(), { 'cpu.util': 3 }));
    await peer.waitFor((f) => f.type === 'ack' && f.seq === 2);
    peer.close();
  });

  it('keeps one device per connection', async () => {
    const peer = await TestPeer.connect(agentUrl);
    peer.send(helloFrame('dev-one'));
    await peer.waitFor((f) => f.type === 'welcome');
    peer.send(helloFrame('dev-two'));
    const err = await peer.waitFor((f) => f.type === 'error');
    expect(String(err.message)).toMatch(/already speaks for device dev-one/);
    expect(hub.store.getDevice('dev-two')).toBeUndefined();
    peer.close();
  });

  it('refuses frames above the size limit without affecting other agents', async () => {
    const bystander = await TestPeer.connect(agentUrl);
    bystander.send(helloFrame('dev-bystander'));
    await bystander.waitFor((f) => f.type === 'welcome');

    const hostile = await TestPeer.connect(agentUrl);
    const closed = new Promise<number>((resolve) => hostile.socket.once('close', (code) => resolve(code)));
    hostile.send('x'.repeat(5 * 1024 * 1024));
    expect(await closed).toBe(1009); // "message too big"

    bystander.send(batch(1, Date.now(), { 'cpu.util': 7 }));
    await bystander.waitFor((f) => f.type === 'ack' && f.seq === 1);
    bystander.close();
  });

  it('streams committed samples and device state to live browsers', async () => {
    const viewer = await TestPeer.connect(liveUrl);
    const snapshot = await viewer.waitFor((f) => f.type === 'snapshot');
    expect(Array.isArray(snapshot.devices)).toBe(true);

    const agent = await TestPeer.connect(agentUrl);
    agent.send(helloFrame('dev-live'));
    const online = await viewer.waitFor((f) => f.type === 'device' && (f.device as { id: string }).id === 'dev-live');
    expect((online.device as { online: boolean }).online).toBe(true);

    agent.send(batch(1, 123_000, { 'gpu.0.temp': 55 }));
    const live = await viewer.waitFor((f) => f.type === 'samples' && f.deviceId === 'dev-live');
    expect(live.samples).toEqual([{ t: 123_000, m: { 'gpu.0.temp': 55 } }]);

    agent.close();
    await viewer.waitFor((f) => f.type === 'device' && (f.device as { id: string; online: boolean }).id === 'dev-live' && !(f.device as { online: boolean }).online);
    viewer.close();
  });

  it('serves devices, series and the catalog over REST, with clear 400/404 errors', async () => {
    const base = `${hub.url}/api/v1`;
    const devices = (await (await fetch(`${base}/devices`)).json()) as { devices: { id: string }[] };
    expect(devices.devices.map((d) => d.id)).toContain('dev-a');

    const detail = (await (await fetch(`${base}/devices/dev-a`)).json()) as { metrics: string[] };
    expect(detail.metrics).toEqual(['cpu.util']);

    const series = await fetch(`${base}/devices/dev-a/series?metrics=cpu.util&from=0&to=${Date.now() + 1000}&points=10`);
    expect(series.status).toBe(200);
    expect(((await series.json()) as { series: Record<string, unknown[]> }).series['cpu.util']).toHaveLength(1);

    const missing = await fetch(`${base}/devices/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/no device with id "nope"/);

    const bad = await fetch(`${base}/devices/dev-a/series?metrics=cpu.util&from=abc`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/from must be an integer/);
    expect((await fetch(`${base}/devices/dev-a/series`)).status).toBe(400);
    expect((await fetch(`${base}/devices/dev-a/series?metrics=x;drop%20table`)).status).toBe(400);

    const catalog = (await (await fetch(`${base}/catalog`)).json()) as { metrics: { pattern: string; unit: string }[] };
    expect(catalog.metrics).toContainEqual(expect.objectContaining({ pattern: 'gpu.<i>.power', unit: 'W' }));

    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as { ok: boolean; db: string };
    expect(health).toMatchObject({ ok: true, db: 'ok' });
  });
});
