// The dashboard's pure logic, without a browser: which charts a device gets, time-axis ticks
// and hash routes.
import { describe, expect, it } from 'vitest';
import { planPage } from '../../dashboard/web/src/chart-plan.js';
import { deviceHref, parseRoute } from '../../dashboard/web/src/router.js';
import { pickStep, timeTicks } from '../../dashboard/web/src/time-axis.js';

const PI = [
  'cpu.util', 'cpu.iowait', 'cpu.freq', 'cpu.core.0.util', 'cpu.core.1.util', 'cpu.core.10.util', 'cpu.core.2.util',
  'load.1', 'load.5', 'load.15', 'mem.total', 'mem.used', 'mem.cached', 'mem.available', 'swap.total', 'swap.used',
  'temp.cpu_thermal', 'net.lo.rx_bps', 'net.lo.tx_bps', 'net.eth0.rx_bps', 'net.eth0.tx_bps', 'net.veth12ab.rx_bps',
  'disk.mmcblk0.read_bps', 'disk.mmcblk0.write_bps', 'disk.mmcblk0.util',
  'fs.rootfs.used', 'fs.rootfs.size', 'fs.rootfs.util', 'fs.boot_firmware.used', 'fs.boot_firmware.size',
  'not.in.catalog',
];
const GPU_BOX = [
  'cpu.util', 'mem.used', 'mem.total',
  ...[0, 1].flatMap((i) => ['util', 'mem.used', 'mem.total', 'power', 'power.limit', 'temp', 'clock.sm', 'fan'].map((q) => `gpu.${i}.${q}`)),
];

describe('planPage', () => {
  it('charts only what a Pi has: no GPU charts, cores thin, loopback and veth hidden', () => {
    const plan = planPage(PI);
    expect(plan.charts.map((c) => c.id)).toEqual(['cpu', 'cpu-freq', 'load', 'memory', 'temp', 'net', 'disk']);
    const cpu = plan.charts[0]!;
    expect(cpu.series.map((s) => s.metric)).toEqual([
      'cpu.util', 'cpu.iowait', 'cpu.core.0.util', 'cpu.core.1.util', 'cpu.core.2.util', 'cpu.core.10.util',
    ]);
    expect(cpu.series.filter((s) => s.role === 'detail').every((s) => s.width < 2 && !s.legend)).toBe(true);
    expect(cpu).toMatchObject({ unit: '%', min: 0, max: 100 });
    const net = plan.charts.find((c) => c.id === 'net')!;
    expect(net.series.map((s) => s.metric)).toEqual(['net.eth0.rx_bps', 'net.eth0.tx_bps']);
    expect(plan.charts.find((c) => c.id === 'disk')!.series.map((s) => s.metric)).toEqual(['disk.mmcblk0.read_bps', 'disk.mmcblk0.write_bps']);
    expect(plan.charts.find((c) => c.id === 'memory')!.series.map((s) => s.metric)).toEqual(['mem.used', 'mem.cached', 'swap.used', 'mem.total']);
    expect(plan.filesystems).toEqual(['boot_firmware', 'rootfs']);
    expect(plan.metrics).not.toContain('not.in.catalog');
    expect(plan.metrics).toContain('fs.rootfs.util');
  });

  it('gives a GPU box one chart per GPU quantity with one line per GPU', () => {
    const plan = planPage(GPU_BOX, new Map([[0, 'A100'], [1, 'A100']]));
    expect(plan.charts.map((c) => c.id)).toEqual(['cpu', 'memory', 'gpu-util', 'gpu-mem', 'gpu-power', 'gpu-temp', 'gpu-clock']);
    const util = plan.charts.find((c) => c.id === 'gpu-util')!;
    expect(util.series.map((s) => [s.metric, s.label])).toEqual([
      ['gpu.0.util', 'GPU 0'],
      ['gpu.1.util', 'GPU 1'],
    ]);
    const power = plan.charts.find((c) => c.id === 'gpu-power')!;
    expect(power.series.map((s) => `${s.metric}:${s.role}`)).toEqual([
      'gpu.0.power:main', 'gpu.0.power.limit:limit', 'gpu.1.power:main', 'gpu.1.power.limit:limit',
    ]);
  });

  it('names GPUs only when the models differ', () => {
    const plan = planPage(['gpu.0.util', 'gpu.1.util'], new Map([[0, 'RTX 4090'], [1, 'Tesla T4']]));
    expect(plan.charts[0]!.series.map((s) => s.label)).toEqual(['GPU 0 RTX 4090', 'GPU 1 Tesla T4']);
  });

  it('shows the loopback interface when it is the only one', () => {
    const plan = planPage(['net.lo.rx_bps', 'net.lo.tx_bps']);
    expect(plan.charts.map((c) => c.id)).toEqual(['net']);
  });

  it('has nothing to chart for a device without metrics', () => {
    // Nor anything to call absent: no metric yet says nothing about the hardware.
    expect(planPage([])).toEqual({ charts: [], filesystems: [], metrics: [], virtualInterfaces: [], absent: [] });
  });
});

