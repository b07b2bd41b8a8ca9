// tegrastats parser against real captures (test/fixtures/tegrastats, copied from the shared
// fixture set). Expected values are read off the capture lines by eye, not produced by the parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTegrastats, parseTegrastatsLine } from '../../agent/parsers/tegrastats/index.js';
import { describeMetric } from '../../shared/catalog.js';

const DIR = fileURLToPath(new URL('../fixtures/tegrastats/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const MiB = 1_048_576;
const KiB = 1024;
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.txt'));

/** The metrics of the first (or n-th) line of a capture. */
function first(name: string, n = 0): Record<string, number> {
  const out = parseTegrastats(fixture(name));
  const sample = out.samples[n];
  if (!sample) throw new Error(`${name} has no sample ${n}`);
  return sample.m;
}

function pick(m: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith(prefix)));
}

describe('every capture', () => {
  it('has all 15 shared captures copied', () => {
    expect(FIXTURES).toHaveLength(15);
  });

  it.each(FIXTURES)('%s parses into catalog metrics only, one sample per line', (name) => {
    const text = fixture(name);
    const out = parseTegrastats(text);
    expect(out.tool).toBe('tegrastats');
    expect(out.format).toBe('tegrastats');
    expect(out.samples).toHaveLength(text.split('\n').filter((l) => l.trim() !== '').length);
    for (const s of out.samples) {
      expect(Object.keys(s.m).length).toBeGreaterThan(10);
      for (const [metric, value] of Object.entries(s.m)) {
        expect(describeMetric(metric), metric).not.toBeNull();
        expect(Number.isFinite(value), metric).toBe(true);
      }
      expect(s.m['mem.used']).toBeGreaterThan(0);
      expect(s.m['mem.total']).toBeGreaterThan(s.m['mem.used']!);
    }
  });

  it.each(FIXTURES.filter((f) => f !== 'tx1_l4t24_legacy-cpu-bracket-freq.txt'))('%s leaves no field unread', (name) => {
    expect(parseTegrastats(fixture(name)).warnings).toEqual([]);
  });
});

describe('TX1, L4T 24 legacy line', () => {
  const m = first('tx1_l4t24_legacy-cpu-bracket-freq.txt');

  it('reads the shared-clock cpu list, EMC, GR3D and the AVP/NVDEC/MSENC engines', () => {
    expect(m).toEqual({
      'mem.used': 1104 * MiB,
      'mem.total': 3995 * MiB,
      // lfb 425x4MB: 425 free blocks of 4 MB, so the largest free block is 4 MB.
      'mem.lfb': 4 * MiB,
      'cpu.core.0.util': 2,
      'cpu.core.1.util': 5,
      'cpu.core.2.util': 8,
      'cpu.core.3.util': 11,
      'cpu.core.0.freq': 1734,
      'cpu.core.1.freq': 1734,
      'cpu.core.2.freq': 1734,
      'cpu.core.3.freq': 1734,
      'jetson.emc.util': 0,
      'jetson.emc.freq': 1600,
      'jetson.engine.avp.util': 1,
      'jetson.engine.avp.freq': 115,
      'jetson.engine.avp.on': 1,
      'jetson.engine.nvdec.freq': 192,
      'jetson.engine.msenc.freq': 192,
      'gpu.0.util': 0,
      'gpu.0.clock.gr': 998,
    });
  });

  it('reports the EDP limit as a warning, not a metric', () => {
    expect(parseTegrastats(fixture('tx1_l4t24_legacy-cpu-bracket-freq.txt')).warnings).toEqual(['line 1: EDP limit 1734: not reported (no catalog metric)']);
  });
});

describe('TX1, L4T 28.1', () => {
  it('reads SWAP with its cache, EMC and GR3D without the _FREQ suffix, line by line', () => {
    const second = first('tx1_l4t28.1_legacy-emc-gr3d.txt', 1);
    expect(pick(second, 'swap.')).toEqual({ 'swap.used': 873 * MiB, 'swap.total': 8192 * MiB, 'swap.cached': 281 * MiB });
    expect(pick(second, 'cpu.core.2')).toEqual({ 'cpu.core.2.util': 65, 'cpu.core.2.freq': 1734 });
    expect(pick(second, 'jetson.emc')).toEqual({ 'jetson.emc.util': 1, 'jetson.emc.freq': 1600 });
    expect(pick(second, 'gpu.')).toEqual({ 'gpu.0.util': 39, 'gpu.0.clock.gr': 76 });
    expect(second['jetson.engine.ape.freq']).toBe(25);
    expect(first('tx1_l4t28.1_legacy-emc-gr3d.txt', 0)['gpu.0.util']).toBe(3);
  });
});

