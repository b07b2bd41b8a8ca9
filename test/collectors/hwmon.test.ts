import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hwmonCollector } from '../../agent/collectors/hwmon.js';
import { detectOrFail, sample, scenarioTree, type Tree } from './harness.js';

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

  it('suffixes a second chip of the same name and ignores voltage and current inputs (Ryzen 9 3900, two NVMe)', async () => {
    tree = scenarioTree('ryzen9-3900-2x-nvme');
    expect(await sample(await detectOrFail(hwmonCollector, tree.ctx))).toEqual({
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

  it('returns null without /sys/class/hwmon', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await hwmonCollector.detect(tree.ctx)).toBeNull();
  });
});
