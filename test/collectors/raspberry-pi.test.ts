import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Collector, CollectorContext } from '../../agent/collectors/collector.js';
import { FIRMWARE_THROTTLED_NODE, createRaspberryPiCollector, type RaspberryPiCollectorOptions } from '../../agent/collectors/raspberry-pi.js';
import { describeMetric } from '../../shared/catalog.js';
import { InventorySchema } from '../../shared/protocol.js';
import { detectOrFail, pick, sample, scenarioTree, type Tree } from './harness.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/bin');

const T_0x50005 = {
  'pi.throttle.under_voltage': 1,
  'pi.throttle.freq_capped': 0,
  'pi.throttle.throttled': 1,
  'pi.throttle.soft_temp_limit': 0,
  'pi.throttle.under_voltage_since_boot': 1,
  'pi.throttle.freq_capped_since_boot': 0,
  'pi.throttle.throttled_since_boot': 1,
  'pi.throttle.soft_temp_limit_since_boot': 0,
  'pi.throttle.bits': 0x50005,
};
/** The fake vcgencmd's answers (fixtures/bin/vcgencmd): openelec clocks, monitorix temp and volts. */
const VCGENCMD_VALUES = { 'pi.clock.arm': 600, 'pi.clock.core': 250, 'pi.volt.core': 1.2, 'temp.soc': 48.5 };

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

let tree: Tree | undefined;
let collector: Collector | undefined;
const savedEnv = { ...process.env };