describe('TX2, L4T 28.2 (three lines, sudo)', () => {
  it('reads MTS, Denver/A57 clocks, unitless mW rails as current/average, and drops PMIC@100C', () => {
    const out = parseTegrastats(fixture('tx2_l4t28.2_sudo-multiline.txt'));
    expect(out.samples.map((s) => s.t)).toEqual([null, null, null]);
    const m = out.samples[1]!.m;
    expect(pick(m, 'jetson.mts')).toEqual({ 'jetson.mts.fg': 0, 'jetson.mts.bg': 0 });
    expect(out.samples[0]!.m['jetson.mts.bg']).toBe(8);
    expect(m['cpu.core.1.freq']).toBe(344);
    expect(pick(m, 'temp.')).toEqual({ 'temp.bcpu': 41, 'temp.mcpu': 41, 'temp.gpu': 39, 'temp.pll': 41, 'temp.tboard': 37, 'temp.tdiode': 37.25, 'temp.thermal': 39.9 });
    expect(pick(m, 'power.')).toEqual({
      'power.rail.vdd_in': 1.776,
      'power.rail.vdd_in.avg': 1.853,
      'power.rail.vdd_cpu': 0.231,
      'power.rail.vdd_cpu.avg': 0.231,
      'power.rail.vdd_gpu': 0.154,
      'power.rail.vdd_gpu.avg': 0.154,
      'power.rail.vdd_soc': 0.386,
      'power.rail.vdd_soc.avg': 0.385,
      'power.rail.vdd_wifi': 0.038,
      'power.rail.vdd_wifi.avg': 0.038,
      'power.rail.vdd_ddr': 0.25,
      'power.rail.vdd_ddr.avg': 0.288,
      'power.board': 1.776,
    });
    // VDD_GPU is a rail, GPU@39C a temperature: neither leaks into the other.
    expect(m).not.toHaveProperty('temp.vdd_gpu');
    expect(m).not.toHaveProperty('power.rail.gpu');
    expect(m).not.toHaveProperty('temp.pmic');
  });

  it('reads an lfb given in kB (TX2, jetson-stats 2019 capture)', () => {
    const m = first('tx2_l4t28_jetson-stats-2019.txt');
    expect(m['mem.lfb']).toBe(512 * KiB);
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 71, 'gpu.0.clock.gr': 1300 });
    expect(m).not.toHaveProperty('swap.used');
  });
});

describe('TX2, L4T 32 VDD_SYS rails', () => {
  const m = first('tx2_l4t32_vdd-sys-rails.txt');
  it('takes VDD_IN as board power although it is not the first rail, and keeps PMIC@50C', () => {
    expect(m['power.board']).toBe(5.297);
    expect(pick(m, 'power.rail.vdd_sys_')).toEqual({
      'power.rail.vdd_sys_gpu': 0.182,
      'power.rail.vdd_sys_gpu.avg': 0.182,
      'power.rail.vdd_sys_soc': 0.73,
      'power.rail.vdd_sys_soc.avg': 0.73,
      'power.rail.vdd_sys_cpu': 1.917,
      'power.rail.vdd_sys_cpu.avg': 1.917,
      'power.rail.vdd_sys_ddr': 1.241,
      'power.rail.vdd_sys_ddr.avg': 1.241,
    });
    expect(m['power.rail.vdd_4v0_wifi']).toBe(0);
    expect(m['temp.pmic']).toBe(50);
    expect(m['temp.gpu']).toBe(39.5);
    expect(pick(m, 'cpu.core.2')).toEqual({ 'cpu.core.2.util': 67, 'cpu.core.2.freq': 2034 });
    expect(pick(m, 'jetson.mts')).toEqual({ 'jetson.mts.fg': 1, 'jetson.mts.bg': 1 });
  });
});

