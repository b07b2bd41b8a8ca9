// The inputs of one hwmon chip, in the kernel's hwmon sysfs ABI units: temp*_input (m°C),
// fan*_input (rpm), pwm* (0–255), in*_input (mV), curr*_input (mA), power*_input or
// power*_average (µW). Each becomes one file to read per tick and a catalog metric name.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HwmonNamer, isPlausible, metricName, type HwmonKind } from './hwmon-names.js';
import { listNumbered, readText } from './sysfs.js';

export interface HwmonInput {
  readonly metric: string;
  readonly path: string;
  /** The file's text as a value in the catalog unit, or undefined when it is no reading. */
  readonly convert: (raw: string) => number | undefined;
  failing: boolean;
}

interface InputType {
  readonly kind: HwmonKind;
  /** File-name stem: in0_input, in0_label. */
  readonly stem: string;
  /** Reading files; several names may serve one channel (power: input, else average). */
  readonly files: readonly string[];
  /** sysfs units per catalog unit. */
  readonly per: number;
}

// Order matters only for the log; names are unique per kind.
const TYPES: readonly InputType[] = [
  { kind: 'temp', stem: 'temp', files: ['input'], per: 1000 },
  { kind: 'fan', stem: 'fan', files: ['input'], per: 1 },
  { kind: 'volt', stem: 'in', files: ['input'], per: 1000 },
  { kind: 'current', stem: 'curr', files: ['input'], per: 1000 },
  // power*_average is what chips that only average (amdgpu PPT, some pmbus) provide.
  { kind: 'power', stem: 'power', files: ['input', 'average'], per: 1_000_000 },
];

const PWM_FULL = 255;

/** An integer sysfs value, or undefined for anything else (empty, garbage, a float). */
function parseInteger(raw: string): number | undefined {
  const s = raw.trim();
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

function converter(kind: HwmonKind, per: number): (raw: string) => number | undefined {
  return (raw) => {
    const n = parseInteger(raw);
    if (n === undefined) return undefined;
    const value = n / per;
    return isPlausible(kind, value) ? value : undefined;
  };
}

function convertPwm(raw: string): number | undefined {
  const n = parseInteger(raw);
  return n !== undefined && n >= 0 && n <= PWM_FULL ? (n * 100) / PWM_FULL : undefined;
}

/** Label the driver gives channel `stem<n>`, else `stem<n>` itself, as lm-sensors prints it. */
function label(chipDir: string, stem: string, n: number): string {
  return readText(join(chipDir, `${stem}${n}_label`))?.trim() || `${stem}${n}`;
}

/** Every input of the chip in `chipDir` named `chip`, in channel order per kind. */
export function chipInputs(chipDir: string, chip: string, namer: HwmonNamer): HwmonInput[] {
  const inputs: HwmonInput[] = [];
  const fanSegments = new Map<number, string>();
  for (const type of TYPES) {
    const pattern = new RegExp(`^${type.stem}(\\d+)_(?:${type.files.join('|')})$`);
    // Numbering may have gaps (k10temp: temp1, temp3, temp4); dedupe channels with two files.
    const channels = [...new Set(listNumbered(chipDir, pattern).map((e) => e.n))];
    for (const n of channels) {
      const file = type.files.map((f) => `${type.stem}${n}_${f}`).find((f) => existsSync(join(chipDir, f)));
      if (file === undefined) continue;
      const segment = namer.segment(type.kind, chip, label(chipDir, type.stem, n));
      if (type.kind === 'fan') fanSegments.set(n, segment);
      inputs.push({ metric: metricName(type.kind, segment), path: join(chipDir, file), convert: converter(type.kind, type.per), failing: false });
    }
  }
  // pwmN drives fanN on the chips that have both (the hwmon ABI pairs them by number unless
  // pwmN_auto_channels_temp says otherwise), so the duty cycle sits under that fan's name. A
  // header without a tachometer has a pwm but no fan input: it still gets a fan name.
  for (const { n } of listNumbered(chipDir, /^pwm(\d+)$/)) {
    const segment = fanSegments.get(n) ?? namer.segment('fan', chip, label(chipDir, 'fan', n));
    inputs.push({ metric: `${metricName('fan', segment)}.pwm`, path: join(chipDir, `pwm${n}`), convert: convertPwm, failing: false });
  }
  return inputs;
}