afterEach(async () => {
  await collector?.close?.();
  collector = undefined;
  tree?.remove();
  tree = undefined;
  for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_VCGENCMD_')) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

function setUp(opts: { vcgencmd: boolean; firmwareNode?: boolean }): { ctx: CollectorContext; logs: LogLine[]; spawnLog: string } {
  tree = scenarioTree('raspberry-pi-3');
  if (opts.firmwareNode === false) rmSync(join(tree.root, 'sys', FIRMWARE_THROTTLED_NODE));
  const logs: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const spawnLog = join(tree.root, 'vcgencmd-calls.jsonl');
  process.env.FAKE_VCGENCMD_LOG = spawnLog;
  return { ctx: { ...tree.ctx, path: opts.vcgencmd ? BIN : '', log }, logs, spawnLog };
}

/** Options that keep the host's own vcgencmd (on a Pi running these tests) out of the way. */
const OPTS: RaspberryPiCollectorOptions = { fallbackDirs: [], vcgencmdIntervalMs: 60_000 };

function calls(spawnLog: string): string[] {
  if (!existsSync(spawnLog)) return [];
  return readFileSync(spawnLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { args: string[] }).args.join(' '));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('raspberry-pi collector', () => {
  it('returns null on boards that are not a Pi', async () => {
    for (const scenario of ['x86-vm', 'jetson-nano', 'intel-r86s']) {
      const t = scenarioTree(scenario);
      try {
        expect(await createRaspberryPiCollector(OPTS).detect({ ...t.ctx, path: BIN }), scenario).toBeNull();
      } finally {
        t.remove();
      }
    }
  });

  it('firmware node every tick, vcgencmd for clocks, volts and temp; get_throttled is not spawned', async () => {
    const { ctx, spawnLog } = setUp({ vcgencmd: true });
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    expect(calls(spawnLog)).toEqual(['measure_clock arm', 'measure_clock core', 'measure_volts core', 'measure_temp']);

    const values = await sample(collector);
    expect(values).toEqual({ ...T_0x50005, ...VCGENCMD_VALUES });
    for (const name of Object.keys(values)) expect(describeMetric(name), name).not.toBeNull();

    // The node is read again at each tick, with no spawn.
    tree!.write(`sys/${FIRMWARE_THROTTLED_NODE}`, '0\n');
    expect(pick(await sample(collector), 'pi.throttle.')).toEqual(Object.fromEntries(Object.keys(T_0x50005).map((k) => [k, 0])));
    // A node that cannot be parsed this tick leaves the bits out rather than inventing them.
    tree!.write(`sys/${FIRMWARE_THROTTLED_NODE}`, 'garbage\n');
    expect(pick(await sample(collector), 'pi.throttle.')).toEqual({});
    expect(calls(spawnLog)).toHaveLength(4);
  });

  it('board facts from the device tree and cpuinfo', async () => {
    const { ctx } = setUp({ vcgencmd: false });
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    const inventory = collector.inventory!();
    expect(inventory).toEqual({
      board: { manufacturer: 'Sony UK', model: 'Raspberry Pi 3 Model B Rev 1.2', revision: 'a02082', compatible: ['brcm,bcm2710', 'brcm,bcm2709'] },
    });
    expect(InventorySchema.parse(inventory)).toEqual(inventory);
  });

  it('vcgencmd values go stale: older than staleAfterMs they are dropped, the sysfs bits stay', async () => {
    const { ctx } = setUp({ vcgencmd: true });
    collector = await detectOrFail(createRaspberryPiCollector({ ...OPTS, staleAfterMs: 10_000 }), ctx);
    expect(pick(await sample(collector, Date.now()), 'pi.clock.')).toEqual({ 'pi.clock.arm': 600, 'pi.clock.core': 250 });
    expect(await sample(collector, Date.now() + 10_500)).toEqual(T_0x50005);
  });

  it('runs vcgencmd at its own cadence and never two runs at once', async () => {
    const { ctx, spawnLog } = setUp({ vcgencmd: true });
    const factory = createRaspberryPiCollector({ ...OPTS, vcgencmdIntervalMs: 60_000 });
    collector = await detectOrFail(factory, ctx);
    const refresh = (collector as unknown as { refresh(): Promise<void> }).refresh.bind(collector);
    const first = refresh();
    expect(refresh()).toBe(first);
    await Promise.all([first, refresh()]);
    // detect's run and one more; the overlapping calls joined the one in flight.
    expect(calls(spawnLog).filter((c) => c === 'measure_temp')).toHaveLength(2);
    await collector.close!();

    rmSync(spawnLog);
    collector = await detectOrFail(createRaspberryPiCollector({ ...OPTS, vcgencmdIntervalMs: 20 }), ctx);
    // A 20 ms timer against runs of four spawns that take far longer: ticks that find a run in
    // flight must join it, so the calls come strictly in run order, never interleaved.
    await until(() => calls(spawnLog).length >= 12);
    await collector.close!();
    const made = calls(spawnLog);
    const run = ['measure_clock arm', 'measure_clock core', 'measure_volts core', 'measure_temp'];
    expect(made).toEqual(made.map((_, i) => run[i % run.length]));
  });

  it('without vcgencmd: the firmware node alone', async () => {
    const { ctx, spawnLog } = setUp({ vcgencmd: false });
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    expect(await sample(collector)).toEqual(T_0x50005);
    expect(calls(spawnLog)).toEqual([]);
  });

  it('without the firmware node: get_throttled joins the vcgencmd run', async () => {
    const { ctx, spawnLog } = setUp({ vcgencmd: true, firmwareNode: false });
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    expect(calls(spawnLog)).toEqual(['measure_clock arm', 'measure_clock core', 'measure_volts core', 'measure_temp', 'get_throttled']);
    expect(await sample(collector)).toEqual({ ...T_0x50005, ...VCGENCMD_VALUES });
  });

  it("without the node or vcgencmd: rpi_volt's in0_lcrit_alarm gives under-voltage now", async () => {
    const { ctx } = setUp({ vcgencmd: false, firmwareNode: false });
    tree!.write('sys/class/hwmon/hwmon1/in0_lcrit_alarm', '1\n');
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    expect(await sample(collector)).toEqual({ 'pi.throttle.under_voltage': 1 });
    tree!.write('sys/class/hwmon/hwmon1/in0_lcrit_alarm', '0\n');
    expect(await sample(collector)).toEqual({ 'pi.throttle.under_voltage': 0 });
  });

  it('with nothing to read it still detects the Pi, reports no values and keeps the board facts', async () => {
    const { ctx, logs } = setUp({ vcgencmd: false, firmwareNode: false });
    collector = await detectOrFail(createRaspberryPiCollector(OPTS), ctx);
    expect(await sample(collector)).toEqual({});
    expect(collector.inventory!().board?.model).toBe('Raspberry Pi 3 Model B Rev 1.2');
    // Quietly: nothing at warn or above.
    expect(logs.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('VCHI initialization failed: one warning naming the video group, then no more spawns', async () => {
    const { ctx, logs, spawnLog } = setUp({ vcgencmd: true });
    process.env.FAKE_VCGENCMD_FAIL = 'vchi';
    collector = await detectOrFail(createRaspberryPiCollector({ ...OPTS, vcgencmdIntervalMs: 50 }), ctx);
    await sleep(300);
    expect(calls(spawnLog)).toEqual(['measure_clock arm']);
    const warnings = logs.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/`video` group/);
    expect(String(warnings[0]!.error)).toMatch(/VCHI initialization failed/);
    // The firmware node does not need vcgencmd.
    expect(await sample(collector)).toEqual(T_0x50005);
    expect((collector as unknown as { vcgencmdActive: boolean }).vcgencmdActive).toBe(false);
  });

  it('a command that keeps failing is dropped after three tries, with one warning each', async () => {
    const { ctx, logs, spawnLog } = setUp({ vcgencmd: true });
    process.env.FAKE_VCGENCMD_FAIL = 'exit';
    collector = await detectOrFail(createRaspberryPiCollector({ ...OPTS, vcgencmdIntervalMs: 40 }), ctx);
    const active = () => (collector as unknown as { vcgencmdActive: boolean }).vcgencmdActive;
    await until(() => !active());
    await sleep(200);
    const made = calls(spawnLog);
    expect(made.filter((c) => c === 'measure_temp')).toHaveLength(3);
    expect(made).toHaveLength(12);
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'vcgencmd measure_clock arm keeps failing; no longer run',
      'vcgencmd measure_clock core keeps failing; no longer run',
      'vcgencmd measure_volts core keeps failing; no longer run',
      'vcgencmd measure_temp keeps failing; no longer run',
    ]);
    expect((collector as unknown as { vcgencmdActive: boolean }).vcgencmdActive).toBe(false);
    expect(await sample(collector)).toEqual(T_0x50005);
  });
});