describe('Nano, JetPack 4.6.1 (sudo, IRAM, POM rails)', () => {
  const m = first('nano-4gb_jp4.6.1_sudo-iram.txt');
  it('reads IRAM in kB, lfb, POM_5V_IN as board power and the unitless rails', () => {
    expect(pick(m, 'jetson.iram')).toEqual({ 'jetson.iram.used': 0, 'jetson.iram.total': 252 * KiB, 'jetson.iram.lfb': 252 * KiB });
    expect(pick(m, 'mem.')).toEqual({ 'mem.used': 1923 * MiB, 'mem.total': 3964 * MiB, 'mem.lfb': 2 * MiB });
    expect(pick(m, 'swap.')).toEqual({ 'swap.used': 191 * MiB, 'swap.total': 1982 * MiB, 'swap.cached': 6 * MiB });
    expect(pick(m, 'power.')).toEqual({
      'power.rail.pom_5v_in': 1.75,
      'power.rail.pom_5v_in.avg': 1.628,
      'power.rail.pom_5v_gpu': 0,
      'power.rail.pom_5v_gpu.avg': 0,
      'power.rail.pom_5v_cpu': 0.366,
      'power.rail.pom_5v_cpu.avg': 0.406,
      'power.board': 1.75,
    });
    expect(pick(m, 'temp.')).toEqual({ 'temp.pll': 37, 'temp.cpu': 40, 'temp.pmic': 50, 'temp.gpu': 40, 'temp.ao': 45, 'temp.thermal': 40 });
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 0, 'gpu.0.clock.gr': 76 });
  });

  it('drops the PMIC@100C placeholder and reads bare-number engines as clocks only', () => {
    const nano = first('nano_l4t32_jetson-stats-commented.txt');
    expect(nano).not.toHaveProperty('temp.pmic');
    expect(pick(nano, 'jetson.engine.')).toEqual({ 'jetson.engine.nvenc.freq': 716, 'jetson.engine.nvdec.freq': 716, 'jetson.engine.ape.freq': 25 });
    expect(nano['temp.thermal']).toBe(59.75);
    expect(nano['power.board']).toBe(4.52);
  });
});

describe('Xavier NX', () => {
  it('JetPack 4: unitless rails, plain GR3D clock, no timestamp', () => {
    const m = first('xavier-nx-8gb_jp4-legacy-units.txt');
    expect(parseTegrastats(fixture('xavier-nx-8gb_jp4-legacy-units.txt')).samples[0]!.t).toBeNull();
    expect(pick(m, 'power.rail.vdd_cpu_gpu_cv')).toEqual({ 'power.rail.vdd_cpu_gpu_cv': 2.706, 'power.rail.vdd_cpu_gpu_cv.avg': 2.119 });
    expect(m['power.board']).toBe(6.14);
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 0, 'gpu.0.clock.gr': 1109 });
    expect(m['cpu.core.5.util']).toBe(96);
    expect(m).not.toHaveProperty('temp.pmic');
  });

  it('JetPack 5.1.2: timestamp, mW rails, bracketed one-GPC clock, VIC_FREQ, PMIC@50C kept', () => {
    const out = parseTegrastats(fixture('xavier-nx_jp5.1.2_mW-units.txt'));
    // 07-09-2024 13:31:31, read as UTC (tegrastats prints local time without a zone).
    expect(out.samples[0]!.t).toBe(Date.UTC(2024, 6, 9, 13, 31, 31));
    const m = out.samples[0]!.m;
    expect(pick(m, 'power.')).toEqual({
      'power.rail.vdd_in': 2.763,
      'power.rail.vdd_in.avg': 2.846,
      'power.rail.vdd_cpu_gpu_cv': 0.65,
      'power.rail.vdd_cpu_gpu_cv.avg': 0.67,
      'power.rail.vdd_soc': 0.65,
      'power.rail.vdd_soc.avg': 0.711,
      'power.board': 2.763,
    });
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 0, 'gpu.0.clock.gr': 114, 'gpu.0.gpc.0.freq': 114 });
    expect(m['jetson.engine.vic.freq']).toBe(115);
    expect(m).not.toHaveProperty('jetson.engine.vic.on');
    expect(m['temp.pmic']).toBe(50);
    expect(pick(m, 'jetson.emc')).toEqual({ 'jetson.emc.util': 2, 'jetson.emc.freq': 204 });
  });
});

