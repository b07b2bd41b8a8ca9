// The real jetson collector on a Jetson Nano tree (test/fixtures/sysroot/jetson-nano: device
// tree and nv_tegra_release), against a fake tegrastats (test/fixtures/bin/tegrastats) that
// replays real captures at the pace the collector asks for, and a fake `nvpmodel -q`. Without
// tegrastats it reads the sysfs tree of test/fixtures/sysroot/jetson-nano-sysfs.
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Collector, CollectorContext, MetricValues } from '../../agent/collectors/collector.js';
import { createJetsonCollector, jetsonCollector } from '../../agent/collectors/jetson.js';
import { parseTegrastatsLine } from '../../agent/parsers/tegrastats/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { contextFor, scenarioTree, type Tree } from './harness.js';

const BIN = fileURLToPath(new URL('../fixtures/bin/', import.meta.url));
const TEGRASTATS_DIR = fileURLToPath(new URL('../fixtures/tegrastats/', import.meta.url));
const INTERVAL_MS = 100;
const NANO_CAPTURE = 'nano-4gb_jp4.6.1_sudo-iram.txt';
const SWITCHES = ['FAKE_TEGRASTATS_FIXTURE', 'FAKE_TEGRASTATS_LOG', 'FAKE_TEGRASTATS_DIE_AFTER', 'FAKE_TEGRASTATS_DENY', 'FAKE_NVPMODEL_FAIL'];
/** Host directories are not searched: a test machine's own /usr/bin must not matter. */
const factory = createJetsonCollector({ toolDirs: [] });

interface LogEntry {
  event: 'start' | 'exit';
  t: number;
  pid: number;
  args: string[];
}

let tree: Tree | undefined;
let work: { dir: string; remove: () => void };
let startLog: string;
let open: Collector[] = [];

function ctx(overrides: Partial<CollectorContext> = {}): CollectorContext {
  if (!tree) tree = scenarioTree('jetson-nano');
  return contextFor(tree.root, { intervalMs: INTERVAL_MS, path: BIN, ...overrides });
}

function starts(): LogEntry[] {
  if (!existsSync(startLog)) return [];
  return readFileSync(startLog, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogEntry)
    .filter((e) => e.event === 'start');
}

async function detect(c = ctx(), f = factory): Promise<Collector> {
  const collector = await f.detect(c);
  if (!collector) throw new Error('jetson detected nothing on the Jetson Nano tree');
  open.push(collector);
  return collector;
}

