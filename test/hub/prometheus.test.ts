// GET /metrics on a real hub (127.0.0.1, temp SQLite): exact series, labels and unit
// conversions for samples sent by raw agent peers, Prometheus' own checker (`promtool check
// metrics`, Debian package `prometheus`) over the body, and the API-token gate with auth on.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credentials } from '../../dashboard/server/auth/credentials.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { escapeHelp, escapeLabelValue, formatValue, LABEL_NAME_OK, METRIC_NAME_OK } from '../../dashboard/server/prometheus-format.js';
import { CATALOG_FAMILIES, DEVICE_LABEL } from '../../dashboard/server/prometheus-names.js';
import { LineCache, renderExposition, type HubHealth } from '../../dashboard/server/prometheus-render.js';
import { METRIC_CATALOG, metricSegment } from '../../shared/catalog.js';
import type { DeviceSummary, RemoteWriteStatus } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Whether promtool runs here; with EDGEWATCH_REQUIRE_PROMTOOL=1 its absence fails the promtool tests instead of skipping them. */
const havePromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const requirePromtool = process.env.EDGEWATCH_REQUIRE_PROMTOOL === '1';
const promtoolIt = havePromtool || requirePromtool ? it : it.skip;

/** Runs `promtool check metrics` on an exposition body; its verdict and everything it printed. */
function promtoolCheck(body: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 20_000 });
  if (run.error) throw new Error(`cannot run promtool (install the Debian package "prometheus", or unset EDGEWATCH_REQUIRE_PROMTOOL): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

/**
 * Checks the layout the format requires and promtool may not: every sample belongs to the
 * family whose HELP and TYPE came right before it, and no family appears twice.
 */
function checkGrouping(body: string): void {
  expect(body.endsWith('\n'), 'the body ends with a line feed').toBe(true);
  const seen = new Set<string>();
  let current: string | null = null;
  for (const line of body.slice(0, -1).split('\n')) {
    const help = /^# HELP (\S+) /.exec(line);
    if (help) {
      expect(seen.has(help[1]!), `family ${help[1]} appears twice`).toBe(false);
      seen.add(help[1]!);
      current = help[1]!;
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      expect(line.split(' ')[2], 'TYPE follows its HELP').toBe(current);
      continue;
    }
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    expect(name, `sample line ${JSON.stringify(line)} is well formed`).toBeDefined();
    expect(name, `sample ${JSON.stringify(line)} sits in its own family`).toBe(current);
  }
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const batch = (seq: number, m: Record<string, number>, extra: Record<string, unknown> = {}) => ({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t: Date.now(), m }], ...extra });

describe('Prometheus names for the metric catalog', () => {
  it('maps every catalog pattern to its own valid family with one label per placeholder', () => {
    expect(CATALOG_FAMILIES.map((f) => f.pattern)).toEqual(METRIC_CATALOG.map((s) => s.pattern));
    const names = new Set<string>();
    for (const f of CATALOG_FAMILIES) {
      expect(f.name, f.pattern).toMatch(METRIC_NAME_OK);
      expect(f.name, f.pattern).toMatch(/^edgewatch_/);
      // Reserved for counters, histograms and summaries: a gauge must not end so.
      expect(f.name, f.pattern).not.toMatch(/_(total|count|sum|bucket)$/);
      expect(names.has(f.name), `${f.pattern} → ${f.name} is taken by another pattern`).toBe(false);
      names.add(f.name);
      expect(f.labels.length, f.pattern).toBe((f.pattern.match(/<[a-z]+>/g) ?? []).length);
      expect(new Set(f.labels).size, `${f.pattern} has two labels of one name`).toBe(f.labels.length);
      for (const label of f.labels) {
        expect(label, f.pattern).toMatch(LABEL_NAME_OK);
        expect(label, f.pattern).not.toBe(DEVICE_LABEL);
        expect(label, f.pattern).not.toMatch(/^__/);
      }
    }
  });

  it('names units by their base-unit suffix', () => {
    const byPattern = new Map(CATALOG_FAMILIES.map((f) => [f.pattern, f]));
    const family = (pattern: string) => byPattern.get(pattern)!;
    expect(family('cpu.core.<n>.freq')).toMatchObject({ name: 'edgewatch_cpu_core_frequency_hertz', labels: ['core'] });
    expect(family('gpu.<i>.gpc.<n>.freq')).toMatchObject({ name: 'edgewatch_gpu_gpc_frequency_hertz', labels: ['gpu', 'gpc'] });
    expect(family('net.<iface>.rx_bps')).toMatchObject({ name: 'edgewatch_net_rx_bytes_per_second', labels: ['iface'] });
    expect(family('battery.<name>.capacity')).toMatchObject({ name: 'edgewatch_battery_capacity_ratio', labels: ['battery'] });
    expect(family('infer.<model>.rate')).toMatchObject({ name: 'edgewatch_inference_calls_per_second', labels: ['model'] });
    expect(family('infer.<model>.latency.p99')).toMatchObject({ name: 'edgewatch_inference_latency_p99_seconds', labels: ['model'] });
    expect(family('volt.<sensor>').name).toBe('edgewatch_voltage_volts');
    expect(family('current.<sensor>').name).toBe('edgewatch_current_amperes');
    expect(family('temp.<sensor>').name).toBe('edgewatch_temp_celsius');
    expect(family('power.board').name).toBe('edgewatch_power_board_watts');
    expect(family('procs.count').name).toBe('edgewatch_processes');
    expect(family('cpu.util').convert(42.5)).toBe(0.425);
    expect(family('pi.clock.<block>').convert(1800)).toBe(1.8e9);
    expect(family('infer.<model>.latency.mean').convert(12.5)).toBe(0.0125);
    // Plain decimals in, plain decimals out: no floating-point noise from the scaling.
    expect(formatValue(family('cpu.util').convert(0.07))).toBe('0.0007');
    expect(formatValue(family('infer.<model>.latency.p50').convert(0.009))).toBe('0.000009');
    expect(formatValue(family('cpu.freq').convert(1.001))).toBe('1001000');
  });

  it('escapes label values and HELP text as the format says, and writes non-finite values as Go reads them', () => {
    expect(escapeLabelValue('plain-id_1.2')).toBe('plain-id_1.2');
    expect(escapeLabelValue('a "b" \\ c\nd')).toBe('a \\"b\\" \\\\ c\\nd');
    expect(escapeHelp('a "b" \\ c\nd')).toBe('a "b" \\\\ c\\nd');
    expect([NaN, Infinity, -Infinity, 0, -1.5, 1e21].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '-1.5', '1e+21']);
  });

  const hubHealth: HubHealth = {
    version: 'test',
    startedAtMs: 1_700_000_000_000,
    nowMs: 1_700_000_060_000,
    agentsConnected: 1,
    liveViewers: 0,
    committedBatches: 1,
    committedSamples: 1,
    refusedBatches: 0,
    futureSamplesRejected: 0,
    writable: true,
    databaseBytes: 4096,
  };
  const deviceWith = (id: string, m: Record<string, number>): DeviceSummary => ({
    id,
    name: id,
    hostname: null,
    online: true,
    lastSeen: 1_700_000_000_000,
    firstSeen: 1_700_000_000_000,
    intervalMs: 1000,
    agentVersion: null,
    capabilities: [],
    inventory: {},
    latest: { t: 1_700_000_000_000, m },
    clockOffsetMs: null,
    droppedSamples: 0,
  });

  promtoolIt('renders one sample of every catalog family that promtool accepts without a lint remark', () => {
    // A concrete name per pattern: numeric placeholders get a number, the others a word.
    const m: Record<string, number> = {};
    METRIC_CATALOG.forEach((spec, idx) => {
      m[spec.pattern.replace(/<(n|i)>/g, '1').replace(/<[a-z]+>/g, 'x')] = idx + 0.5;
    });
    const body = renderExposition([deviceWith('every-metric', m)], hubHealth);
    for (const f of CATALOG_FAMILIES) expect(body, f.name).toContain(`# TYPE ${f.name} gauge\n${f.name}{device="every-metric"`);
    checkGrouping(body);
    expect(promtoolCheck(body)).toEqual({ status: 0, output: '' });
  });

  promtoolIt('renders each remote-write destination as edgewatch_remote_storage_* series that promtool accepts', () => {
    const destination = (name: string, over: Partial<RemoteWriteStatus> = {}): RemoteWriteStatus => ({
      name,
      url: `http://127.0.0.1:8428/api/v1/write`,
      sent: 1200,
      pending: 34,
      failed: 2,
      retries: 5,
      lastError: 'HTTP 400: out of order sample',
      lastErrorAt: 1_700_000_050_000,
      lastSentAt: 1_700_000_059_000,
      lagSeconds: 1.5,
      ...over,
    });
    const body = renderExposition([], { ...hubHealth, remoteWrite: [destination('vm'), destination('prom "main"', { lastErrorAt: null, lastSentAt: null })] });
    checkGrouping(body);
    expect(promtoolCheck(body)).toEqual({ status: 0, output: '' });
    expect(body).toContain('edgewatch_remote_storage_samples_total{destination="vm",url="http://127.0.0.1:8428/api/v1/write"} 1200\n');
    expect(body).toContain('edgewatch_remote_storage_samples_pending{destination="prom \\"main\\"",url="http://127.0.0.1:8428/api/v1/write"} 34\n');
    expect(body).toContain('edgewatch_remote_storage_lag_seconds{destination="vm",url="http://127.0.0.1:8428/api/v1/write"} 1.5\n');
    // A time that never happened is left out, not written as 0.
    expect(body.match(/^edgewatch_remote_storage_last_send_timestamp_seconds\{/gm)).toHaveLength(1);
    expect(renderExposition([], hubHealth)).not.toContain('remote_storage');
  });

  it('renders the same body from lines cached across scrapes as from scratch', () => {
    const cache = new LineCache();
    const first = [deviceWith('a', { 'cpu.util': 1, 'temp.soc': 40, 'mem.total': 1024 }), deviceWith('b', { 'cpu.util': 2 })];
    expect(renderExposition(first, hubHealth, cache)).toBe(renderExposition(first, hubHealth));
    // New values, one unchanged, a new metric, a device gone and one new: still exactly what a fresh render gives.
    const second = [deviceWith('a', { 'cpu.util': 3, 'temp.soc': 41, 'mem.total': 1024, 'load.1': 0.25 }), deviceWith('c', { 'cpu.util': 4 })];
    const body = renderExposition(second, hubHealth, cache);
    expect(body).toBe(renderExposition(second, hubHealth));
    expect(body).toContain('edgewatch_cpu_util_ratio{device="a"} 0.03\nedgewatch_cpu_util_ratio{device="c"} 0.04\n');
  });
});

