// The dashboard's pure logic for edge boards, without a browser: the power, fan, voltage and
// Jetson GPU charts a device gets, the Jetson panel's model, when a Pi flag was set (from
// series points), process-table sorting and the inventory lines.
import { describe, expect, it } from 'vitest';
import type { DeviceSummary, SeriesPoint } from '../../shared/live.js';
import type { ProcessRow } from '../../shared/protocol.js';
import {
  boardAverage,
  flagState,
  flagTiming,
  flagWhen,
  isJetson,
  isPi,
  jetsonRelease,
  jetsonView,
  powerModeLabel,
  refineTiming,
} from '../../dashboard/web/src/board-model.js';
import { planPage } from '../../dashboard/web/src/chart-plan.js';
import { inventoryRows } from '../../dashboard/web/src/device-facts.js';
import { DEFAULT_SORT, nextSort, shortenCommand, sortRows } from '../../dashboard/web/src/process-model.js';

// What the tegrastats collector makes of an AGX Orin line (JetPack 6):
// `EMC_FREQ 3%@2133 GR3D_FREQ 0%@[0,0] NVENC 79%@166 NVDEC off VIC 36%@115 APE 174 …
//  VDD_GPU_SOC 2412mW/2412mW VDD_CPU_CV 1607mW/1607mW VIN_SYS_5V0 4707mW/4707mW`.
const ORIN: Record<string, number> = {
  'cpu.util': 14,
  'mem.used': 18207 * 2 ** 20,
  'mem.total': 62841 * 2 ** 20,
  'jetson.emc.util': 3,
  'jetson.emc.freq': 2133,
  'gpu.0.util': 0,
  'gpu.0.clock.gr': 0,
  'gpu.0.gpc.0.freq': 0,
  'gpu.0.gpc.1.freq': 0,
  'jetson.engine.nvenc.util': 79,
  'jetson.engine.nvenc.freq': 166,
  'jetson.engine.nvenc.on': 1,
  'jetson.engine.nvdec.on': 0,
  'jetson.engine.nvdla0.on': 0,
  'jetson.engine.vic.util': 36,
  'jetson.engine.vic.freq': 115,
  'jetson.engine.ape.freq': 174,
  'power.rail.vdd_gpu_soc': 2.412,
  'power.rail.vdd_gpu_soc.avg': 2.412,
  'power.rail.vdd_cpu_cv': 1.607,
  'power.rail.vdd_cpu_cv.avg': 1.607,
  'power.rail.vin_sys_5v0': 4.707,
  'power.rail.vin_sys_5v0.avg': 4.657,
  'power.board': 8.726,
  'temp.tj': 52.562,
};

