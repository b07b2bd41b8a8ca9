// Where both `sensors` formats put their readings: one chip feature at a time, named exactly
// as the hwmon collector names the same input, so a host read through `sensors` and one read
// through sysfs chart under the same metric names.
import { HwmonNamer, isPlausible, type HwmonKind } from '../../collectors/hwmon-names.js';

/** hwmon file stems (in0_input, curr1_input) and the kind of reading each holds. */
const STEM_KINDS: Readonly<Record<string, HwmonKind>> = { temp: 'temp', fan: 'fan', in: 'volt', curr: 'current', power: 'power' };

/** The kind of an hwmon subfeature or default label (`in0_input`, `temp1`), if it is one. */
export function kindOfName(name: string): HwmonKind | undefined {
  const stem = /^(temp|fan|in|curr|power)\d+(?:_|$)/.exec(name)?.[1];
  return stem === undefined ? undefined : STEM_KINDS[stem];
}

/**
 * The hwmon chip name in a libsensors chip name: the part before the first `-`
 * (`k10temp-pci-00c3` → k10temp, `cpu_thermal-virtual-0` → cpu_thermal), which is what the
 * chip's sysfs `name` file holds.
 */
export function chipPrefix(chipName: string): string {
  const dash = chipName.indexOf('-');
  return dash > 0 ? chipName.slice(0, dash) : chipName;
}

export class SensorReadings {
  readonly metrics: Record<string, number> = {};
  private readonly namer = new HwmonNamer();

  constructor(private readonly warnings: string[]) {}

  /**
   * Records one feature's reading. `value` undefined (N/A, unreadable) still takes the name,
   * as the hwmon collector's listing would, so the chips after it keep their names.
   */
  add(chipName: string, kind: HwmonKind, label: string, value: number | undefined): void {
    const metric = this.namer.metric(kind, chipPrefix(chipName), label);
    if (value === undefined) return;
    if (!isPlausible(kind, value)) {
      this.warnings.push(`${chipName} ${label}: ${value} is a placeholder or out of range; left out`);
      return;
    }
    this.metrics[metric] = value;
  }
}