describe('Orin Nano, JetPack 6', () => {
  it('engines off report on=0 and nothing else; one-GPC GR3D with load', () => {
    const m = first('orin-nano-8gb_jp6_engines-off.txt');
    expect(pick(m, 'jetson.engine.')).toEqual({
      'jetson.engine.nvdec.on': 0,
      'jetson.engine.nvjpg.on': 0,
      'jetson.engine.nvjpg1.on': 0,
      'jetson.engine.vic.on': 0,
      'jetson.engine.ofa.on': 0,
      'jetson.engine.ape.freq': 200,
    });
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 63, 'gpu.0.clock.gr': 621, 'gpu.0.gpc.0.freq': 621 });
    expect(m['temp.gpu']).toBe(53.343);
    expect(m['power.board']).toBe(12.479);
    expect(m['mem.lfb']).toBe(2 * MiB);
  });

  it('a run without EMC and engines: GR3D_FREQ 0% gives load only, nothing is invented', () => {
    const m = first('orin-nano-8gb_jp6_no-emc-field.txt');
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 0 });
    expect(pick(m, 'jetson.')).toEqual({});
    expect(pick(m, 'swap.')).toEqual({ 'swap.used': 1518 * MiB, 'swap.total': 16384 * MiB, 'swap.cached': 174 * MiB });
    expect(m['cpu.core.4.freq']).toBe(729);
    expect(m['temp.soc0']).toBe(50);
  });
});

describe('AGX Orin 64GB', () => {
  it('drops -256C sensors, keeps both NC rails apart, sums rails for board power (no VDD_IN)', () => {
    const m = first('agx-orin-64gb_jp6_cv-sensors-minus256.txt');
    for (const offline of ['temp.cv0', 'temp.cv1', 'temp.cv2', 'temp.gpu']) expect(m).not.toHaveProperty(offline);
    expect(pick(m, 'temp.')).toEqual({ 'temp.cpu': 44.562, 'temp.tboard': 32, 'temp.soc2': 40.093, 'temp.tdiode': 33, 'temp.soc0': 41.093, 'temp.tj': 44.343, 'temp.soc1': 41.25 });
    expect(pick(m, 'power.rail.nc')).toEqual({ 'power.rail.nc': 0, 'power.rail.nc.avg': 0, 'power.rail.nc_1': 0, 'power.rail.nc_1.avg': 0 });
    expect(m['power.rail.vddq_vdd2_1v8ao']).toBe(0.301);
    // 2340 + 390 + 4025 + 0 + 301 + 0 mW
    expect(m['power.board']).toBe(7.056);
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 0, 'gpu.0.clock.gr': 0, 'gpu.0.gpc.0.freq': 0, 'gpu.0.gpc.1.freq': 0 });
    expect(Object.keys(pick(m, 'cpu.core.')).length).toBe(24);
    expect(m['mem.lfb']).toBe(4 * MiB);
    expect(parseTegrastats(fixture('agx-orin-64gb_jp6_cv-sensors-minus256.txt')).samples[0]!.t).toBe(Date.UTC(2025, 3, 11, 10, 36, 27));
  });

  it('L4T 36.4.4: NVENC and VIC active with load and clock, the other engines off; per-line values', () => {
    const out = parseTegrastats(fixture('agx-orin-64gb_l4t-r36.4.4_nvenc-active.txt'));
    const m = out.samples[0]!.m;
    expect(pick(m, 'jetson.engine.')).toEqual({
      'jetson.engine.nvenc.on': 1,
      'jetson.engine.nvenc.util': 79,
      'jetson.engine.nvenc.freq': 166,
      'jetson.engine.nvdec.on': 0,
      'jetson.engine.nvjpg.on': 0,
      'jetson.engine.nvjpg1.on': 0,
      'jetson.engine.vic.on': 1,
      'jetson.engine.vic.util': 36,
      'jetson.engine.vic.freq': 115,
      'jetson.engine.ofa.on': 0,
      'jetson.engine.nvdla0.on': 0,
      'jetson.engine.nvdla1.on': 0,
      'jetson.engine.pva0.on': 0,
      'jetson.engine.ape.freq': 174,
    });
    expect(m).not.toHaveProperty('temp.gpu');
    expect(out.samples[2]!.m['jetson.engine.nvenc.freq']).toBe(179);
    expect(pick(out.samples[1]!.m, 'power.rail.vin_sys_5v0')).toEqual({ 'power.rail.vin_sys_5v0': 4.607, 'power.rail.vin_sys_5v0.avg': 4.657 });
    expect(out.samples[1]!.m['power.board']).toBe(8.626);
    expect(pick(m, 'cpu.core.0.')).toEqual({ 'cpu.core.0.util': 14, 'cpu.core.0.freq': 2188 });
    expect(out.samples.map((s) => s.t)).toEqual([Date.UTC(2026, 4, 9, 18, 42, 6), Date.UTC(2026, 4, 9, 18, 42, 7), Date.UTC(2026, 4, 9, 18, 42, 8)]);
  });
});