describe('planPage for edge boards', () => {
  it('gives a Jetson a power chart (board bold, rails), GPU utilisation and a GPC clock chart', () => {
    const plan = planPage(Object.keys(ORIN));
    expect(plan.charts.map((c) => c.id)).toEqual(['cpu', 'memory', 'gpu-util', 'gpu-clock', 'temp', 'power']);
    const power = plan.charts.find((c) => c.id === 'power')!;
    expect(power.series.map((s) => [s.metric, s.label])).toEqual([
      ['power.board', 'board'],
      ['power.rail.vdd_cpu_cv', 'VDD_CPU_CV'],
      ['power.rail.vdd_gpu_soc', 'VDD_GPU_SOC'],
      ['power.rail.vin_sys_5v0', 'VIN_SYS_5V0'],
    ]);
    expect(power.series[0]!.width).toBeGreaterThan(power.series[1]!.width);
    expect(power).toMatchObject({ unit: 'W', min: 0, group: 'power' });
    // Running averages are the panel's business, not extra lines.
    expect(plan.metrics).not.toContain('power.rail.vdd_in.avg');
    const clock = plan.charts.find((c) => c.id === 'gpu-clock')!;
    expect(clock.title).toBe('GPU clock');
    expect(clock.series.map((s) => [s.metric, s.label])).toEqual([
      ['gpu.0.clock.gr', 'GPU 0'],
      ['gpu.0.gpc.0.freq', 'GPC 0'],
      ['gpu.0.gpc.1.freq', 'GPC 1'],
    ]);
    expect(clock.series[0]!.width).toBeGreaterThan(clock.series[1]!.width);
    // gpu.0.gpc.1.freq must not invent a "GPU 0/1".
    expect(plan.charts.find((c) => c.id === 'gpu-util')!.series.map((s) => s.label)).toEqual(['GPU 0']);
  });

  it('charts an older Jetson GPU clock (no clusters), and adds GPC clocks to an SM clock chart', () => {
    expect(planPage(['gpu.0.clock.gr']).charts.map((c) => [c.id, c.title, c.series.map((s) => s.metric)])).toEqual([
      ['gpu-clock', 'GPU clock', ['gpu.0.clock.gr']],
    ]);
    const plan = planPage(['gpu.0.clock.sm', 'gpu.0.gpc.0.freq']);
    expect(plan.charts.map((c) => [c.id, c.title, c.series.length])).toEqual([['gpu-clock', 'GPU SM clock', 2]]);
  });

  it('charts RAPL, hwmon and battery power, fans (rpm and drive), voltages and currents', () => {
    const plan = planPage([
      'power.rapl.package_0', 'power.rapl.dram', 'power.hwmon.amdgpu', 'battery.bat0.power', 'battery.bat0.capacity',
      'fan.cpu_fan', 'fan.cpu_fan.pwm', 'fan.chassis', 'volt.vcore', 'volt.in1', 'pi.volt.core', 'pi.volt.sdram_c', 'current.ina_ch0',
    ]);
    expect(plan.charts.map((c) => c.id)).toEqual(['power', 'fans', 'fan-pwm', 'volt', 'current']);
    const byId = (id: string) => plan.charts.find((c) => c.id === id)!;
    expect(byId('power').series.map((s) => s.metric)).toEqual(['power.rapl.dram', 'power.rapl.package_0', 'power.hwmon.amdgpu', 'battery.bat0.power']);
    // A battery can discharge: no floor at zero.
    expect(byId('power').min).toBeUndefined();
    expect(byId('fans')).toMatchObject({ unit: 'rpm', group: 'fan' });
    expect(byId('fans').series.map((s) => s.metric)).toEqual(['fan.chassis', 'fan.cpu_fan']);
    expect(byId('fan-pwm')).toMatchObject({ unit: '%', min: 0, max: 100 });
    expect(byId('volt').series.map((s) => s.metric)).toEqual(['volt.in1', 'volt.vcore', 'pi.volt.core', 'pi.volt.sdram_c']);
    expect(byId('volt').unit).toBe('V');
    expect(byId('current')).toMatchObject({ unit: 'A' });
  });

  it('does not chart Pi flags or Jetson engines as lines', () => {
    const plan = planPage(['pi.throttle.under_voltage', 'pi.throttle.bits', 'pi.clock.arm', 'jetson.engine.nvenc.util', 'procs.count']);
    expect(plan.charts).toEqual([]);
  });
});