describe('GET /metrics on a hub without auth', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let peers: TestPeer[] = [];
  let body: string;
  let lines: Set<string>;
  const oddName = 'lab "north" \\ rack\n2';
  const model = metricSegment('yolo-v8n@int8/q:2');

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), version: '9.8.7-test' });
    const connect = async (id: string, name: string) => {
      const peer = await TestPeer.connect(hub.agentUrl);
      peer.send(helloFrame(id, { device: { id, name, hostname: `${id}.local` } }));
      await peer.waitFor((f) => f.type === 'welcome');
      return peer;
    };
    const pi = await connect('pi-lab', oddName);
    pi.send(
      batch(
        1,
        {
          'cpu.util': 42.5,
          'cpu.freq': 1200.5,
          'cpu.core.0.util': 10,
          'cpu.core.3.util': 75,
          'cpu.core.3.freq': 1500,
          'load.1': 0.5,
          'mem.used': 512 * 1024 * 1024,
          'temp.cpu_thermal': 51.3,
          'fs.rootfs.used': 123_456_789,
          'fs.rootfs.util': 37,
          'net.eth0.rx_bps': 2048,
          'disk.mmcblk0.read_bps': 4096,
          'volt.in0': 5.08,
          'current.vdd_in': 1.25,
          'power.board': 6.4,
          'fan.fan1': 3000,
          'pi.throttle.under_voltage': 1,
          'pi.clock.arm': 1800,
          'battery.bat0.capacity': 87,
          'procs.count': 213,
          [`infer.${model}.rate`]: 30,
          [`infer.${model}.latency.p99`]: 12.5,
          'future.thing.x': 7,
        },
        { dropped: 7 },
      ),
    );
    await pi.waitFor((f) => f.type === 'ack' && f.seq === 1);
    const jetson = await connect('jetson-1', 'Jetson Orin');
    jetson.send(
      batch(1, {
        'cpu.util': 5,
        'cpu.core.0.util': 4,
        'gpu.0.util': 88,
        'gpu.0.mem.used': 2_000_000_000,
        'gpu.0.clock.sm': 1300,
        'gpu.0.gpc.1.freq': 918,
        'jetson.engine.nvenc.on': 1,
        'fs.rootfs.used': 9_999,
        [`infer.${model}.latency.p99`]: 40,
      }),
    );
    await jetson.waitFor((f) => f.type === 'ack' && f.seq === 1);
    // A device that was here and left: known, but its last values are not current any more.
    const gone = await connect('gone-1', 'gone');
    gone.send(batch(1, { 'cpu.util': 99, 'temp.soc': 80 }));
    await gone.waitFor((f) => f.type === 'ack' && f.seq === 1);
    gone.close();
    await waitFor('gone-1 to be offline', () => !hub.fleet.isOnline('gone-1'));
    peers = [pi, jetson];

    const res = await fetch(`${hub.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
    body = await res.text();
    lines = new Set(body.split('\n'));
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await hub.close();
    tmp.remove();
  });

  it('exports the latest values with their labels, converted to base units', () => {
    const expected = [
      'edgewatch_cpu_util_ratio{device="pi-lab"} 0.425',
      'edgewatch_cpu_util_ratio{device="jetson-1"} 0.05',
      'edgewatch_cpu_frequency_hertz{device="pi-lab"} 1200500000',
      'edgewatch_cpu_core_util_ratio{device="pi-lab",core="0"} 0.1',
      'edgewatch_cpu_core_util_ratio{device="pi-lab",core="3"} 0.75',
      'edgewatch_cpu_core_util_ratio{device="jetson-1",core="0"} 0.04',
      'edgewatch_cpu_core_frequency_hertz{device="pi-lab",core="3"} 1500000000',
      'edgewatch_load_1{device="pi-lab"} 0.5',
      'edgewatch_mem_used_bytes{device="pi-lab"} 536870912',
      'edgewatch_temp_celsius{device="pi-lab",sensor="cpu_thermal"} 51.3',
      'edgewatch_fs_used_bytes{device="pi-lab",mount="rootfs"} 123456789',
      'edgewatch_fs_used_bytes{device="jetson-1",mount="rootfs"} 9999',
      'edgewatch_fs_util_ratio{device="pi-lab",mount="rootfs"} 0.37',
      'edgewatch_net_rx_bytes_per_second{device="pi-lab",iface="eth0"} 2048',
      'edgewatch_disk_read_bytes_per_second{device="pi-lab",dev="mmcblk0"} 4096',
      'edgewatch_voltage_volts{device="pi-lab",sensor="in0"} 5.08',
      'edgewatch_current_amperes{device="pi-lab",sensor="vdd_in"} 1.25',
      'edgewatch_power_board_watts{device="pi-lab"} 6.4',
      'edgewatch_fan_rpm{device="pi-lab",sensor="fan1"} 3000',
      'edgewatch_pi_throttle_under_voltage{device="pi-lab"} 1',
      'edgewatch_pi_clock_hertz{device="pi-lab",block="arm"} 1800000000',
      'edgewatch_battery_capacity_ratio{device="pi-lab",battery="bat0"} 0.87',
      'edgewatch_processes{device="pi-lab"} 213',
      'edgewatch_inference_calls_per_second{device="pi-lab",model="yolo_v8n_int8_q_2"} 30',
      'edgewatch_inference_latency_p99_seconds{device="pi-lab",model="yolo_v8n_int8_q_2"} 0.0125',
      'edgewatch_inference_latency_p99_seconds{device="jetson-1",model="yolo_v8n_int8_q_2"} 0.04',
      'edgewatch_gpu_util_ratio{device="jetson-1",gpu="0"} 0.88',
      'edgewatch_gpu_mem_used_bytes{device="jetson-1",gpu="0"} 2000000000',
      'edgewatch_gpu_clock_sm_hertz{device="jetson-1",gpu="0"} 1300000000',
      'edgewatch_gpu_gpc_frequency_hertz{device="jetson-1",gpu="0",gpc="1"} 918000000',
      'edgewatch_jetson_engine_on{device="jetson-1",engine="nvenc"} 1',
      // Not in the catalog: kept under the generic family with its own name as a label.
      'edgewatch_uncatalogued_value{device="pi-lab",metric="future.thing.x"} 7',
    ];
    for (const line of expected) expect(lines.has(line), `${line}\nis missing from\n${body}`).toBe(true);
    expect(body).toContain('# HELP edgewatch_cpu_core_util_ratio Utilisation of core <n> over the last interval\n# TYPE edgewatch_cpu_core_util_ratio gauge\n');
  });

  it('exports per-device state, with a device name that needs escaping', () => {
    expect(lines.has('edgewatch_device_up{device="pi-lab"} 1')).toBe(true);
    expect(lines.has('edgewatch_device_up{device="gone-1"} 0')).toBe(true);
    expect(lines.has('edgewatch_device_dropped_samples_total{device="pi-lab"} 7')).toBe(true);
    expect(lines.has('edgewatch_device_dropped_samples_total{device="jetson-1"} 0')).toBe(true);
    expect(body).toContain('# TYPE edgewatch_device_dropped_samples_total counter\n');
    expect(lines.has('edgewatch_device_info{device="pi-lab",name="lab \\"north\\" \\\\ rack\\n2",hostname="pi-lab.local",agent_version="test"} 1')).toBe(true);
    const lastSeen = /^edgewatch_device_last_seen_timestamp_seconds\{device="pi-lab"\} (\S+)$/m.exec(body);
    expect(lastSeen?.[1]).toBe(String(hub.store.getDevice('pi-lab')!.lastSeen! / 1000));
  });

  it('exports no values for a device whose agent is gone, only that it is down', () => {
    expect(body).toMatch(/^edgewatch_device_last_seen_timestamp_seconds\{device="gone-1"\} \d/m);
    const valueLines = body.split('\n').filter((l) => l.includes('device="gone-1"') && !/^edgewatch_device_/.test(l));
    expect(valueLines).toEqual([]);
  });

  it("exports the hub's own health", () => {
    expect(lines.has('edgewatch_hub_info{version="9.8.7-test"} 1')).toBe(true);
    expect(lines.has('edgewatch_hub_agents_connected 2')).toBe(true);
    expect(lines.has('edgewatch_hub_devices 3')).toBe(true);
    expect(lines.has('edgewatch_hub_live_viewers 0')).toBe(true);
    expect(lines.has('edgewatch_hub_committed_batches_total 3')).toBe(true);
    expect(lines.has('edgewatch_hub_committed_samples_total 3')).toBe(true);
    expect(lines.has('edgewatch_hub_future_samples_rejected_total 0')).toBe(true);
    expect(lines.has('edgewatch_hub_store_writable 1')).toBe(true);
    expect(body).toContain('# TYPE edgewatch_hub_committed_samples_total counter\n');
    const dbBytes = Number(/^edgewatch_hub_database_size_bytes (\d+)$/m.exec(body)?.[1]);
    // At least the SQLite file itself (pages of 4 KiB, a schema of several tables).
    expect(dbBytes).toBeGreaterThanOrEqual(4096 * 4);
    expect(Number(/^edgewatch_hub_uptime_seconds (\S+)$/m.exec(body)?.[1])).toBeGreaterThanOrEqual(0);
  });

  it('writes every family in one piece, across devices', () => {
    checkGrouping(body);
    // fs_used_bytes has samples from both devices: both sit under the one HELP/TYPE.
    expect(body.match(/^# TYPE edgewatch_fs_used_bytes /gm)).toHaveLength(1);
  });

  promtoolIt('passes promtool check metrics with no lint remarks', () => {
    expect(promtoolCheck(body)).toEqual({ status: 0, output: '' });
  });

  it('is open without auth on, like the API', async () => {
    const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: 'Bearer ewa_nonsense' } });
    expect(res.status).toBe(200);
    await res.text();
  });
});

describe('GET /metrics on a hub with auth on', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let creds: Credentials;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), auth: true });
    creds = new Credentials(hub.store);
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  it('refuses a scrape without a token with 401 and says how to set one up', async () => {
    const res = await fetch(`${hub.url}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edgewatch"');
    const text = await res.text();
    expect(text).toContain('edgewatch token create-api');
    expect(text).toContain('authorization: { credentials: ewa_');
    expect(text).not.toContain('edgewatch_');
  });

  it('refuses an invalid or revoked token with 401', async () => {
    const bad = await fetch(`${hub.url}/metrics`, { headers: { authorization: 'Bearer ewa_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toMatch(/invalid or revoked/);

    const t = creds.createApiToken('revoked-scraper');
    expect(creds.revokeToken(t.id)).toBe('revoked');
    const revoked = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(revoked.status).toBe(401);
    await revoked.text();
  });

  it('serves the exposition to an API token and to a dashboard session', async () => {
    const t = creds.createApiToken('prometheus');
    const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
    const text = await res.text();
    expect(text.split('\n')).toContain(`edgewatch_hub_info{version="${EDGEWATCH_VERSION}"} 1`);

    const login = await fetch(`${hub.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: hub.initialLogin!.user, password: hub.initialLogin!.password }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const viaSession = await fetch(`${hub.url}/metrics`, { headers: { cookie } });
    expect(viaSession.status).toBe(200);
    expect(await viaSession.text()).toContain('# TYPE edgewatch_hub_store_writable gauge\n');
  });
});