describe('JetPack 7 and Thor', () => {
  it('AGX Orin JetPack 7.2: triple power values, C/C temperatures, two-GPC clock with load', () => {
    const m = first('agx-orin_jp7.2_l4t-r39.2_triple-power.txt');
    expect(pick(m, 'power.')).toEqual({
      'power.rail.vdd_gpu_soc': 5.139,
      'power.rail.vdd_gpu_soc.avg': 5.139,
      'power.rail.vdd_gpu_soc.max': 5.139,
      'power.rail.vdd_cpu_cv': 3.268,
      'power.rail.vdd_cpu_cv.avg': 3.268,
      'power.rail.vdd_cpu_cv.max': 3.268,
      'power.rail.vin_sys_5v0': 5.5,
      'power.rail.vin_sys_5v0.avg': 5.5,
      'power.rail.vin_sys_5v0.max': 5.5,
      'power.board': 13.907,
    });
    expect(pick(m, 'temp.')).toEqual({ 'temp.cpu': 52.968, 'temp.soc2': 48.406, 'temp.soc0': 49.531, 'temp.gpu': 47.625 });
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.util': 12, 'gpu.0.clock.gr': 1300, 'gpu.0.gpc.0.freq': 1300, 'gpu.0.gpc.1.freq': 1300 });
    expect(pick(m, 'jetson.emc')).toEqual({ 'jetson.emc.util': 3, 'jetson.emc.freq': 3199 });
    expect(m['jetson.engine.nvenc0.on']).toBe(0);
    expect(m).not.toHaveProperty('swap.used');
  });

  it('AGX Thor: GR3D_FREQ @[0,0,0] gives clocks but no load; @0 engines give a clock only', () => {
    const m = first('agx-thor_l4t-r38.4.0.txt', 1);
    expect(m).not.toHaveProperty('gpu.0.util');
    expect(pick(m, 'gpu.')).toEqual({ 'gpu.0.clock.gr': 0, 'gpu.0.gpc.0.freq': 0, 'gpu.0.gpc.1.freq': 0, 'gpu.0.gpc.2.freq': 0 });
    expect(pick(m, 'jetson.engine.')).toEqual({
      'jetson.engine.nvenc0.freq': 0,
      'jetson.engine.nvenc1.freq': 0,
      'jetson.engine.nvdec0.freq': 0,
      'jetson.engine.nvdec1.freq': 0,
      'jetson.engine.nvjpg0.freq': 0,
      'jetson.engine.vic.on': 0,
      'jetson.engine.ofa.freq': 0,
      'jetson.engine.pva0.on': 0,
      'jetson.engine.ape.freq': 300,
    });
    expect(pick(m, 'cpu.core.9.')).toEqual({ 'cpu.core.9.util': 17, 'cpu.core.9.freq': 2601 });
    expect(pick(m, 'temp.')).toEqual({ 'temp.cpu': 35.25, 'temp.tj': 36.031, 'temp.soc012': 36.062, 'temp.soc345': 34.5 });
    // No VDD_IN: the sum of 0 + 4923 + 4327 mW.
    expect(m['power.board']).toBe(9.25);
    expect(m['power.rail.vdd_cpu_soc_mss.avg']).toBe(4.544);
    expect(m['mem.total']).toBe(125773 * MiB);
  });
});