describe('Jetson panel model', () => {
  it('reads clocks, engines (off ones off) and rails with the board total and its average', () => {
    const v = jetsonView(ORIN);
    expect(v.gpu).toEqual({ util: 0, freq: 0 });
    expect(v.emc).toEqual({ util: 3, freq: 2133 });
    expect(v.engines.map((e) => [e.name, e.on, e.util, e.freq])).toEqual([
      ['APE', true, undefined, 174],
      ['NVDEC', false, undefined, undefined],
      ['NVDLA0', false, undefined, undefined],
      ['NVENC', true, 79, 166],
      ['VIC', true, 36, 115],
    ]);
    expect(v.rails.map((r) => [r.name, r.now, r.avg])).toEqual([
      ['VDD_CPU_CV', 1.607, 1.607],
      ['VDD_GPU_SOC', 2.412, 2.412],
      ['VIN_SYS_5V0', 4.707, 4.657],
    ]);
    // The board total is the rails' sum here, so its average is the sum of theirs.
    expect(v.board.now).toBe(8.726);
    expect(v.board.avg).toBeCloseTo(8.676, 6);
  });

  it("takes the input rail's average where the board power is that rail", () => {
    const rails = [
      { key: 'vdd_in', name: 'VDD_IN', now: 5.1, avg: 4.9, max: undefined },
      { key: 'vdd_cpu_gpu_cv', name: 'VDD_CPU_GPU_CV', now: 0.6, avg: 0.5, max: undefined },
    ];
    expect(boardAverage(5.1, rails)).toBe(4.9);
    expect(boardAverage(9, rails)).toBeUndefined();
    expect(boardAverage(undefined, rails)).toBeUndefined();
  });

  it('uses the GPU clock metric when there are no per-cluster clocks', () => {
    expect(jetsonView({ 'gpu.0.clock.gr': 921 }).gpu.freq).toBe(921);
    expect(jetsonView({ 'gpu.0.gpc.0.freq': 612, 'gpu.0.gpc.1.freq': 918 }).gpu.freq).toBe(918);
  });

  it('knows a Jetson and a Pi by their metrics or inventory, and labels release and power mode', () => {
    expect(isJetson(['cpu.util'], { jetson: { l4t: '36.4.4' } })).toBe(true);
    expect(isJetson(['jetson.emc.util'], {})).toBe(true);
    expect(isJetson(['cpu.util', 'gpu.0.util'], { jetson: {} })).toBe(false);
    expect(isPi(['pi.throttle.bits'])).toBe(true);
    expect(isPi(['cpu.util'])).toBe(false);
    expect(jetsonRelease({ jetson: { l4t: '36.4.4', jetpack: '6.2.1' } })).toBe('JetPack 6.2.1 · L4T R36.4.4');
    expect(jetsonRelease({ jetson: { l4t: 'R32.7.4' } })).toBe('L4T R32.7.4');
    expect(powerModeLabel({ jetson: { powerMode: '15W', powerModeId: 2 } })).toBe('15W (mode 2)');
    expect(powerModeLabel({ jetson: { powerModeId: 0 } })).toBe('mode 0');
    expect(powerModeLabel({})).toBe('');
  });
});

describe('Pi throttling flags', () => {
  // vcgencmd get_throttled = 0x50005: under-voltage and throttled now, and both since boot.
  const m = {
    'pi.throttle.under_voltage': 1,
    'pi.throttle.freq_capped': 0,
    'pi.throttle.throttled': 1,
    'pi.throttle.soft_temp_limit': 0,
    'pi.throttle.under_voltage_since_boot': 1,
    'pi.throttle.freq_capped_since_boot': 0,
    'pi.throttle.throttled_since_boot': 1,
    'pi.throttle.soft_temp_limit_since_boot': 0,
  };

  it('is red now, amber since boot, green otherwise, grey without a reading', () => {
    expect(flagState(m, 'under_voltage')).toBe('now');
    expect(flagState(m, 'freq_capped')).toBe('ok');
    expect(flagState({ ...m, 'pi.throttle.under_voltage': 0 }, 'under_voltage')).toBe('since-boot');
    expect(flagState({}, 'throttled')).toBe('unknown');
  });

  const step = 60_000;
  const T = Date.UTC(2026, 10, 28, 10, 0, 0);
  const bucket = (i: number, mean: number, min: number, max: number): SeriesPoint => [T + i * step, mean, min, max];

  it('finds the last bucket whose max reached 1, and where a run still going began', () => {
    // Set for a moment in bucket 2, clear, then set from somewhere in bucket 5 to now.
    const points = [bucket(0, 0, 0, 0), bucket(1, 0, 0, 0), bucket(2, 0.1, 0, 1), bucket(3, 0, 0, 0), bucket(4, 0, 0, 0), bucket(5, 0.4, 0, 1), bucket(6, 1, 1, 1), bucket(7, 1, 1, 1)];
    expect(flagTiming(points, step)).toEqual({ last: T + 7 * step, lastEnd: T + 8 * step, runStart: T + 5 * step, runFromRangeStart: false });
    // Cleared again in the newest bucket: no run, last = bucket 6.
    const cleared = [...points.slice(0, 7), bucket(7, 0, 0, 0)];
    expect(flagTiming(cleared, step)).toMatchObject({ last: T + 6 * step, runStart: null });
    // Only the brief blip.
    expect(flagTiming(points.slice(0, 5), step)).toMatchObject({ last: T + 2 * step, runStart: null });
    expect(flagTiming([bucket(0, 0, 0, 0)], step)).toEqual({ last: null, lastEnd: null, runStart: null, runFromRangeStart: false });
    expect(flagTiming([], step).last).toBeNull();
    // Set over the whole range: it began before the range.
    expect(flagTiming([bucket(0, 1, 1, 1), bucket(1, 1, 1, 1)], step)).toMatchObject({ runStart: T, runFromRangeStart: true });
  });

  it('sharpens a bucket with the raw samples inside it', () => {
    const coarse = flagTiming([bucket(0, 0, 0, 0), bucket(1, 0.5, 0, 1), bucket(2, 1, 1, 1)], step);
    const raw: SeriesPoint[] = [0, 1, 0, 1, 1].map((v, i) => [T + step + i * 10_000, v, v, v]);
    expect(refineTiming(coarse, 'run', raw).runStart).toBe(T + step + 30_000);
    const last = flagTiming([bucket(0, 0.5, 0, 1), bucket(1, 0, 0, 0)], step);
    const inside: SeriesPoint[] = [1, 1, 0, 0].map((v, i) => [T + i * 10_000, v, v, v]);
    expect(refineTiming(last, 'last', inside)).toMatchObject({ last: T + 10_000 });
    expect(refineTiming(last, 'last', [])).toBe(last);
  });

  it('says when, on the badge', () => {
    const opts = { now: T + 10 * step, rangeLabel: 'the last 24 h', format: (t: number) => `@${(t - T) / step}`, age: (ms: number) => `${ms / step} min ago` };
    const timing = flagTiming([bucket(0, 0, 0, 0), bucket(3, 1, 1, 1), bucket(4, 1, 1, 1)], step);
    expect(flagWhen('now', timing, opts)).toBe('now, since @3 (7 min ago)');
    expect(flagWhen('now', null, opts)).toBe('now');
    expect(flagWhen('since-boot', flagTiming([bucket(2, 0.2, 0, 1), bucket(3, 0, 0, 0)], step), opts)).toBe('since boot, last @2 (8 min ago)');
    expect(flagWhen('since-boot', flagTiming([bucket(2, 0, 0, 0)], step), opts)).toBe('since boot, not in the last 24 h');
    expect(flagWhen('ok', null, opts)).toBe('ok');
    expect(flagWhen('now', flagTiming([bucket(0, 1, 1, 1)], step), opts)).toBe('now, at least since @0 (10 min ago)');
  });
});

