// nvidia-smi parsers against real captures (test/fixtures/nvidia-smi, copied from the shared
// fixture set). Expected values are read off the capture files by eye, not produced by the parser.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TOOL_PARSERS } from '../../agent/parsers/index.js';
import { NotNvidiaSmiOutputError, parseNvidiaSmi, QueryGpuStreamReader } from '../../agent/parsers/nvidia-smi/index.js';
import type { GpuReading } from '../../agent/parsers/nvidia-smi/samples.js';
import { describeMetric } from '../../shared/catalog.js';

const DIR = fileURLToPath(new URL('../fixtures/nvidia-smi/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const MiB = 1_048_576;
const H200_UUID = 'GPU-8a51e4ec-0b64-acd8-05ed-801c0603328d';
const ZERO_UUID = 'GPU-00000000-0000-0000-0000-000000000000';
/** The field list the H200 captures were taken with, in order. */
const QUERY_FIELDS = fixture('h200/QUERY_FIELDS.txt').trim().split(',');
/** The field list of the stream_* captures, as their header shows. */
const STREAM_CAPTURE_FIELDS = ['timestamp', 'index', 'name', 'utilization.gpu', 'utilization.memory', 'memory.total', 'memory.used', 'power.draw', 'temperature.gpu', 'clocks.sm', 'pstate'];

/** nvidia-smi's timestamps are local time. */
const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number => new Date(y, mo - 1, d, h, mi, s, ms).getTime();

function lines(name: string): string[] {
  return fixture(name).split('\n').filter((l) => l.trim() !== '');
}

function feed(reader: QueryGpuStreamReader, text: string): GpuReading[] {
  return text.split('\n').flatMap((l) => {
    const r = reader.push(l);
    return r ? [r] : [];
  });
}

describe('--query-gpu CSV, H200 (driver 580.159.04)', () => {
  const idleBusyValues = {
    'gpu.0.pstate': 0,
    'gpu.0.temp': 32,
    'gpu.0.temp.mem': 34,
    'gpu.0.util': 0,
    'gpu.0.mem.bus_util': 0,
    'gpu.0.mem.total': 143771 * MiB,
    'gpu.0.mem.used': 0,
    'gpu.0.power': 77.9,
    'gpu.0.power.limit': 700,
    'gpu.0.clock.sm': 345,
    'gpu.0.clock.mem': 3201,
    'gpu.0.clock.gr': 345,
  };

  it('reads the CSV with header and units by the header names, fan [N/A] left out', () => {
    const out = parseNvidiaSmi(fixture('h200/busy_query_csv.txt'));
    expect(out.tool).toBe('nvidia-smi');
    expect(out.format).toBe('query-gpu-csv');
    expect(out.samples).toEqual([{ t: local(2026, 11, 28, 2, 55, 38, 478), m: idleBusyValues }]);
    expect(out.samples[0]!.m).not.toHaveProperty('gpu.0.fan');
    expect(out.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', uuid: H200_UUID, memTotalBytes: 143771 * MiB, driver: '580.159.04' }]);
    expect(out.warnings).toEqual([]);
  });

  it('reads the same query printed noheader,nounits when told the requested fields', () => {
    const out = parseNvidiaSmi(fixture('h200/busy_query_noheader.txt'), { fields: QUERY_FIELDS });
    expect(out.format).toBe('query-gpu-csv-noheader');
    expect(out.samples).toEqual([{ t: local(2026, 11, 28, 2, 55, 38, 515), m: idleBusyValues }]);
  });

  it('without a header or field list reads only self-describing columns, and says so', () => {
    const out = parseNvidiaSmi(fixture('h200/busy_query_noheader.txt'));
    expect(out.samples).toEqual([{ t: local(2026, 11, 28, 2, 55, 38, 515), m: { 'gpu.0.pstate': 0 } }]);
    expect(out.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', uuid: H200_UUID }]);
    expect(out.warnings.join('\n')).toMatch(/no CSV header/);
  });

  it('reads the -lms 500 stream under load (noheader, nounits), one sample per row', () => {
    const out = parseNvidiaSmi(fixture('h200/busy_stream_lms500.txt'), { fields: QUERY_FIELDS });
    expect(out.samples.map((s) => s.t)).toEqual(
      ['43.013', '43.527', '44.031', '44.536', '45.041', '45.545', '46.054', '46.559'].map((s) => {
        const [sec, ms] = s.split('.').map(Number);
        return local(2026, 11, 28, 2, 55, sec!, ms!);
      }),
    );
    expect(out.samples.map((s) => s.m['gpu.0.power'])).toEqual([694.81, 693.08, 693.84, 691.66, 689.96, 692.48, 695.82, 690.52]);
    expect(out.samples.map((s) => s.m['gpu.0.clock.sm'])).toEqual([1470, 1440, 1485, 1470, 1515, 1455, 1470, 1455]);
    expect(out.samples[0]!.m).toEqual({
      'gpu.0.pstate': 0,
      'gpu.0.temp': 55,
      'gpu.0.temp.mem': 43,
      'gpu.0.util': 99,
      'gpu.0.mem.bus_util': 23,
      'gpu.0.mem.total': 143771 * MiB,
      'gpu.0.mem.used': 883 * MiB,
      'gpu.0.power': 694.81,
      'gpu.0.power.limit': 700,
      'gpu.0.clock.sm': 1470,
      'gpu.0.clock.mem': 3201,
      'gpu.0.clock.gr': 1470,
    });
  });

  it('reads -lms streams with a header, with and without units, to the same numbers', () => {
    const nounits = parseNvidiaSmi(fixture('h200/stream_lms500_header_nounits.txt'));
    const units = parseNvidiaSmi(fixture('h200/stream_lms500_header_units.txt'));
    expect(nounits.samples).toHaveLength(6);
    expect(units.samples).toHaveLength(6);
    expect(nounits.samples[0]).toEqual({
      t: local(2026, 11, 28, 3, 22, 53, 781),
      m: {
        'gpu.0.util': 0,
        'gpu.0.mem.bus_util': 0,
        'gpu.0.mem.total': 143771 * MiB,
        'gpu.0.mem.used': 0,
        'gpu.0.power': 126.75,
        'gpu.0.temp': 38,
        'gpu.0.clock.sm': 1980,
        'gpu.0.pstate': 0,
      },
    });
    expect(units.samples[0]).toEqual({
      t: local(2026, 11, 28, 3, 22, 56, 809),
      m: {
        'gpu.0.util': 0,
        'gpu.0.mem.bus_util': 0,
        'gpu.0.mem.total': 143771 * MiB,
        'gpu.0.mem.used': 0,
        'gpu.0.power': 79.27,
        'gpu.0.temp': 37,
        'gpu.0.clock.sm': 345,
        'gpu.0.pstate': 0,
      },
    });
    expect(units.samples.map((s) => s.m['gpu.0.power'])).toEqual([79.27, 79.36, 79.21, 79.21, 79.37, 79.18]);
  });

  it('follows memory and utilisation up as inference starts', () => {
    const out = parseNvidiaSmi(fixture('h200/stream_lms500_inference_start.txt'));
    expect(out.samples.map((s) => s.m['gpu.0.mem.used']! / MiB)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 23, 747, 879, 879]);
    expect(out.samples.map((s) => s.m['gpu.0.util'])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 41]);
  });
});

describe('--query-gpu CSV with ~200-250 fields across GPUs and drivers', () => {
  type Expect = Record<string, number>;
  const gpu = (v: Expect): Record<string, number> => Object.fromEntries(Object.entries(v).map(([k, n]) => [`gpu.0.${k}`, n]));
  const cases: Array<{ file: string; name: string; driver: string; m: Expect }> = [
    {
      file: 'query-gpu-all-fields_geforce-rtx-2080-super_591.86_windows_load_csv.txt',
      name: 'NVIDIA GeForce RTX 2080 SUPER',
      driver: '591.86',
      // temperature.memory is `N/A` (no brackets) on GeForce: left out.
      m: { util: 7, 'mem.bus_util': 3, 'mem.used': 1296 * MiB, 'mem.total': 8192 * MiB, power: 97.43, 'power.limit': 250, temp: 45, 'clock.sm': 2055, 'clock.mem': 7500, 'clock.gr': 2055, fan: 38, pstate: 2, 'enc.util': 100, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_geforce-rtx-2080-super_595.71.05_linux_load_csv.txt',
      name: 'NVIDIA GeForce RTX 2080 SUPER',
      driver: '595.71.05',
      m: { util: 8, 'mem.bus_util': 3, 'mem.used': 819 * MiB, 'mem.total': 8192 * MiB, power: 111.5, 'power.limit': 250, temp: 45, 'clock.sm': 2055, 'clock.mem': 7500, 'clock.gr': 2055, fan: 38, pstate: 2, 'enc.util': 100, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_geforce-rtx-2080-super_610.57.04_linux_load_csv.txt',
      name: 'NVIDIA GeForce RTX 2080 SUPER',
      driver: '610.57.04',
      m: { util: 8, 'mem.bus_util': 3, 'mem.used': 815 * MiB, 'mem.total': 8192 * MiB, power: 98.14, 'power.limit': 250, temp: 38, 'clock.sm': 2070, 'clock.mem': 7500, 'clock.gr': 2070, fan: 38, pstate: 2, 'enc.util': 100, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_geforce-rtx-2080-super_610.62_windows_load_csv.txt',
      name: 'NVIDIA GeForce RTX 2080 SUPER',
      driver: '610.62',
      m: { util: 7, 'mem.bus_util': 3, 'mem.used': 1366 * MiB, 'mem.total': 8192 * MiB, power: 97.99, 'power.limit': 250, temp: 44, 'clock.sm': 2040, 'clock.mem': 7500, 'clock.gr': 2040, fan: 38, pstate: 2, 'enc.util': 99, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_geforce-rtx-4080-super_595.71.05_linux_load_csv.txt',
      name: 'NVIDIA GeForce RTX 4080 SUPER',
      driver: '595.71.05',
      // A fan at 0 % is a value the tool gave, unlike [N/A].
      m: { util: 7, 'mem.bus_util': 2, 'mem.used': 1474 * MiB, 'mem.total': 16376 * MiB, power: 84.24, 'power.limit': 320, temp: 46, 'clock.sm': 2805, 'clock.mem': 11251, 'clock.gr': 2805, fan: 0, pstate: 2, 'enc.util': 72, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_l40s_595.80_linux_load_csv.txt',
      name: 'NVIDIA L40S',
      driver: '595.80',
      m: { util: 9, 'mem.bus_util': 2, 'mem.used': 1235 * MiB, 'mem.total': 46068 * MiB, power: 110.23, 'power.limit': 350, temp: 54, 'clock.sm': 2520, 'clock.mem': 9001, 'clock.gr': 2520, pstate: 0, 'enc.util': 60, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_h100-80gb-hbm3_590.48.01_linux_load_csv.txt',
      name: 'NVIDIA H100 80GB HBM3',
      driver: '590.48.01',
      m: { util: 100, 'mem.bus_util': 11, 'mem.used': 19818 * MiB, 'mem.total': 81559 * MiB, power: 631.95, 'power.limit': 700, temp: 59, 'temp.mem': 54, 'clock.sm': 1980, 'clock.mem': 2619, 'clock.gr': 1980, pstate: 0, 'enc.util': 0, 'dec.util': 0 },
    },
    {
      file: 'query-gpu-all-fields_h200_590.48.01_linux_load_csv.txt',
      name: 'NVIDIA H200',
      driver: '590.48.01',
      m: { util: 100, 'mem.bus_util': 7, 'mem.used': 32362 * MiB, 'mem.total': 143771 * MiB, power: 627.4, 'power.limit': 700, temp: 52, 'temp.mem': 40, 'clock.sm': 1980, 'clock.mem': 3201, 'clock.gr': 1980, pstate: 0, 'enc.util': 0, 'dec.util': 0 },
    },
    {
      // MIG mode: utilisation is per MIG device, so the GPU's own is [N/A].
      file: 'query-gpu-all-fields_h100-mig_590.48.01_linux_load_csv.txt',
      name: 'NVIDIA H100 80GB HBM3',
      driver: '590.48.01',
      m: { 'mem.used': 11125 * MiB, 'mem.total': 81559 * MiB, power: 433.78, 'power.limit': 700, temp: 53, 'temp.mem': 59, 'clock.sm': 1980, 'clock.mem': 2619, 'clock.gr': 1980, pstate: 0 },
    },
    {
      file: 'query-gpu-all-fields_h200-mig_590.48.01_linux_load_csv.txt',
      name: 'NVIDIA H200',
      driver: '590.48.01',
      m: { 'mem.used': 16959 * MiB, 'mem.total': 143771 * MiB, power: 295.01, 'power.limit': 700, temp: 36, 'temp.mem': 39, 'clock.sm': 1980, 'clock.mem': 3201, 'clock.gr': 1980, pstate: 0 },
    },
  ];

  for (const c of cases) {
    it(`${c.file}: right values, missing fields missing`, () => {
      const out = parseNvidiaSmi(fixture(c.file));
      expect(out.format).toBe('query-gpu-csv');
      expect(out.samples).toHaveLength(1);
      expect(out.samples[0]!.m).toEqual(gpu(c.m));
      expect(out.gpus).toEqual([{ index: 0, name: c.name, uuid: ZERO_UUID, memTotalBytes: c.m['mem.total'], driver: c.driver }]);
    });
  }
});

describe('QueryGpuStreamReader (the long-lived -lms process)', () => {
  it('learns the columns from the header even when they differ from the requested order', () => {
    // Asked in another order than the capture: the header printed by the process decides.
    const reader = new QueryGpuStreamReader(['index', 'pstate', 'clocks.sm', 'timestamp', 'power.draw']);
    const readings = feed(reader, fixture('h200/stream_lms500_header_nounits.txt'));
    expect(reader.hasHeader).toBe(true);
    expect(readings).toHaveLength(6);
    expect(readings[1]).toMatchObject({ index: 0, t: local(2026, 11, 28, 3, 22, 54, 285), name: 'NVIDIA H200' });
    expect(readings[1]!.m).toEqual({
      'gpu.0.util': 0,
      'gpu.0.mem.bus_util': 0,
      'gpu.0.mem.total': 143771 * MiB,
      'gpu.0.mem.used': 0,
      'gpu.0.power': 111.21,
      'gpu.0.temp': 37,
      'gpu.0.clock.sm': 375,
      'gpu.0.pstate': 0,
    });
  });

  it('falls back to the requested column order when no header was printed', () => {
    const reader = new QueryGpuStreamReader(STREAM_CAPTURE_FIELDS);
    const readings = feed(reader, fixture('h200/stream_l1_noheader.txt'));
    expect(reader.hasHeader).toBe(false);
    expect(readings.map((r) => r.t)).toEqual([local(2026, 11, 28, 3, 22, 59, 840), local(2026, 11, 28, 3, 23, 0, 847), local(2026, 11, 28, 3, 23, 1, 847)]);
    expect(readings.map((r) => r.m['gpu.0.power'])).toEqual([79.33, 79.29, 79.22]);
    expect(readings[0]!.m['gpu.0.mem.total']).toBe(143771 * MiB);
  });

  it('reads values with units (`45 %`, `143771 MiB`, `79.27 W`, `345 MHz`)', () => {
    const reader = new QueryGpuStreamReader(STREAM_CAPTURE_FIELDS);
    const [first] = feed(reader, fixture('h200/stream_lms500_header_units.txt'));
    expect(first!.m).toMatchObject({ 'gpu.0.mem.total': 143771 * MiB, 'gpu.0.power': 79.27, 'gpu.0.clock.sm': 345 });
  });

  it('maps renamed fields: clocks.sm → clocks.current.sm, clocks_throttle_reasons → clocks_event_reasons', () => {
    const reader = new QueryGpuStreamReader(QUERY_FIELDS);
    const [header, row] = lines('h200/busy_query_csv.txt');
    expect(reader.push(header!)).toBeNull();
    expect(reader.fields).toContain('clocks.current.sm');
    expect(reader.fields.filter((f) => f === 'clocks_event_reasons.active')).toHaveLength(2);
    expect(reader.push(row!)!.m['gpu.0.clock.sm']).toBe(345);
  });

  it('rejects truncated and foreign lines without throwing, and counts them', () => {
    const reader = new QueryGpuStreamReader(QUERY_FIELDS);
    const [row] = lines('h200/busy_stream_lms500.txt');
    expect(reader.push(row!.slice(0, 60))).toBeNull();
    expect(reader.push('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.')).toBeNull();
    expect(reader.push('')).toBeNull();
    expect(reader.rejectedLines).toBe(2);
    expect(reader.push(row!)!.m['gpu.0.util']).toBe(99);
  });

  it('numbers GPUs by the index column', () => {
    // No multi-GPU capture exists: build GPU 1 from the H200 row by changing its index and UUID.
    const [header, row] = lines('h200/busy_query_csv.txt');
    const second = row!.replace(', 0, GPU-8a51', ', 1, GPU-9b62').replace('77.90 W', '81.00 W');
    const reader = new QueryGpuStreamReader(QUERY_FIELDS);
    reader.push(header!);
    const [a, b] = [reader.push(row!), reader.push(second)];
    expect(a!.index).toBe(0);
    expect(b!.index).toBe(1);
    expect(b!.m['gpu.1.power']).toBe(81);
    expect(b!.uuid).toBe('GPU-9b62e4ec-0b64-acd8-05ed-801c0603328d');
  });
});

describe('several GPUs in one text', () => {
  it('rows of one timestamp form one sample; the next timestamp starts the next', () => {
    const [header, row] = lines('h200/busy_query_csv.txt');
    const gpu1 = (r: string): string => r.replace(', 0, GPU-8a51', ', 1, GPU-9b62').replace('77.90 W', '81.00 W');
    const later = (r: string): string => r.replace('02:55:38.478', '02:55:39.478').replace('77.90 W', '90.00 W').replace('81.00 W', '91.00 W');
    const text = [header, row, gpu1(row!), later(row!), later(gpu1(row!))].join('\n');
    const out = parseNvidiaSmi(text);
    expect(out.samples).toHaveLength(2);
    expect(out.samples[0]!.t).toBe(local(2026, 11, 28, 2, 55, 38, 478));
    expect(out.samples[0]!.m['gpu.0.power']).toBe(77.9);
    expect(out.samples[0]!.m['gpu.1.power']).toBe(81);
    expect(out.samples[1]!.m['gpu.0.power']).toBe(90);
    expect(out.samples[1]!.m['gpu.1.power']).toBe(91);
    expect(out.gpus!.map((g) => [g.index, g.uuid])).toEqual([
      [0, H200_UUID],
      [1, 'GPU-9b62e4ec-0b64-acd8-05ed-801c0603328d'],
    ]);
  });
});

describe('--query-compute-apps CSV', () => {
  it('reads pid, name, GPU UUID and memory', () => {
    const out = parseNvidiaSmi(fixture('query-compute-apps_h200_590.48.01_linux_load_csv.txt'));
    expect(out.format).toBe('query-compute-apps-csv');
    expect(out.processes).toEqual([
      { pid: 10291, name: '/root/tools/memhog', gpuUuid: ZERO_UUID, usedMemoryBytes: 2566 * MiB },
      { pid: 10293, name: '/root/tools/memhog', gpuUuid: ZERO_UUID, usedMemoryBytes: 1542 * MiB },
      { pid: 10309, name: './gpu_burn', gpuUuid: ZERO_UUID, usedMemoryBytes: 28234 * MiB },
    ]);
    expect(out.samples).toEqual([]);
  });

  it('leaves memory out on Windows (WDDM prints [N/A]) and keeps paths with spaces', () => {
    const out = parseNvidiaSmi(fixture('query-compute-apps_geforce-rtx-2080-super_591.86_windows_load_csv.txt'));
    expect(out.processes).toHaveLength(12);
    expect(out.processes!.every((p) => p.usedMemoryBytes === undefined)).toBe(true);
    expect(out.processes).toContainEqual({ pid: 20372, name: 'C:\\Program Files\\NZXT CAM\\NZXT CAM.exe', gpuUuid: ZERO_UUID });
  });

  it('reads the capture taken during inference, and the empty list when idle', () => {
    expect(parseNvidiaSmi(fixture('h200/apps_during_inference.txt')).processes).toEqual([{ pid: 464, name: 'python3', usedMemoryBytes: 870 * MiB }]);
    expect(parseNvidiaSmi(fixture('h200/idle_apps.txt')).processes).toEqual([]);
  });

  it('joins a process name that contains ", " back together', () => {
    const text = 'pid, process_name, used_gpu_memory [MiB]\n4242, /opt/app, with comma, 12 MiB\n';
    expect(parseNvidiaSmi(text).processes).toEqual([{ pid: 4242, name: '/opt/app, with comma', usedMemoryBytes: 12 * MiB }]);
  });
});

describe('default table', () => {
  it('reads GPU row, versions, timestamp; fan N/A left out', () => {
    const out = parseNvidiaSmi(fixture('h200/busy_table.txt'));
    expect(out.format).toBe('table');
    expect(out.samples).toEqual([
      {
        t: local(2026, 11, 28, 2, 55, 38),
        m: {
          'gpu.0.temp': 32,
          'gpu.0.pstate': 0,
          'gpu.0.power': 77,
          'gpu.0.power.limit': 700,
          'gpu.0.mem.used': 0,
          'gpu.0.mem.total': 143771 * MiB,
          'gpu.0.util': 0,
        },
      },
    ]);
    expect(out.version).toEqual({ nvidiaSmi: '580.159.04', driver: '580.159.04', cuda: '13.0' });
    expect(out.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', memTotalBytes: 143771 * MiB, driver: '580.159.04' }]);
    expect(out.processes).toEqual([]);
  });

  it('reads processes with their GPU memory', () => {
    const out = parseNvidiaSmi(fixture('h200/table_during_inference.txt'));
    expect(out.samples[0]!.m['gpu.0.util']).toBe(45);
    expect(out.samples[0]!.m['gpu.0.mem.used']).toBe(879 * MiB);
    expect(out.processes).toEqual([{ pid: 464, name: 'python3', gpuIndex: 0, usedMemoryBytes: 870 * MiB }]);
  });

  it('MIG: GPU-Util N/A is missing, MIG sub-table rows are not GPUs', () => {
    const out = parseNvidiaSmi(fixture('table_h200-mig_590.48.01_linux_load.txt'));
    expect(out.gpus).toHaveLength(1);
    expect(out.samples[0]!.m).not.toHaveProperty('gpu.0.util');
    expect(out.samples[0]!.m['gpu.0.mem.used']).toBe(16959 * MiB);
    expect(out.processes!.map((p) => [p.pid, p.name, p.usedMemoryBytes])).toEqual([
      [12249, '/root/tools/memhog', 2194 * MiB],
      [12250, '/root/tools/memhog', 1170 * MiB],
      [12267, './gpu_burn', 13526 * MiB],
    ]);
  });

  it('610 drivers on Windows: KMD/CUDA UMD versions, WDDM column, cut names, no per-process memory', () => {
    const out = parseNvidiaSmi(fixture('table_geforce-rtx-2080-super_610.62_windows_load.txt'));
    expect(out.version).toEqual({ nvidiaSmi: '610.62', driver: '610.62', cuda: '13.3' });
    expect(out.samples[0]!.m).toEqual({
      'gpu.0.fan': 38,
      'gpu.0.temp': 44,
      'gpu.0.pstate': 2,
      'gpu.0.power': 97,
      'gpu.0.power.limit': 250,
      'gpu.0.mem.used': 1366 * MiB,
      'gpu.0.mem.total': 8192 * MiB,
      'gpu.0.util': 7,
    });
    expect(out.gpus![0]!.name).toBe('NVIDIA GeForce RTX 2080 ...');
    expect(out.warnings.join('\n')).toMatch(/cuts the name short/);
    expect(out.processes).toHaveLength(21);
    expect(out.processes).toContainEqual({ pid: 15964, name: '...IA App\\CEF\\NVIDIA Overlay.exe', gpuIndex: 0 });
  });
});

describe('-q text', () => {
  it('L40S: values from their own sections; average power where there is no Power Draw', () => {
    const out = parseNvidiaSmi(fixture('q_l40s_595.80_linux_idle.txt'));
    expect(out.format).toBe('query-text');
    expect(out.samples).toEqual([
      {
        t: local(2026, 7, 3, 8, 33, 38),
        m: {
          'gpu.0.pstate': 0,
          'gpu.0.mem.total': 46068 * MiB,
          'gpu.0.mem.used': 0,
          'gpu.0.util': 100,
          'gpu.0.mem.bus_util': 9,
          'gpu.0.enc.util': 0,
          'gpu.0.dec.util': 0,
          'gpu.0.temp': 64,
          'gpu.0.clock.gr': 2520,
          'gpu.0.clock.sm': 2520,
          'gpu.0.clock.mem': 9001,
          'gpu.0.power': 183.28,
          'gpu.0.power.limit': 350,
        },
      },
    ]);
    expect(out.gpus).toEqual([{ index: 0, name: 'NVIDIA L40S', uuid: ZERO_UUID, memTotalBytes: 46068 * MiB, driver: '595.80' }]);
    expect(out.version).toEqual({ driver: '595.80', cuda: '13.2' });
    expect(out.processes).toEqual([]);
  });

  it('MIG: the GPU FB memory, not a MIG device share; utilisation N/A missing', () => {
    const out = parseNvidiaSmi(fixture('q_h100-mig_590.48.01_linux_idle.txt'));
    expect(out.samples[0]!.m['gpu.0.mem.used']).toBe(59 * MiB);
    expect(out.samples[0]!.m['gpu.0.temp.mem']).toBe(48);
    expect(out.samples[0]!.m).not.toHaveProperty('gpu.0.util');
  });

  it('610 on Windows: deprecated-version notes stripped, nested power limit, processes', () => {
    const out = parseNvidiaSmi(fixture('q_geforce-rtx-2080-super_610.62_windows_idle.txt'));
    expect(out.version).toEqual({ driver: '610.62', cuda: '13.3' });
    expect(out.samples[0]!.m).toMatchObject({ 'gpu.0.power': 37.21, 'gpu.0.power.limit': 250, 'gpu.0.fan': 38, 'gpu.0.pstate': 8, 'gpu.0.temp': 39 });
    expect(out.processes).toHaveLength(19);
    expect(out.processes![0]).toEqual({ pid: 2140, name: 'C:\\Windows\\System32\\dwm.exe', gpuIndex: 0 });
  });
});

describe('-q -x XML', () => {
  it('H200: current clocks (not max/application clocks), average power, fan N/A left out', () => {
    const out = parseNvidiaSmi(fixture('h200/idle_qx.txt'));
    expect(out.format).toBe('query-xml');
    expect(out.samples).toEqual([
      {
        t: local(2026, 11, 28, 2, 55, 31),
        m: {
          'gpu.0.pstate': 0,
          'gpu.0.mem.total': 143771 * MiB,
          'gpu.0.mem.used': 0,
          'gpu.0.util': 0,
          'gpu.0.mem.bus_util': 0,
          'gpu.0.enc.util': 0,
          'gpu.0.dec.util': 0,
          'gpu.0.temp': 32,
          'gpu.0.temp.mem': 34,
          'gpu.0.clock.gr': 405,
          'gpu.0.clock.sm': 405,
          'gpu.0.clock.mem': 3201,
          'gpu.0.power': 82.91,
          'gpu.0.power.limit': 700,
        },
      },
    ]);
    expect(out.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', uuid: H200_UUID, memTotalBytes: 143771 * MiB, driver: '580.159.04' }]);
  });

  it('older DTD (power_readings, enforced_power_limit) and processes', () => {
    const out = parseNvidiaSmi(fixture('q-x_telegraf_a10g_xml.txt'));
    expect(out.samples[0]!.m).toMatchObject({ 'gpu.0.power': 25.58, 'gpu.0.power.limit': 300 });
    expect(out.processes).toEqual([{ pid: 725, name: '/usr/lib/xorg/Xorg', gpuIndex: 0, gpuUuid: out.gpus![0]!.uuid, usedMemoryBytes: 22 * MiB }]);
  });

  it('a trimmed excerpt without driver version still gives its values', () => {
    const out = parseNvidiaSmi(fixture('q-x_telegraf_gtx-1070-ti_xml.txt'));
    expect(out.samples).toEqual([
      {
        t: null,
        m: {
          'gpu.0.fan': 100,
          'gpu.0.pstate': 8,
          'gpu.0.mem.total': 4096 * MiB,
          'gpu.0.mem.used': 42 * MiB,
          'gpu.0.util': 0,
          'gpu.0.mem.bus_util': 0,
          'gpu.0.temp': 39,
          'gpu.0.clock.gr': 135,
          'gpu.0.clock.sm': 135,
          'gpu.0.clock.mem': 405,
        },
      },
    ]);
    expect(out.version).toBeUndefined();
  });
});

describe('dmon, pmon, -L, --version', () => {
  it('dmon: one sample per row, `-` left out', () => {
    const win = parseNvidiaSmi(fixture('dmon_geforce-rtx-2080-super_591.86_windows_load.txt'));
    expect(win.format).toBe('dmon');
    expect(win.samples).toHaveLength(5);
    expect(win.samples[0]).toEqual({
      t: null,
      m: {
        'gpu.0.power': 97,
        'gpu.0.temp': 45,
        'gpu.0.util': 7,
        'gpu.0.mem.bus_util': 3,
        'gpu.0.enc.util': 100,
        'gpu.0.dec.util': 0,
        'gpu.0.clock.mem': 7500,
        'gpu.0.clock.gr': 2055,
      },
    });
    const mig = parseNvidiaSmi(fixture('dmon_h100-mig_590.48.01_linux_load.txt'));
    expect(mig.samples.map((s) => s.m['gpu.0.temp.mem'])).toEqual([61, 60, 60, 60, 62]);
    expect(mig.samples[0]!.m).not.toHaveProperty('gpu.0.util');
  });

  it('pmon: one process per (GPU, pid), names with spaces kept', () => {
    const mig = parseNvidiaSmi(fixture('pmon_h100-mig_590.48.01_linux_load.txt'));
    expect(mig.format).toBe('pmon');
    expect(mig.processes).toEqual([
      { pid: 21180, name: 'memhog', gpuIndex: 0 },
      { pid: 21181, name: 'memhog', gpuIndex: 0 },
      { pid: 21198, name: 'gpu_burn', gpuIndex: 0 },
    ]);
    const win = parseNvidiaSmi(fixture('pmon_geforce-rtx-2080-super_610.62_windows_load.txt'));
    expect(win.processes).toContainEqual({ pid: 15964, name: 'NVIDIA Overlay.', gpuIndex: 0 });
  });

  it('-L: GPUs with UUIDs; MIG device lines are not GPUs', () => {
    expect(parseNvidiaSmi(fixture('h200/list.txt')).gpus).toEqual([{ index: 0, name: 'NVIDIA H200', uuid: H200_UUID }]);
    const mig = parseNvidiaSmi(fixture('list-L_h200-mig_590.48.01_linux.txt'));
    expect(mig.format).toBe('list');
    expect(mig.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', uuid: ZERO_UUID }]);
  });

  it('--version', () => {
    const out = parseNvidiaSmi(fixture('h200/version.txt'));
    expect(out.format).toBe('version');
    expect(out.version).toEqual({ nvidiaSmi: '580.159.04', nvml: '580.159', driver: '580.159.04', cuda: '13.0' });
  });
});

/** Every file under test/fixtures/nvidia-smi, relative to it. */
function allFixtures(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [relative(DIR, join(dir, f))]));
  return walk(DIR).sort();
}
/** Measurements and notes that sit beside the captures but are not nvidia-smi output. */
const NOT_CAPTURES = new Set(['h200/spawn_ms.txt', 'h200/lms_cost.txt', 'h200/QUERY_FIELDS.txt']);
const isHelp = (f: string): boolean => /(^|\/)help_/.test(f);

describe('every capture', () => {
  const files = allFixtures();

  it('finds the captures', () => {
    expect(files.length).toBeGreaterThan(80);
  });

  for (const file of files.filter((f) => !NOT_CAPTURES.has(f) && !isHelp(f))) {
    it(`${file} parses into GPUs, samples, processes or version info with catalog names`, () => {
      const out = TOOL_PARSERS['nvidia-smi']!(fixture(file), {});
      const found = (out.gpus?.length ?? 0) + out.samples.length + (out.processes?.length ?? 0) + Object.keys(out.version ?? {}).length;
      // An idle --query-compute-apps capture is a header alone: an empty process list is its answer.
      if (file === 'h200/idle_apps.txt') expect(out.processes).toEqual([]);
      else expect(found).toBeGreaterThan(0);
      for (const s of out.samples) {
        for (const [name, value] of Object.entries(s.m)) {
          expect(describeMetric(name), name).not.toBeNull();
          expect(Number.isFinite(value), `${name}=${value}`).toBe(true);
        }
      }
    });
  }

  for (const file of files.filter(isHelp)) {
    it(`${file} (--help-query-* text) throws an error saying what was expected`, () => {
      expect(() => parseNvidiaSmi(fixture(file))).toThrow(NotNvidiaSmiOutputError);
      expect(() => parseNvidiaSmi(fixture(file))).toThrow(/help-query.*not a measurement.*expected nvidia-smi output/);
    });
  }
});

describe('input that is not nvidia-smi output', () => {
  it.each([
    ['empty', '', /input is empty/],
    ['blank', '\n  \n', /input is empty/],
    ['prose', 'hello world\n', /not nvidia-smi output: the text starts with "hello world"/],
    ['JSON', '{"gpu": 1}', /not nvidia-smi output/],
    ['spawn timings', fixture('h200/spawn_ms.txt'), /not nvidia-smi output/],
  ])('%s throws NotNvidiaSmiOutputError', (_name, text, message) => {
    expect(() => parseNvidiaSmi(text)).toThrow(NotNvidiaSmiOutputError);
    expect(() => parseNvidiaSmi(text)).toThrow(message);
  });
});

describe('fuzz: truncated, corrupted and random input never crashes', () => {
  // A fixed-seed PRNG so a failure can be replayed.
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function check(text: string, what: string): void {
    let out;
    try {
      out = parseNvidiaSmi(text);
    } catch (err) {
      expect(err, `${what}: ${String(err)}`).toBeInstanceOf(NotNvidiaSmiOutputError);
      return;
    }
    for (const s of out.samples) {
      for (const [name, value] of Object.entries(s.m)) {
        expect(describeMetric(name), `${what}: ${name}`).not.toBeNull();
        expect(Number.isFinite(value), `${what}: ${name}=${value}`).toBe(true);
      }
      if (s.t !== null) expect(Number.isFinite(s.t), what).toBe(true);
    }
  }

  it('every capture cut at random points, with random bytes changed, lines dropped or duplicated', () => {
    const rand = prng(20261128);
    const captures = allFixtures().filter((f) => !NOT_CAPTURES.has(f));
    for (const file of captures) {
      const text = fixture(file);
      for (let round = 0; round < 5; round++) {
        const cut = text.slice(0, Math.floor(rand() * text.length));
        check(cut, `${file} cut at ${cut.length}`);
        const chars = [...text];
        for (let k = 0; k < 5; k++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 256));
        check(chars.join(''), `${file} corrupted (round ${round})`);
        const ls = text.split('\n');
        const i = Math.floor(rand() * ls.length);
        check([...ls.slice(0, i), ...ls.slice(i + 1)].join('\n'), `${file} without line ${i}`);
        check([...ls.slice(0, i + 1), ...ls.slice(i)].join('\n'), `${file} with line ${i} twice`);
      }
    }
  });

  it('random bytes and random mixes of nvidia-smi tokens', () => {
    const rand = prng(42);
    const tokens = ['|', ', ', '\n', 'GPU 0: ', '(UUID: ', '<gpu>', '</gpu>', '<nvidia_smi_log>', '# gpu pwr', 'NVIDIA-SMI 1', '[N/A]', 'P0', '12 MiB', ' : ', '==NVSMI LOG==', 'index', 'pid', '2026/11/28 02:55:38.478', '-', '99 %'];
    for (let round = 0; round < 300; round++) {
      const bytes = Array.from({ length: Math.floor(rand() * 400) }, () => String.fromCharCode(Math.floor(rand() * 256))).join('');
      check(bytes, `random bytes round ${round}`);
      const mix = Array.from({ length: Math.floor(rand() * 60) }, () => tokens[Math.floor(rand() * tokens.length)]).join('');
      check(mix, `token mix round ${round}: ${JSON.stringify(mix.slice(0, 120))}`);
    }
  });
});
