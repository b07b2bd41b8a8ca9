import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  NotVcgencmdOutputError,
  parseDmesgThrottled,
  parseGetMem,
  parseGetThrottled,
  parseMeasureClock,
  parseMeasureTemp,
  parseMeasureVolts,
  parseThrottleHex,
  parseVcgencmd,
  throttleMetrics,
} from '../../agent/parsers/vcgencmd/index.js';
import { describeMetric } from '../../shared/catalog.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/raspberry-pi');
const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');

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
const T_0x0 = Object.fromEntries(Object.keys(T_0x50005).map((k) => [k, 0]));

describe('throttle bits', () => {
  it('decodes every named bit on its own', () => {
    const names = Object.keys(T_0x50005).filter((k) => k !== 'pi.throttle.bits');
    const bits = [0, 1, 2, 3, 16, 17, 18, 19];
    bits.forEach((bit, i) => {
      const m = throttleMetrics(1 << bit);
      expect(Object.entries(m).filter(([k, v]) => k !== 'pi.throttle.bits' && v === 1).map(([k]) => k)).toEqual([names[i]]);
    });
  });

  it('keeps unknown bits in the raw field only', () => {
    const m = throttleMetrics(0x80000000 | 0x100000);
    expect(m['pi.throttle.bits']).toBe(0x80100000);
    expect(Object.values(m).filter((v) => v === 1)).toEqual([]);
  });

  it('reads the three textual forms of the same field', () => {
    expect(parseGetThrottled('throttled=0x50005')).toBe(0x50005);
    expect(parseGetThrottled('throttled=0x0')).toBe(0);
    expect(parseThrottleHex('50005\n')).toBe(0x50005);
    expect(parseDmesgThrottled('[ 3741.927786] Under-voltage detected! (0x00050005)')).toBe(0x50005);
    expect(parseDmesgThrottled('[ 3766.887894] Voltage normalised (0x00000000)')).toBe(0);
  });

  it('names only catalog metrics', () => {
    for (const name of Object.keys(throttleMetrics(0xf000f))) expect(describeMetric(name), name).not.toBeNull();
  });
});

describe('line parsers never throw on garbage', () => {
  const garbage = ['', 'VCHI initialization failed', 'temp=', "temp=abc'C", 'frequency()=1', 'frequency(45)=', 'frequency(45)=-5', 'volt=V', 'volt=1.2', 'gpu=256', 'gpu=256T', 'throttled=', 'throttled=0xZZ', 'throttled=0x123456789', 'error=2 error_msg="Invalid arguments"', '\0\0\0', 'x'.repeat(10_000)];
  it.each(garbage)('%j → undefined', (line) => {
    expect(parseMeasureTemp(line)).toBeUndefined();
    expect(parseMeasureClock(line)).toBeUndefined();
    expect(parseMeasureVolts(line)).toBeUndefined();
    expect(parseGetMem(line)).toBeUndefined();
    expect(parseGetThrottled(line)).toBeUndefined();
    expect(parseDmesgThrottled(line)).toBeUndefined();
  });
});