describe('process table sorting', () => {
  const rows: ProcessRow[] = [
    { pid: 10, name: 'python3', cmd: 'python3 train.py', user: 'ml', cpu: 180, rss: 3e9, gpuMem: 2e9, readBps: 1e6 },
    { pid: 2, name: 'Xorg', cmd: '/usr/lib/xorg/Xorg', user: 'root', cpu: 4, rss: 2e8 },
    { pid: 7, name: 'bash', cmd: '-bash', user: 'ml', cpu: 4, rss: 5e6, readBps: 0 },
    { pid: 300, name: 'kworker/1:0', cmd: '', cpu: 0, rss: 0 },
  ];
  const pids = (r: ProcessRow[]) => r.map((x) => x.pid);

  it('sorts numbers highest first by default, ties by pid', () => {
    expect(DEFAULT_SORT).toEqual({ key: 'cpu', dir: 'desc' });
    expect(pids(sortRows(rows, DEFAULT_SORT))).toEqual([10, 2, 7, 300]);
    expect(pids(sortRows(rows, { key: 'cpu', dir: 'asc' }))).toEqual([300, 2, 7, 10]);
    expect(pids(sortRows(rows, { key: 'pid', dir: 'desc' }))).toEqual([300, 10, 7, 2]);
  });

  it('sorts text A→Z ignoring case, and puts rows without a value last either way', () => {
    expect(pids(sortRows(rows, { key: 'name', dir: 'asc' }))).toEqual([7, 300, 10, 2]);
    expect(pids(sortRows(rows, { key: 'gpuMem', dir: 'desc' }))).toEqual([10, 2, 7, 300]);
    expect(pids(sortRows(rows, { key: 'gpuMem', dir: 'asc' }))).toEqual([10, 2, 7, 300]);
    expect(pids(sortRows(rows, { key: 'readBps', dir: 'asc' }))).toEqual([7, 10, 2, 300]);
    expect(pids(sortRows(rows, { key: 'cmd', dir: 'asc' }))).toEqual([7, 2, 10, 300]);
    // The input is not reordered.
    expect(pids(rows)).toEqual([10, 2, 7, 300]);
  });

  it('flips on a second click; a new column starts descending for numbers, A→Z for text', () => {
    expect(nextSort(DEFAULT_SORT, 'cpu')).toEqual({ key: 'cpu', dir: 'asc' });
    expect(nextSort({ key: 'cpu', dir: 'asc' }, 'cpu')).toEqual({ key: 'cpu', dir: 'desc' });
    expect(nextSort(DEFAULT_SORT, 'rss')).toEqual({ key: 'rss', dir: 'desc' });
    expect(nextSort(DEFAULT_SORT, 'name')).toEqual({ key: 'name', dir: 'asc' });
    expect(nextSort(DEFAULT_SORT, 'pid')).toEqual({ key: 'pid', dir: 'desc' });
  });

  it('shortens long commands onto one line', () => {
    expect(shortenCommand('a\n b\tc')).toBe('a b c');
    const long = `python3 ${'x'.repeat(100)}`;
    expect(shortenCommand(long, 20)).toBe(`${long.slice(0, 19)}…`);
    expect(shortenCommand(long, 20)).toHaveLength(20);
  });
});