describe('single lines', () => {
  it('skips offline cores but keeps the core numbering', () => {
    const { m } = parseTegrastatsLine('RAM 1/2MB CPU [5%@1224,off,off,7%@918] GR3D_FREQ 0%@76');
    expect(pick(m, 'cpu.')).toEqual({ 'cpu.core.0.util': 5, 'cpu.core.0.freq': 1224, 'cpu.core.3.util': 7, 'cpu.core.3.freq': 918 });
  });

  it('warns about unknown fields and an impossible timestamp without inventing values', () => {
    const r = parseTegrastatsLine('13-45-2024 25:00:00 RAM 1/2MB FOO 12 bar');
    expect(r.t).toBeNull();
    expect(r.m).toEqual({ 'mem.used': MiB, 'mem.total': 2 * MiB });
    expect(r.warnings).toEqual(['timestamp "13-45-2024 25:00:00" is not a valid MM-DD-YYYY HH:MM:SS date', 'unknown field "FOO 12"', 'unknown field "bar"']);
  });

  it('refuses text that is not tegrastats output, saying what it expected', () => {
    expect(() => parseTegrastats('')).toThrow(/not tegrastats output: the input is empty; expected tegrastats lines/);
    expect(() => parseTegrastats('timestamp, index, utilization.gpu [%]\n2024/01/01 00:00:00.000, 0, 99 %\n')).toThrow(
      /not tegrastats output: the text starts with "timestamp, index, utilization.gpu \[%\]"; expected tegrastats lines such as "RAM/,
    );
  });

  it('skips a non-report line inside real output with a warning', () => {
    const out = parseTegrastats(`$ tegrastats\n${fixture('nano-4gb_jp4.6.1_sudo-iram.txt')}`);
    expect(out.samples).toHaveLength(1);
    expect(out.warnings).toEqual(['line 1: not a tegrastats report, skipped: "$ tegrastats"']);
  });
});

describe('garbage never throws', () => {
  /** Deterministic PRNG so a failure reproduces. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }
  const ALPHABET = 'RAMSWPCU[]%@,/()xkBMGlfb 0123456789.-_CmWoffEMCGR3D\t\u0000é';
  const realLines = FIXTURES.flatMap((f) => fixture(f).split('\n').filter((l) => l.trim() !== ''));

  it('random characters, truncated and spliced real lines', () => {
    const random = rng(42);
    const pickInt = (n: number) => Math.floor(random() * n);
    for (let i = 0; i < 3000; i++) {
      let line: string;
      const real = realLines[pickInt(realLines.length)]!;
      switch (i % 4) {
        case 0:
          line = Array.from({ length: pickInt(200) }, () => ALPHABET[pickInt(ALPHABET.length)]).join('');
          break;
        case 1:
          line = real.slice(0, pickInt(real.length));
          break;
        case 2: {
          const at = pickInt(real.length);
          line = real.slice(0, at) + ALPHABET[pickInt(ALPHABET.length)] + real.slice(at + 1);
          break;
        }
        default:
          line = real.split(' ').sort(() => random() - 0.5).join(' ');
      }
      const r = parseTegrastatsLine(line);
      for (const [metric, value] of Object.entries(r.m)) {
        expect(describeMetric(metric), `${metric} from ${JSON.stringify(line)}`).not.toBeNull();
        expect(Number.isFinite(value)).toBe(true);
      }
    }
  });

  it('pathological inputs', () => {
    for (const line of ['', ' ', '@', '[[[[', 'CPU [', 'GR3D_FREQ @[', 'RAM /MB', 'X'.repeat(100_000), 'VDD_IN 1/2/3/4/5', 'cpu@C', 'NVENC %@', 'RAM 1/2MB (lfb 3x'.repeat(1000)]) {
      expect(() => parseTegrastatsLine(line)).not.toThrow();
    }
  });
});
