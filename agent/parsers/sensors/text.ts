// Plain `sensors` output: blocks of
//   k10temp-pci-00c3            chip name (libsensors' prefix-bus-address)
//   Adapter: PCI adapter
//   Tctl:         +70.8°C       label: reading unit  (limits…)
//   Composite:    +33.9°C  (low  = -273.1°C, high = +79.8°C)
//                          (crit = +82.8°C)   limits continued on an indented line
//   in0:              N/A       no reading
// separated by blank lines. Only the reading before any `(` is taken.
import type { HwmonKind } from '../../collectors/hwmon-names.js';
import { kindOfName, type SensorReadings } from './readings.js';

interface Unit {
  readonly kind: HwmonKind;
  readonly toBase: (v: number) => number;
}

const SCALE: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, m: 1e-3, u: 1e-6, µ: 1e-6 };

/**
 * The catalog kind and conversion of a unit as lm-sensors prints it. `°` is missing in a
 * non-UTF-8 locale (`+45.0 C`) and arrives as U+FFFD when Latin-1 output is read as UTF-8;
 * power is printed with an SI prefix (`29.00 W`, `843.00 mW`), and newer versions also scale
 * voltages (amdgpu `vddgfx: 843.00 mV`).
 */
function unitOf(text: string): Unit | undefined {
  if (/^[°\uFFFD]?C$/.test(text)) return { kind: 'temp', toBase: (v) => v };
  // `sensors -f`: back to °C, rounded to what the one printed decimal can carry.
  if (/^[°\uFFFD]?F$/.test(text)) return { kind: 'temp', toBase: (v) => Math.round(((v - 32) * 5_000) / 9) / 1000 };
  if (text === 'RPM') return { kind: 'fan', toBase: (v) => v };
  const m = /^([kMmuµ]?)([VAW])$/.exec(text);
  if (!m) return undefined;
  const scale = SCALE[m[1]!]!;
  const kind: HwmonKind = m[2] === 'V' ? 'volt' : m[2] === 'A' ? 'current' : 'power';
  // Multiply by 1e3 and divide rather than multiply by 1e-3, which is inexact (843 × 0.001 ≠ 0.843).
  return { kind, toBase: (v) => (scale < 1 ? v / Math.round(1 / scale) : v * scale) };
}

const CHIP_HEADER = /^[^\s:]+$/;
const FEATURE = /^(.+?):(?:\s+(.*))?$/;
const READING = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([^\s(]+)?/;

export interface TextShape {
  /** Chip headers followed by an `Adapter:` line: proof this is `sensors` output. */
  adapters: number;
  /** Features read with a known unit. */
  readings: number;
}

export function readSensorsText(text: string, readings: SensorReadings, warnings: string[]): TextShape {
  const shape: TextShape = { adapters: 0, readings: 0 };
  let chip: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `line ${index + 1}`;
    const line = raw.trimEnd();
    if (line === '') {
      chip = undefined;
      return;
    }
    if (/^\s/.test(line)) {
      // Limits continued from the feature above; anything else indented is not plain output.
      if (!line.trimStart().startsWith('(')) warnings.push(`${where}: indented line not understood, skipped: ${JSON.stringify(line.trim())}`);
      return;
    }
    if (/^ERROR:/.test(line)) {
      warnings.push(`${where}: lm-sensors error, skipped: ${JSON.stringify(line)}`);
      return;
    }
    if (CHIP_HEADER.test(line)) {
      chip = line;
      if (/^Adapter:/.test(lines[index + 1] ?? '')) shape.adapters++;
      return;
    }
    if (/^Adapter:/.test(line)) return;
    const feature = FEATURE.exec(line);
    if (!feature) {
      warnings.push(`${where}: not understood, skipped: ${JSON.stringify(line)}`);
      return;
    }
    if (chip === undefined) {
      warnings.push(`${where}: reading outside a chip block, skipped: ${JSON.stringify(line)}`);
      return;
    }
    const label = feature[1]!.trim();
    const value = (feature[2] ?? '').trim();
    if (/^N\/A\b/.test(value)) {
      // No reading now, but the input exists: it keeps its name when the kind is known.
      const kind = kindOfName(label);
      if (kind !== undefined) readings.add(chip, kind, label, undefined);
      return;
    }
    const m = READING.exec(value);
    const unit = m?.[2] === undefined ? undefined : unitOf(m[2]);
    if (!m || !unit) {
      warnings.push(`${where}: ${chip} ${label}: ${JSON.stringify(value.slice(0, 40))} is no reading of a kind reported; skipped`);
      return;
    }
    readings.add(chip, unit.kind, label, unit.toBase(Number(m[1])));
    shape.readings++;
  });
  return shape;
}
