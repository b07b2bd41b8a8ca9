import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hwmonCollector } from '../../agent/collectors/hwmon.js';
import { parseSensors } from '../../agent/parsers/sensors/index.js';
import { detectOrFail, pick, sample, scenarioTree, type Tree } from './harness.js';

const SENSORS_FIXTURES = fileURLToPath(new URL('../fixtures/sensors/', import.meta.url));

let tree: Tree | undefined;
afterEach(() => tree?.remove());

describe('hwmon collector', () => {
  it('names inputs chip_label and skips acpitz, which mirrors the acpitz thermal zone (Intel R86S)', async () => {
    tree = scenarioTree('intel-r86s');
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({
      'temp.nvme_composite': 44.85,
      'temp.coretemp_package_id_0': 45,
      'temp.coretemp_core_0': 40,
      'temp.coretemp_core_1': 40,
      'temp.coretemp_core_2': 40,
      'temp.coretemp_core_3': 40,
    });
  });

  it('uses tempN when there is no label (acpitz with no thermal zone to mirror)', async () => {
    tree = scenarioTree('intel-r86s');
    rmSync(join(tree.root, 'sys/class/thermal'), { recursive: true });
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toHaveProperty('temp.acpitz_temp1', 27.8);
  });

  it('reads k10temp with gaps in its numbering and ignores limits such as the 65261.85 °C temp2_max (sensors -j capture)', async () => {
    tree = scenarioTree('ryzen-nvme');
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({
      'temp.nvme_composite': 36.85,
      'temp.nvme_sensor_1': 36.85,
      'temp.nvme_sensor_2': 41.85,
      'temp.k10temp_tctl': 51.625,
      'temp.k10temp_tccd1': 48.75,
      'temp.k10temp_tccd2': 45,
    });
  });

  it('suffixes a second chip of the same name and reads k10temp voltages (mV) and currents (mA) in V and A (Ryzen 9 3900, two NVMe)', async () => {
    tree = scenarioTree('ryzen9-3900-2x-nvme');
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({
      'volt.k10temp_vcore': 1.36,
      'volt.k10temp_vsoc': 1.01,
      'current.k10temp_icore': 57,
      'current.k10temp_isoc': 6.5,
      'temp.k10temp_tctl': 70.75,
      'temp.k10temp_tdie': 70.75,
      'temp.k10temp_tccd1': 71.5,
      'temp.k10temp_tccd2': 68.75,
      'temp.nvme_composite': 33.85,
      'temp.nvme_sensor_1': 33.85,
      'temp.nvme_sensor_2': 41.85,
      'temp.nvme_composite_1': 32.85,
      'temp.nvme_sensor_1_1': 32.85,
      'temp.nvme_sensor_2_1': 40.85,
    });
  });

  it('returns null on a Raspberry Pi: cpu_thermal mirrors the cpu-thermal zone and rpi_volt has no temperatures', async () => {
    tree = scenarioTree('raspberry-pi-3');
    expect(await hwmonCollector.detect(tree.ctx)).toBeNull();
    // Without the zone the same chip is a sensor in its own right.
    rmSync(join(tree.root, 'sys/class/thermal'), { recursive: true });
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({ 'temp.cpu_thermal_temp1': 34.234 });
  });

  it.each([
    ['NVMe 0xFFFF-kelvin sentinel', '65261850\n'],
    ['−273.15 °C placeholder', '-273150\n'],
    ['garbage', '\u0000\u0001'],
  ])('leaves out an input reading %s', async (_what, raw) => {
    tree = scenarioTree('ryzen-nvme');
    const hwmon = await detectOrFail(hwmonCollector, tree.ctx);
    tree.write('sys/class/hwmon/hwmon0/temp2_input', raw);
    const out = await sample(hwmon);
    expect(out).not.toHaveProperty('temp.nvme_sensor_1');
    expect(out['temp.nvme_composite']).toBe(36.85);
  });

  it('leaves out an input whose read fails (iwlwifi with the interface down) and keeps the rest', async () => {
    tree = scenarioTree('ryzen-nvme');
    const hwmon = await detectOrFail(hwmonCollector, tree.ctx);
    const input = join(tree.root, 'sys/class/hwmon/hwmon1/temp3_input');
    rmSync(input);
    mkdirSync(input);
    const out = await sample(hwmon);
    expect(out).not.toHaveProperty('temp.k10temp_tccd1');
    expect(Object.keys(out)).toHaveLength(5);
  });

  it('finds attributes under hwmonN/device/ (older kernels) and skips a chip without a name', async () => {
    tree = scenarioTree('ryzen-nvme');
    const k10 = join(tree.root, 'sys/class/hwmon/hwmon1');
    renameSync(k10, `${k10}.tmp`);
    mkdirSync(k10);
    renameSync(`${k10}.tmp`, join(k10, 'device'));
    rmSync(join(tree.root, 'sys/class/hwmon/hwmon0/name'));
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({
      'temp.k10temp_tctl': 51.625,
      'temp.k10temp_tccd1': 48.75,
      'temp.k10temp_tccd2': 45,
    });
  });

  it('names voltages and currents as the sensors parser does for the same chip', async () => {
    tree = scenarioTree('ryzen9-3900-2x-nvme');
    const fromSysfs = await sample(await detectOrFail(hwmonCollector, tree.ctx));
    const fromSensors = parseSensors(readFileSync(join(SENSORS_FIXTURES, 'sensors_amd-ryzen9-3900_k10temp-vcore-icore_2x-nvme.txt'), 'utf8'));
    expect(Object.keys(fromSysfs).sort()).toEqual(Object.keys(fromSensors.samples[0]!.m).sort());
  });

  // A Super-I/O chip written here (no capture with fans exists): nct6775-family file layout,
  // values made up. fan3 has a pwm header but no tachometer.
  function writeNct6798(t: Tree, dir = 'sys/class/hwmon/hwmon3'): void {
    t.write(`${dir}/name`, 'nct6798\n');
    t.write(`${dir}/fan1_input`, '1200\n');
    t.write(`${dir}/fan1_min`, '0\n');
    t.write(`${dir}/pwm1`, '128\n');
    t.write(`${dir}/pwm1_enable`, '5\n');
    t.write(`${dir}/fan2_input`, '0\n');
    t.write(`${dir}/fan2_label`, 'CPU_OPT\n');
    t.write(`${dir}/pwm2`, '255\n');
    t.write(`${dir}/pwm3`, '0\n');
    t.write(`${dir}/in0_input`, '848\n');
    t.write(`${dir}/in0_max`, '1744\n');
    t.write(`${dir}/power1_input`, '12500000\n');
    t.write(`${dir}/power2_average`, '3250000\n');
    t.write(`${dir}/power3_input`, '1000000\n');
    t.write(`${dir}/power3_average`, '2000000\n');
  }

  it('reads fans (rpm), pwm duty as %, voltages and power (µW, input preferred over average)', async () => {
    tree = scenarioTree('intel-r86s');
    writeNct6798(tree);
    const out = await sample(await detectOrFail(hwmonCollector, tree.ctx));
    expect(pick(out, 'fan.')).toEqual({
      'fan.nct6798_fan1': 1200,
      'fan.nct6798_fan1.pwm': (128 * 100) / 255,
      'fan.nct6798_cpu_opt': 0,
      'fan.nct6798_cpu_opt.pwm': 100,
      'fan.nct6798_fan3.pwm': 0,
    });
    expect(pick(out, 'volt.')).toEqual({ 'volt.nct6798_in0': 0.848 });
    expect(pick(out, 'power.')).toEqual({ 'power.hwmon.nct6798_power1': 12.5, 'power.hwmon.nct6798_power2': 3.25, 'power.hwmon.nct6798_power3': 1 });
    // Temperatures keep their names beside the new kinds.
    expect(out['temp.coretemp_package_id_0']).toBe(45);
  });

  it.each([
    ['negative rpm', 'fan1_input', '-1\n', 'fan.nct6798_fan1'],
    ['the 65535 rpm all-ones count', 'fan1_input', '65535\n', 'fan.nct6798_fan1'],
    ['a pwm past 255', 'pwm1', '256\n', 'fan.nct6798_fan1.pwm'],
    ['a voltage that is not an integer', 'in0_input', 'N/A\n', 'volt.nct6798_in0'],
  ])('leaves out %s and keeps the rest', async (_what, file, raw, metric) => {
    tree = scenarioTree('intel-r86s');
    writeNct6798(tree);
    const hwmon = await detectOrFail(hwmonCollector, tree.ctx);
    tree.write(`sys/class/hwmon/hwmon3/${file}`, raw);
    const out = await sample(hwmon);
    expect(out).not.toHaveProperty(metric);
    expect(out['power.hwmon.nct6798_power1']).toBe(12.5);
  });

  it('reads the input files again each tick (nothing is cached at detect)', async () => {
    tree = scenarioTree('ryzen9-3900-2x-nvme');
    const hwmon = await detectOrFail(hwmonCollector, tree.ctx);
    // Changed after detect: the tick reads the files again rather than values cached at detect.
    tree.write('sys/class/hwmon/hwmon0/in0_input', '1100\n');
    tree.write('sys/class/hwmon/hwmon0/curr1_input', '12250\n');
    const out = await sample(hwmon);
    expect(out['volt.k10temp_vcore']).toBe(1.1);
    expect(out['current.k10temp_icore']).toBe(12.25);
  });

  it('skips ina3221 chips, whose rails the Jetson collector reports', async () => {
    tree = scenarioTree('intel-r86s');
    // Laid out as the ina3221 driver does (in*_input mV, curr*_input mA, in*_label rail names).
    tree.write('sys/class/hwmon/hwmon3/name', 'ina3221\n');
    tree.write('sys/class/hwmon/hwmon3/in1_input', '5000\n');
    tree.write('sys/class/hwmon/hwmon3/in1_label', 'VDD_IN\n');
    tree.write('sys/class/hwmon/hwmon3/curr1_input', '1200\n');
    const out = await sample(await detectOrFail(hwmonCollector, tree.ctx));
    expect(Object.keys(out).filter((k) => k.includes('ina3221'))).toEqual([]);
    expect(Object.keys(out)).toHaveLength(6);
  });

  it('returns null without /sys/class/hwmon', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await hwmonCollector.detect(tree.ctx)).toBeNull();
  });
});
