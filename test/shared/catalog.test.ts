import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeMetric, METRIC_CATALOG, metricSegment, mountSegment, unitOf } from '../../shared/catalog.js';
import { formatAge, formatValue } from '../../shared/format.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { METRIC_NAME_RE } from '../../shared/protocol.js';

describe('metric catalog', () => {
  it('knows the canonical names the issue lists, with their units', () => {
    const expected: Record<string, string> = {
      'cpu.util': '%',
      'cpu.core.3.util': '%',
      'mem.used': 'bytes',
      'mem.total': 'bytes',
      'swap.used': 'bytes',
      'load.1': 'load',
      'net.eth0.rx_bps': 'B/s',
      'net.wlan0.tx_bps': 'B/s',
      'disk.mmcblk0.read_bps': 'B/s',
      'disk.nvme0n1.write_bps': 'B/s',
      'fs.rootfs.used': 'bytes',
      'fs.boot_firmware.size': 'bytes',
      'temp.cpu_thermal': '°C',
      'gpu.0.util': '%',
      'gpu.1.mem.used': 'bytes',
      'gpu.0.mem.total': 'bytes',
      'gpu.0.power': 'W',
      'gpu.2.temp': '°C',
      'gpu.0.clock.sm': 'MHz',
    };
    for (const [name, unit] of Object.entries(expected)) expect(unitOf(name), name).toBe(unit);
  });

  it('extracts placeholders and refuses names outside the catalog', () => {
    expect(describeMetric('cpu.core.12.freq')?.params).toEqual({ n: '12' });
    expect(describeMetric('net.br_lan.rx_bps')?.params).toEqual({ iface: 'br_lan' });
    expect(describeMetric('cpu.core.x.util')).toBeNull(); // <n> is numeric
    expect(describeMetric('gpu.0.memory')).toBeNull();
  });

  it('has one entry per pattern, each a valid metric name once placeholders are filled', () => {
    const patterns = METRIC_CATALOG.map((s) => s.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
    for (const p of patterns) expect(p.replace(/<[a-z]+>/g, '0')).toMatch(METRIC_NAME_RE);
  });

  it('turns raw labels into name segments', () => {
    expect(metricSegment('Package id 0')).toBe('package_id_0');
    expect(metricSegment('cpu-thermal')).toBe('cpu_thermal');
    expect(metricSegment('<img src=x>')).toBe('img_src_x');
    expect(metricSegment('---')).toBe('unknown');
    expect(mountSegment('/')).toBe('rootfs');
    expect(mountSegment('/boot/firmware')).toBe('boot_firmware');
  });
});

describe('formatting for people', () => {
  it('uses IEC units for memory, SI rates for throughput, and °C, W, MHz/GHz', () => {
    expect(formatValue(3.5 * 1024 ** 3, 'bytes')).toBe('3.50 GiB');
    expect(formatValue(512, 'bytes')).toBe('512 B');
    expect(formatValue(12_300_000, 'B/s')).toBe('12.3 MB/s');
    expect(formatValue(45.04, '°C')).toBe('45.0 °C');
    expect(formatValue(694.81, 'W')).toBe('695 W');
    expect(formatValue(7.25, 'W')).toBe('7.3 W');
    expect(formatValue(1470, 'MHz')).toBe('1.47 GHz');
    expect(formatValue(345, 'MHz')).toBe('345 MHz');
    expect(formatValue(99.6, '%')).toBe('100 %');
    expect(formatValue(null, '%')).toBe('—');
  });

  it('says how long ago', () => {
    expect(formatAge(4000)).toBe('4 s ago');
    expect(formatAge(5 * 60_000)).toBe('5 min ago');
    expect(formatAge(3 * 86_400_000)).toBe('3 d ago');
  });
});

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(EDGEWATCH_VERSION).toBe(pkg.version);
  });
});