describe('inventory rows', () => {
  const base: DeviceSummary = {
    id: 'd',
    name: 'd',
    hostname: null,
    online: true,
    lastSeen: null,
    firstSeen: 0,
    intervalMs: 1000,
    agentVersion: '0.1.0',
    capabilities: [],
    inventory: {},
    latest: null,
    clockOffsetMs: 0,
    droppedSamples: 0,
  };

  it('shows a Jetson: model, OS and kernel, JetPack/L4T, power mode, CPU, integrated GPU, RAM', () => {
    const d: DeviceSummary = {
      ...base,
      inventory: {
        os: { platform: 'linux', distro: 'Ubuntu', release: '22.04', kernel: '5.15.148-tegra', arch: 'arm64' },
        cpu: { manufacturer: 'ARM', brand: 'Cortex-A78AE', cores: 12 },
        board: { model: 'NVIDIA Jetson AGX Orin Developer Kit' },
        jetson: { l4t: '36.4.4', jetpack: '6.2.1', soc: 'tegra234', powerMode: 'MAXN', powerModeId: 0 },
        memTotalBytes: 64 * 2 ** 30,
      },
    };
    expect(inventoryRows(d, ['gpu.0.util'])).toEqual([
      ['Model', 'NVIDIA Jetson AGX Orin Developer Kit'],
      ['OS', 'Ubuntu 22.04 · Linux 5.15.148-tegra · arm64'],
      ['JetPack', 'JetPack 6.2.1 · L4T R36.4.4'],
      ['Power mode', 'MAXN (mode 0)'],
      ['CPU', 'ARM Cortex-A78AE · 12 cores'],
      ['GPU', 'tegra234 · integrated, shares RAM'],
      ['RAM', '64.0 GiB'],
      ['Agent', 'v0.1.0 · every 1 s'],
    ]);
  });

  it('shows a Pi with its board revision, and discrete GPUs by index', () => {
    const pi: DeviceSummary = { ...base, inventory: { board: { model: 'Raspberry Pi 4 Model B Rev 1.4', revision: 'c03114' } } };
    expect(inventoryRows(pi)[0]).toEqual(['Model', 'Raspberry Pi 4 Model B Rev 1.4 · rev c03114']);
    const box: DeviceSummary = {
      ...base,
      inventory: {
        system: { manufacturer: 'QEMU', model: 'Standard PC', virtual: true },
        gpus: [
          { index: 0, name: 'H100', memTotalBytes: 80 * 2 ** 30, driver: '580.1' },
          { index: 1, name: 'H100' },
        ],
      },
    };
    expect(inventoryRows(box)).toEqual([
      ['Model', 'QEMU Standard PC (virtual)'],
      ['GPU 0', 'H100 · 80.0 GiB · driver 580.1'],
      ['GPU 1', 'H100'],
      ['Agent', 'v0.1.0 · every 1 s'],
    ]);
  });
});
