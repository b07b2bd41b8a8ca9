import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { thermalCollector } from '../../agent/collectors/thermal.js';
import { detectOrFail, sample, scenarioTree, type Tree } from './harness.js';

let tree: Tree | undefined;
afterEach(() => tree?.remove());

describe('thermal collector', () => {
  it('reads a Jetson Nano (L4T 32) and drops the PMIC-Die alarm level that always reads 100 °C', async () => {
    tree = scenarioTree('jetson-nano');
    const thermal = await detectOrFail(thermalCollector, tree.ctx);
    expect(await sample(thermal)).toEqual({
      'temp.ao_therm': 31,
      'temp.cpu_therm': 24.5,
      'temp.gpu_therm': 26.5,
      'temp.pll_therm': 24.5,
      'temp.thermal_fan_est': 25.5,
    });
  });

  it('reads a Raspberry Pi 3 zone in millidegrees', async () => {
    tree = scenarioTree('raspberry-pi-3');
    expect(await sample(await detectOrFail(thermalCollector, tree.ctx))).toEqual({ 'temp.cpu_thermal': 34.234 });
  });

  it('suffixes repeated zone types in zone-number order (zone10 after zone2)', async () => {
    tree = scenarioTree('intel-r86s');
    tree.write('sys/class/thermal/thermal_zone10/type', 'acpitz\n');
    tree.write('sys/class/thermal/thermal_zone10/temp', '16800\n');
    tree.write('sys/class/thermal/thermal_zone2/type', 'acpitz\n');
    tree.write('sys/class/thermal/thermal_zone2/temp', '29800\n');
    tree.write('sys/class/thermal/cooling_device0/type', 'Processor\n');
    expect(await sample(await detectOrFail(thermalCollector, tree.ctx))).toEqual({ 'temp.acpitz': 27.8, 'temp.acpitz_1': 29.8, 'temp.acpitz_2': 16.8 });
  });

  it.each([
    ['−273.15 °C placeholder', '-273150'],
    ['Orin powered-down sensor (−256 °C)', '-256000'],
    ['NVMe 0xFFFF-kelvin sentinel (65261.85 °C)', '65261850'],
    ['absurd value', '200001'],
    ['empty file', ''],
    ['text', 'N/A\n'],
    ['a fraction (not the sysfs format)', '34.5'],
  ])('leaves out a reading that is not a temperature: %s', async (_what, raw) => {
    tree = scenarioTree('raspberry-pi-3');
    const thermal = await detectOrFail(thermalCollector, tree.ctx);
    tree.write('sys/class/thermal/thermal_zone0/temp', raw);
    expect(await sample(thermal)).toEqual({});
  });

  it('keeps real readings at the edges: below zero and 200 °C', async () => {
    tree = scenarioTree('raspberry-pi-3');
    const thermal = await detectOrFail(thermalCollector, tree.ctx);
    tree.write('sys/class/thermal/thermal_zone0/temp', '-5150\n');
    expect(await sample(thermal)).toEqual({ 'temp.cpu_thermal': -5.15 });
    tree.write('sys/class/thermal/thermal_zone0/temp', '200000\n');
    expect(await sample(thermal)).toEqual({ 'temp.cpu_thermal': 200 });
  });

  it('leaves out a zone whose read fails, and reports it again once it reads', async () => {
    tree = scenarioTree('jetson-nano');
    const thermal = await detectOrFail(thermalCollector, tree.ctx);
    const temp = join(tree.root, 'sys/class/thermal/thermal_zone1/temp');
    rmSync(temp);
    // A directory in place of the file: the read fails as EIO/ENODATA do on a real sensor.
    mkdirSync(temp);
    expect(await sample(thermal)).not.toHaveProperty('temp.cpu_therm');
    rmSync(temp, { recursive: true });
    expect(await sample(thermal)).not.toHaveProperty('temp.cpu_therm');
    tree.write('sys/class/thermal/thermal_zone1/temp', '41500\n');
    expect((await sample(thermal))['temp.cpu_therm']).toBe(41.5);
  });

  it('returns null where there are no thermal zones', async () => {
    tree = scenarioTree('ryzen-nvme');
    expect(await thermalCollector.detect(tree.ctx)).toBeNull();
    tree.write('sys/class/thermal/cooling_device0/type', 'Processor\n');
    expect(await thermalCollector.detect(tree.ctx)).toBeNull();
  });
});