describe('parseVcgencmd on real captures', () => {
  it('get_throttled 0x50005 (companion)', () => {
    const out = parseVcgencmd(fixture('vcgencmd_get-throttled_rpi3_companion_0x50005.txt'));
    expect(out).toMatchObject({ tool: 'vcgencmd', format: 'get_throttled', warnings: [] });
    expect(out.samples).toEqual([{ t: null, m: T_0x50005 }]);
  });

  it('measure_temp, get_throttled, measure_temp: a repeated metric starts the next sample', () => {
    const out = parseVcgencmd(fixture('vcgencmd_measure-temp_get-throttled_rpi3_0x50005.txt'));
    expect(out.format).toBe('mixed');
    expect(out.samples).toEqual([
      { t: null, m: { 'temp.soc': 38.6, ...T_0x50005 } },
      { t: null, m: { 'temp.soc': 38.6 } },
    ]);
    expect(out.warnings).toEqual([]);
  });

  it.each([
    ['vcgencmd_measure-temp_monitorix-2013.txt', 48.5],
    ['vcgencmd_measure-temp_openelec.txt', 49.4],
    ['vcgencmd_measure-temp_bashtop-2020.txt', 52.1],
  ])('%s → temp.soc %d', (name, celsius) => {
    const out = parseVcgencmd(fixture(name));
    expect(out.format).toBe('measure_temp');
    expect(out.samples).toEqual([{ t: null, m: { 'temp.soc': celsius } }]);
  });

  it('measure_volts core, with the rail given by the caller', () => {
    const text = fixture('vcgencmd_measure-volts-core_monitorix-2013.txt');
    expect(parseVcgencmd(text, { voltRail: 'core' }).samples).toEqual([{ t: null, m: { 'pi.volt.core': 1.2 } }]);
    // The answer does not name the rail: without the caller's word nothing is reported.
    const unnamed = parseVcgencmd(text);
    expect(unnamed.samples).toEqual([]);
    expect(unnamed.warnings).toEqual(['"volt=1.20V": the rail measured is not named; not reported']);
  });

  it('measure_clock arm + temp + throttled (duckietown, trailing spaces)', () => {
    const out = parseVcgencmd(fixture('vcgencmd_measure-clock-arm_temp_throttled_duckietown_rpi3bplus.txt'), { clockBlock: 'arm' });
    expect(out.samples).toEqual([{ t: null, m: { 'pi.clock.arm': 1400, 'temp.soc': 62.3, ...T_0x0 } }]);
    expect(out.warnings).toEqual([]);
  });

  it('an unlabelled clock without the caller naming the block is a warning, not a guess from the id', () => {
    const out = parseVcgencmd(fixture('vcgencmd_measure-clock-arm_temp_throttled_duckietown_rpi3bplus.txt'));
    expect(out.samples).toEqual([{ t: null, m: { 'temp.soc': 62.3, ...T_0x0 } }]);
    expect(out.warnings).toEqual(['"frequency(45)=1400000000": clock id 45 does not say which block was measured; not reported']);
  });

  it('three runs of measure_clock v3d: three samples with the 1 kHz jitter kept', () => {
    const out = parseVcgencmd(fixture('vcgencmd_measure-clock-v3d_rpi2b_x3_jitter.txt'), { clockBlock: 'v3d' });
    expect(out.format).toBe('measure_clock');
    expect(out.samples.map((s) => s.m)).toEqual([{ 'pi.clock.v3d': 250 }, { 'pi.clock.v3d': 249.999 }, { 'pi.clock.v3d': 250 }]);
  });

  it('the labelled loop over every clock source: labels name the blocks, 0 is reported', () => {
    const out = parseVcgencmd(fixture('vcgencmd_measure-clock_all-sources_openelec-loop-labeled.txt'));
    expect(out.warnings).toEqual([]);
    expect(out.samples).toEqual([
      {
        t: null,
        m: {
          'pi.clock.arm': 600,
          'pi.clock.core': 250,
          'pi.clock.h264': 250,
          'pi.clock.isp': 250,
          'pi.clock.v3d': 0,
          'pi.clock.uart': 47.999,
          'pi.clock.pwm': 0,
          'pi.clock.emmc': 250,
          'pi.clock.pixel': 85.5,
          'pi.clock.vec': 0,
          'pi.clock.hdmi': 163.683,
          'pi.clock.dpi': 0,
        },
      },
    ]);
    for (const name of Object.keys(out.samples[0]!.m)) expect(describeMetric(name)?.spec.unit, name).toBe('MHz');
  });

  it('get_mem gpu is recognised but has no catalog metric', () => {
    const out = parseVcgencmd(fixture('vcgencmd_get-mem-gpu_openelec.txt'));
    expect(out).toMatchObject({ format: 'get_mem', samples: [] });
    expect(out.warnings).toEqual(['"gpu=256M": memory split (gpu 268435456 bytes) has no catalog metric; not reported']);
    expect(parseGetMem('gpu=256M')).toEqual({ name: 'gpu', bytes: 256 * 2 ** 20 });
  });

  it("the kernel's under-voltage messages, one sample each", () => {
    const out = parseVcgencmd(fixture('dmesg_under-voltage-detected_ogn-receiver.txt'));
    expect(out.format).toBe('dmesg');
    expect(out.samples.map((s) => s.m)).toEqual([T_0x50005, T_0x0, T_0x50005, T_0x0]);
    // dmesg stamps are seconds since boot, not wall time.
    expect(out.samples.every((s) => s.t === null)).toBe(true);
  });
});

describe('parseVcgencmd on other text', () => {
  it('unknown lines between known ones become warnings', () => {
    const out = parseVcgencmd("pi@raspberrypi:~ $ vcgencmd measure_temp\ntemp=52.1'C\nerror=2 error_msg=\"Invalid arguments\"\n");
    expect(out.samples).toEqual([{ t: null, m: { 'temp.soc': 52.1 } }]);
    expect(out.warnings).toEqual([
      '"pi@raspberrypi:~ $ vcgencmd measure_temp": not a vcgencmd line; skipped',
      '"error=2 error_msg=\\"Invalid arguments\\"": not a vcgencmd line; skipped',
    ]);
  });

  it('throws, saying what was expected, when nothing is recognisable', () => {
    expect(() => parseVcgencmd('VCHI initialization failed\n')).toThrow(NotVcgencmdOutputError);
    expect(() => parseVcgencmd('VCHI initialization failed\n')).toThrow(/not vcgencmd output: .*"VCHI initialization failed".*expected vcgencmd output such as throttled=0x50005/);
    expect(() => parseVcgencmd('')).toThrow(/the text is empty/);
    expect(() => parseVcgencmd(fixture('proc-cpuinfo_rpi3-model-b-rev1.2_aarch64.txt'))).toThrow(NotVcgencmdOutputError);
  });

  it('a labelled temperature names its sensor', () => {
    expect(parseVcgencmd("pmic:\ttemp=51.3'C").samples).toEqual([{ t: null, m: { 'temp.pmic': 51.3 } }]);
  });
});