async function sample(collector: Collector, now = Date.now(), out: MetricValues = {}): Promise<MetricValues> {
  await collector.sample(now, out);
  return out;
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function valuesFrom(collector: Collector, metric = 'mem.total', timeoutMs = 3000): Promise<MetricValues> {
  return waitFor(async () => {
    const v = await sample(collector);
    return metric in v ? v : undefined;
  }, timeoutMs, `${metric} from the jetson collector`);
}

function captureLine(name: string, n = 0): string {
  return readFileSync(join(TEGRASTATS_DIR, name), 'utf8').split('\n').filter((l) => l.trim() !== '')[n]!;
}

beforeAll(() => {
  chmodSync(join(BIN, 'tegrastats'), 0o755);
  chmodSync(join(BIN, 'nvpmodel'), 0o755);
});

beforeEach(() => {
  work = tempDir('edgewatch-jetson-');
  startLog = join(work.dir, 'starts.jsonl');
  for (const s of SWITCHES) delete process.env[s];
  process.env.FAKE_TEGRASTATS_LOG = startLog;
  process.env.FAKE_TEGRASTATS_FIXTURE = NANO_CAPTURE;
});

afterEach(async () => {
  await Promise.all(open.map((c) => c.close?.()));
  open = [];
  for (const s of SWITCHES) delete process.env[s];
  tree?.remove();
  tree = undefined;
  work.remove();
});

describe('jetson collector: detection and inventory', () => {
  it('is absent on a board that is not a Jetson, even with tegrastats on the PATH', async () => {
    tree = scenarioTree('x86-vm');
    expect(await factory.detect(ctx())).toBeNull();
    tree.remove();
    tree = scenarioTree('raspberry-pi-3');
    expect(await jetsonCollector.detect(ctx())).toBeNull();
    expect(starts()).toEqual([]);
  });

  it('reports the board, the L4T release with its JetPack, and the nvpmodel power mode', async () => {
    const collector = await detect();
    expect(collector.name).toBe('jetson');
    expect(collector.inventory?.()).toEqual({
      board: { model: 'NVIDIA Jetson Nano Developer Kit', compatible: ['nvidia,p3450-0000', 'nvidia,tegra210'] },
      jetson: { l4t: '32.7.4', jetpack: '4.6.4', powerMode: 'MAXN', powerModeId: 0 },
    });
  });

  it('goes without the power mode when nvpmodel fails, and without the release when the file is absent', async () => {
    process.env.FAKE_NVPMODEL_FAIL = '1';
    tree = scenarioTree('jetson-nano');
    rmSync(join(tree.root, 'etc/nv_tegra_release'));
    const collector = await detect();
    expect(collector.inventory?.()).toEqual({ board: { model: 'NVIDIA Jetson Nano Developer Kit', compatible: ['nvidia,p3450-0000', 'nvidia,tegra210'] } });
  });
});

describe('jetson collector: tegrastats', () => {
  it('keeps one tegrastats at the sampling interval and reports its latest line', async () => {
    const collector = await detect();
    const values = await valuesFrom(collector);
    expect(values).toEqual(parseTegrastatsLine(captureLine(NANO_CAPTURE)).m);
    expect(values).toMatchObject({ 'gpu.0.util': 0, 'gpu.0.clock.gr': 76, 'jetson.iram.total': 252 * 1024, 'power.board': 1.75, 'temp.cpu': 40 });
    expect(values).not.toHaveProperty('temp.pmic_1');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      await sample(collector);
    }
    expect(starts()).toHaveLength(1);
    expect(starts()[0]!.args).toEqual(['--interval', String(INTERVAL_MS)]);
  });

  it('follows the stream line by line (TX2 capture, three different lines)', async () => {
    process.env.FAKE_TEGRASTATS_FIXTURE = 'tx2_l4t28.2_sudo-multiline.txt';
    const collector = await detect();
    const seen = new Set<number>();
    await waitFor(async () => {
      const v = await sample(collector);
      if (v['power.rail.vdd_in'] !== undefined) seen.add(v['power.rail.vdd_in']);
      return seen.size >= 3 ? true : undefined;
    }, 5000, 'all three VDD_IN readings');
    expect([...seen].sort()).toEqual([1.738, 1.776, 1.931]);
  });

  it('does not overwrite what the /proc collectors already put in the tick', async () => {
    const collector = await detect();
    await valuesFrom(collector);
    const out = await sample(collector, Date.now(), { 'mem.used': 123, 'cpu.core.0.util': 4.25, 'swap.total': 0 });
    expect(out['mem.used']).toBe(123);
    expect(out['cpu.core.0.util']).toBe(4.25);
    expect(out['swap.total']).toBe(0);
    // What only tegrastats knows is added.
    expect(out['mem.total']).toBe(3964 * 1_048_576);
    expect(out['cpu.core.1.util']).toBe(4);
    expect(out['mem.lfb']).toBe(2 * 1_048_576);
  });

  it('reports nothing once the latest line is older than 3 intervals, and goes quiet when tegrastats dies', async () => {
    process.env.FAKE_TEGRASTATS_DIE_AFTER = '2';
    const collector = await detect(ctx(), createJetsonCollector({ toolDirs: [], backoff: { initialMs: 60_000, jitter: 0 } }));
    await valuesFrom(collector);
    expect(await sample(collector, Date.now() + INTERVAL_MS)).toHaveProperty('gpu.0.clock.gr', 76);
    expect(await sample(collector, Date.now() + 4 * INTERVAL_MS)).toEqual({});
    await waitFor(() => (readFileSync(startLog, 'utf8').includes('"exit"') ? true : undefined), 3000, 'the fake to exit');
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    expect(await sample(collector)).toEqual({});
    expect(starts()).toHaveLength(1);
  });

  it('close() stops tegrastats', async () => {
    const collector = await detect();
    await valuesFrom(collector);
    const pid = starts()[0]!.pid;
    await collector.close?.();
    open = [];
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('jetson collector: sysfs without tegrastats', () => {
  /** Values of jetson-nano-sysfs (see test/fixtures/sysroot/README.md). */
  const NANO_SYSFS = {
    'gpu.0.util': 0,
    'gpu.0.clock.gr': 921.6,
    'volt.pom_5v_in': 5,
    'current.pom_5v_in': 0.35,
    'power.rail.pom_5v_in': 1.75,
    'volt.pom_5v_gpu': 5,
    'current.pom_5v_gpu': 0,
    'power.rail.pom_5v_gpu': 0,
    'volt.pom_5v_cpu': 5,
    'current.pom_5v_cpu': 0.073,
    'power.rail.pom_5v_cpu': 0.365,
    'power.board': 1.75,
  };

  it('reads GPU load, devfreq clock and INA3221 hwmon rails, and no thermal zones', async () => {
    tree = scenarioTree('jetson-nano', 'jetson-nano-sysfs');
    const collector = await detect(ctx({ path: '' }));
    expect(await sample(collector)).toEqual(NANO_SYSFS);
    tree.write('sys/devices/gpu.0/load', '347\n');
    const out = await sample(collector, Date.now(), { 'power.board': 2 });
    expect(out['gpu.0.util']).toBe(34.7);
    expect(out['power.board']).toBe(2);
  });

  it('reads the L4T 32 ina3221x iio rails and a platform-bus GPU load file', async () => {
    tree = scenarioTree('jetson-nano');
    // The L4T 32 layout; values made up for the test, power not equal to V×A on purpose, to
    // show that the driver's own in_power reading is the one reported.
    const iio = 'sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0';
    const rails: [string, number, number, number][] = [
      ['POM_5V_IN', 4968, 352, 1750],
      ['POM_5V_GPU', 4976, 0, 0],
      ['POM_5V_CPU', 4976, 73, 366],
    ];
    rails.forEach(([name, mV, mA, mW], k) => {
      tree!.write(`${iio}/rail_name_${k}`, `${name}\n`);
      tree!.write(`${iio}/in_voltage${k}_input`, `${mV}\n`);
      tree!.write(`${iio}/in_current${k}_input`, `${mA}\n`);
      tree!.write(`${iio}/in_power${k}_input`, `${mW}\n`);
    });
    tree.write('sys/devices/platform/17000000.gv11b/load', '120\n');
    const collector = await detect(ctx({ path: '' }));
    expect(await sample(collector)).toEqual({
      'gpu.0.util': 12,
      'volt.pom_5v_in': 4.968,
      'current.pom_5v_in': 0.352,
      'power.rail.pom_5v_in': 1.75,
      'volt.pom_5v_gpu': 4.976,
      'current.pom_5v_gpu': 0,
      'power.rail.pom_5v_gpu': 0,
      'volt.pom_5v_cpu': 4.976,
      'current.pom_5v_cpu': 0.073,
      'power.rail.pom_5v_cpu': 0.366,
      'power.board': 1.75,
    });
  });

  it('falls back to sysfs when tegrastats refuses to run for lack of permission', async () => {
    process.env.FAKE_TEGRASTATS_DENY = '1';
    tree = scenarioTree('jetson-nano', 'jetson-nano-sysfs');
    const collector = await detect(ctx(), createJetsonCollector({ toolDirs: [], backoff: { initialMs: 50, jitter: 0 } }));
    const values = await valuesFrom(collector, 'gpu.0.clock.gr');
    expect(values).toEqual(NANO_SYSFS);
    await new Promise((r) => setTimeout(r, 300));
    expect(starts()).toHaveLength(1);
  });
});
