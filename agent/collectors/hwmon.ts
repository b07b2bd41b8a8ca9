// Temperatures from hwmon chips: /sys/class/hwmon/hwmon*/{name,temp*_input,temp*_label}, as
// `temp.<chip>_<label or tempN>` (e.g. temp.coretemp_package_id_0, temp.nvme_composite).
// Chips and their inputs are listed once at start; each tick reads one file per input.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import type { CollectorContext, CollectorFactory } from './collector.js';
import { listNumbered, readText } from './sysfs.js';
import { listThermalZones, TempCollector, type TempSensor } from './thermal.js';

export const hwmonCollector: CollectorFactory = {
  name: 'hwmon',
  async detect(ctx) {
    const sensors = hwmonSensors(ctx);
    if (sensors.length === 0) return null;
    ctx.log.debug({ sensors: sensors.map((s) => s.metric) }, 'hwmon temperature inputs');
    return new TempCollector('hwmon', sensors, ctx.log);
  },
};

function hwmonSensors(ctx: CollectorContext): TempSensor[] {
  const classDir = join(ctx.sysRoot, 'class/hwmon');
  // The kernel's thermal core registers every thermal zone as an hwmon chip too, named after
  // the zone type with `-` made `_` (a Pi's `cpu-thermal` zone is the `cpu_thermal` chip,
  // x86's `acpitz` both). Those repeat what the thermal collector already reports.
  const zoneNames = new Set(listThermalZones(ctx.sysRoot).map((z) => metricSegment(z.type)));
  const taken = new Set<string>();
  const sensors: TempSensor[] = [];
  for (const { name } of listNumbered(classDir, /^hwmon(\d+)$/)) {
    const chipDir = attributeDir(join(classDir, name));
    const chip = readText(join(chipDir, 'name'))?.trim();
    if (!chip) {
      ctx.log.debug({ chip: chipDir }, 'hwmon chip has no name; skipped (its metric names would not be stable)');
      continue;
    }
    if (zoneNames.has(metricSegment(chip))) {
      ctx.log.debug({ chip, dir: chipDir }, 'hwmon chip mirrors a thermal zone; skipped');
      continue;
    }
    // Numbering may have gaps (k10temp: temp1, temp3, temp4).
    for (const { n: index } of listNumbered(chipDir, /^temp(\d+)_input$/)) {
      const label = readText(join(chipDir, `temp${index}_label`))?.trim() || `temp${index}`;
      sensors.push({
        metric: `temp.${uniqueSegment(metricSegment(`${chip}_${label}`), taken)}`,
        path: join(chipDir, `temp${index}_input`),
        failing: false,
      });
    }
  }
  return sensors;
}

/** Kernels before 3.x put a chip's attributes in hwmonN/device/ rather than hwmonN/. */
function attributeDir(hwmonDir: string): string {
  return !existsSync(join(hwmonDir, 'name')) && existsSync(join(hwmonDir, 'device/name')) ? join(hwmonDir, 'device') : hwmonDir;
}
