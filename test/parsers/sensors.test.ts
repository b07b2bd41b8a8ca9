// lm-sensors parser against real captures (test/fixtures/sensors, copied from the shared
// fixture set). Expected values are read off the capture files by eye, not produced by the parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NotSensorsOutputError, parseSensors } from '../../agent/parsers/sensors/index.js';
import { describeMetric } from '../../shared/catalog.js';

const DIR = fileURLToPath(new URL('../fixtures/sensors/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const JSON_CAPTURE = 'sensors-j_amd-ryzen_k10temp-tccd_nvme_json.txt';

/** The one sample's metrics. */
const metrics = (text: string): Record<string, number> => {
  const out = parseSensors(text);
  expect(out.samples).toHaveLength(1);
  return out.samples[0]!.m;
};

describe('every capture', () => {
  it.each(FIXTURES)('%s parses to catalog metrics without a sentinel value', (name) => {
    const out = parseSensors(fixture(name));
    expect(out.tool).toBe('sensors');
    expect(out.format).toBe(name.startsWith('sensors-j_') ? 'json' : 'text');
    const values = out.samples[0]!.m;
    expect(Object.keys(values).length).toBeGreaterThan(0);
    for (const [metric, value] of Object.entries(values)) {
      expect(describeMetric(metric), metric).not.toBeNull();
      expect(Number.isFinite(value)).toBe(true);
      // 65261.85 (0xFFFF NVMe kelvin) and −273.15 only ever appear as limits in these captures.
      expect(value).toBeLessThan(1000);
      expect(value).toBeGreaterThan(-100);
    }
    expect(out.warnings).toEqual([]);
  });

  it('is the full set copied from shared/fixtures/sensors', () => {
    expect(FIXTURES).toHaveLength(6);
  });
});

describe('sensors -j', () => {
  it('reads each feature’s _input, skipping max/min/crit/alarm and the 65261.850 / -273.150 limits', () => {
    expect(metrics(fixture(JSON_CAPTURE))).toEqual({
      'temp.nvme_composite': 36.85,
      'temp.nvme_sensor_1': 36.85,
      'temp.nvme_sensor_2': 41.85,
      'temp.k10temp_tctl': 51.625,
      'temp.k10temp_tccd1': 48.75,
      'temp.k10temp_tccd2': 45,
    });
  });

  // The invalid variants below are derived from the valid capture by editing it here; no real
  // capture of broken `sensors -j` output is in the fixture set.
  it('survives a trailing comma, an ERROR line from stderr and -nan, keeping every other reading and warning about each', () => {
    const broken = fixture(JSON_CAPTURE)
      .replace('"temp1_alarm": 0.000', '"temp1_alarm": 0.000,')
      .replace('"Tccd1":{', `"Tccd1":{\nERROR: Can't get value of subfeature temp3_input: Can't read`)
      .replace('"temp4_input": 45.000', '"temp4_input": -nan');
    expect(() => JSON.parse(broken)).toThrow();
    const out = parseSensors(broken);
    expect(out.format).toBe('json');
    expect(out.samples[0]!.m).toEqual({
      'temp.nvme_composite': 36.85,
      'temp.nvme_sensor_1': 36.85,
      'temp.nvme_sensor_2': 41.85,
      'temp.k10temp_tctl': 51.625,
      'temp.k10temp_tccd1': 48.75,
    });
    expect(out.warnings).toEqual([
      `line 28: not JSON, skipped: "ERROR: Can't get value of subfeature temp3_input: Can't read"`,
      'line 9: trailing comma before }; ignored',
      'line 32: "-nan" is not a JSON value; read as null',
    ]);
  });

  it('survives a subfeature whose value lm-sensors replaced by an error, and output cut short', () => {
    const broken = fixture(JSON_CAPTURE)
      .replace('"temp1_input": 51.625', `"temp1_input": ERROR: Can't read`)
      .split('"Tccd2"')[0]!;
    const out = parseSensors(broken);
    expect(out.samples[0]!.m).toEqual({
      'temp.nvme_composite': 36.85,
      'temp.nvme_sensor_1': 36.85,
      'temp.nvme_sensor_2': 41.85,
      'temp.k10temp_tccd1': 48.75,
    });
    expect(out.warnings.length).toBeGreaterThan(0);
    expect(out.warnings).toContain('document ends inside an object; closed it');
  });

  it('takes power*_average where there is no power*_input, and converts nothing (JSON is in base units)', () => {
    // Written here in `sensors -j` layout: amdgpu's subfeature names, values made up.
    const text = `{
   "amdgpu-pci-0300":{
      "Adapter": "PCI adapter",
      "vddgfx":{ "in0_input": 0.843 },
      "fan1":{ "fan1_input": 1200.000, "fan1_min": 0.000, "fan1_max": 3300.000 },
      "PPT":{ "power1_average": 29.000, "power1_cap": 250.000 },
      "edge":{ "temp1_input": 45.000, "temp1_crit": 100.000 }
   }
}`;
    expect(metrics(text)).toEqual({
      'volt.amdgpu_vddgfx': 0.843,
      'fan.amdgpu_fan1': 1200,
      'power.hwmon.amdgpu_ppt': 29,
      'temp.amdgpu_edge': 45,
    });
  });

  it('leaves out an input that reads a sentinel, with a warning', () => {
    const out = parseSensors(fixture(JSON_CAPTURE).replace('"temp2_input": 36.850', '"temp2_input": 65261.850'));
    expect(out.samples[0]!.m).not.toHaveProperty('temp.nvme_sensor_1');
    expect(out.samples[0]!.m['temp.nvme_sensor_2']).toBe(41.85);
    expect(out.warnings).toEqual(['nvme-pci-0100 Sensor 1: 65261.85 is a placeholder or out of range; left out']);
  });
});

describe('plain sensors', () => {
  it('reads voltages, currents and temperatures, names the second nvme chip _1, ignores continued limits (Ryzen 9 3900)', () => {
    expect(metrics(fixture('sensors_amd-ryzen9-3900_k10temp-vcore-icore_2x-nvme.txt'))).toEqual({
      'volt.k10temp_vcore': 1.36,
      'volt.k10temp_vsoc': 1.01,
      'temp.k10temp_tctl': 70.8,
      'temp.k10temp_tdie': 70.8,
      'temp.k10temp_tccd1': 71.5,
      'temp.k10temp_tccd2': 68.8,
      'current.k10temp_icore': 57,
      'current.k10temp_isoc': 6.5,
      'temp.nvme_composite': 33.9,
      'temp.nvme_sensor_1': 33.9,
      'temp.nvme_sensor_2': 41.9,
      'temp.nvme_composite_1': 32.9,
      'temp.nvme_sensor_1_1': 32.9,
      'temp.nvme_sensor_2_1': 40.9,
    });
  });

  it('names labels with spaces and unlabeled features as the hwmon collector does (R86S)', () => {
    expect(metrics(fixture('sensors_intel-coretemp-4core_acpitz_nvme_r86s-ubuntu22.04.txt'))).toEqual({
      'temp.coretemp_package_id_0': 45,
      'temp.coretemp_core_0': 40,
      'temp.coretemp_core_1': 40,
      'temp.coretemp_core_2': 40,
      'temp.coretemp_core_3': 40,
      'temp.acpitz_temp1': 27.8,
      'temp.nvme_composite': 44.9,
    });
  });

  it('reads nvme before k10temp (Arch, kernel 6.6)', () => {
    expect(metrics(fixture('sensors_amd-ryzen_k10temp_nvme_arch-6.6.txt'))).toEqual({
      'temp.nvme_composite': 23.9,
      'temp.nvme_sensor_1': 23.9,
      'temp.nvme_sensor_2': 24.9,
      'temp.k10temp_tctl': 30.5,
      'temp.k10temp_tccd1': 24,
    });
  });

  it('leaves out in0: N/A (Raspberry Pi 3: rpi_volt) and takes the chip prefix cpu_thermal', () => {
    expect(metrics(fixture('sensors_raspberry-pi-3_aarch64_rpi-volt-NA.txt'))).toEqual({ 'temp.cpu_thermal_temp1': 41.3 });
  });

  it('leaves out iwlwifi temp1: N/A and tolerates trailing spaces (Ryzen 7 5800X, trimmed by the user)', () => {
    const values = metrics(fixture('sensors_ryzen7-5800x_k10temp-tdie_iwlwifi-NA_2x-nvme_partial.txt'));
    expect(values).toEqual({
      'temp.k10temp_tctl': 58.2,
      'temp.k10temp_tdie': 58.2,
      'temp.nvme_composite': 55.9,
      'temp.nvme_composite_1': 53.9,
    });
    expect(Object.keys(values).some((k) => k.startsWith('temp.iwlwifi'))).toBe(false);
  });

  it('reads fans, scaled power and voltage units, °F and a Latin-1 degree sign', () => {
    // Lines written here in lm-sensors' print format (no capture with fans or power exists).
    const text = [
      'nct6798-isa-0290',
      'Adapter: ISA adapter',
      'in0:                   848.00 mV (min =  +0.00 V, max =  +1.74 V)',
      'fan1:                  1200 RPM  (min =    0 RPM)',
      'fan2:                     0 RPM  (min =    0 RPM)',
      'SYSTIN:                 +96.8°F  (high = +176.0°F, hyst = +167.0°F)',
      'intrusion0:            ALARM',
      '',
      'amdgpu-pci-0300',
      'Adapter: PCI adapter',
      'PPT:          29.00 W  (cap = 250.00 W)',
      'P_idle:      850.00 mW',
      'edge:         +45.0\uFFFDC  (crit = +100.0\uFFFDC)',
      '',
    ].join('\n');
    const out = parseSensors(text);
    expect(out.samples[0]!.m).toEqual({
      'volt.nct6798_in0': 0.848,
      'fan.nct6798_fan1': 1200,
      'fan.nct6798_fan2': 0,
      'temp.nct6798_systin': 36,
      'power.hwmon.amdgpu_ppt': 29,
      'power.hwmon.amdgpu_p_idle': 0.85,
      'temp.amdgpu_edge': 45,
    });
    expect(out.warnings).toEqual(['line 7: nct6798-isa-0290 intrusion0: "ALARM" is no reading of a kind reported; skipped']);
  });

  it('gives a later chip the name it would get from hwmon even when the earlier chip’s input reads N/A', () => {
    const text = 'nvme-pci-0100\nAdapter: PCI adapter\ntemp1:  N/A\n\nnvme-pci-0200\nAdapter: PCI adapter\ntemp1:  +30.9°C\n';
    expect(metrics(text)).toEqual({ 'temp.nvme_temp1_1': 30.9 });
  });

  it('skips an ERROR line mixed into the text', () => {
    const text = `${fixture('sensors_amd-ryzen_k10temp_nvme_arch-6.6.txt')}ERROR: Can't get value of subfeature temp2_input: Can't read\n`;
    const out = parseSensors(text);
    expect(out.samples[0]!.m['temp.k10temp_tccd1']).toBe(24);
    expect(out.warnings).toHaveLength(1);
  });

  it('reads "No sensors found!" as no readings', () => {
    const out = parseSensors('No sensors found!\nMake sure you loaded all the kernel drivers you need.\nTry sensors-detect to find out which these are.\n');
    expect(out.samples[0]!.m).toEqual({});
    expect(out.warnings).toEqual(['sensors found no chips']);
  });
});

describe('not sensors output', () => {
  it.each([
    ['empty text', ''],
    ['nvidia-smi CSV', 'index, name, temperature.gpu\n0, NVIDIA H200, 32\n'],
    ['a JSON array', '[1, 2]'],
    ['prose', 'hello world\n'],
  ])('throws for %s, saying what was expected', (_what, text) => {
    expect(() => parseSensors(text)).toThrow(NotSensorsOutputError);
    expect(() => parseSensors(text)).toThrow(/expected `sensors -j` JSON or plain `sensors` text/);
  });
});