describe('time axis', () => {
  it('picks a round step for the span', () => {
    expect(pickStep(10 * 60_000, 7)).toBe(2 * 60_000);
    expect(pickStep(15 * 60_000, 7)).toBe(5 * 60_000);
    expect(pickStep(24 * 3_600_000, 8)).toBe(3 * 3_600_000);
    expect(pickStep(60_000, 10)).toBe(10_000);
  });

  it('places ticks on step multiples inside the range', () => {
    const min = Date.UTC(2024, 4, 1, 10, 3, 27);
    const max = min + 10 * 60_000;
    const { values, step } = timeTicks(min, max, 6);
    expect(step).toBe(2 * 60_000);
    expect(values.length).toBeGreaterThanOrEqual(4);
    expect(values.length).toBeLessThanOrEqual(6);
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(min);
      expect(v).toBeLessThanOrEqual(max);
      expect(new Date(v).getSeconds()).toBe(0);
      expect(new Date(v).getMinutes() % 2).toBe(0);
    }
  });

  it('puts day ticks on local midnights', () => {
    const min = Date.UTC(2024, 4, 1, 10, 0, 0);
    const { values, step } = timeTicks(min, min + 7 * 86_400_000, 4);
    expect(step).toBeGreaterThanOrEqual(86_400_000);
    for (const v of values) expect([new Date(v).getHours(), new Date(v).getMinutes()]).toEqual([0, 0]);
  });

  it('returns nothing for an empty range', () => {
    expect(timeTicks(5, 5, 5).values).toEqual([]);
  });
});

describe('routes', () => {
  it('parses fleet and device routes', () => {
    expect(parseRoute('')).toEqual({ page: 'fleet' });
    expect(parseRoute('#/')).toEqual({ page: 'fleet' });
    expect(parseRoute('#/nonsense')).toEqual({ page: 'fleet' });
    expect(parseRoute('#/device/jetson-01')).toEqual({ page: 'device', id: 'jetson-01', range: 'live' });
    expect(parseRoute('#/device/a%2Fb?range=6h')).toEqual({ page: 'device', id: 'a/b', range: '6h' });
    expect(parseRoute('#/device/x?range=bogus')).toEqual({ page: 'device', id: 'x', range: 'live' });
    expect(parseRoute('#/device/%E0%A4%A')).toEqual({ page: 'fleet' });
  });

  it('round-trips through deviceHref', () => {
    for (const id of ['pi', 'a b/c?d', 'x.y_z-1']) {
      expect(parseRoute(deviceHref(id, '24h'))).toEqual({ page: 'device', id, range: '24h' });
      expect(parseRoute(deviceHref(id))).toEqual({ page: 'device', id, range: 'live' });
    }
  });
});
