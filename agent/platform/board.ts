// What board this is, from the device tree: a Jetson, a Raspberry Pi, or something else.
// Several collectors ask (the Jetson collector to claim the GPU from nvidia-smi, the Pi
// collector to look for vcgencmd), so the answer is read here once per detect.
import { join } from 'node:path';
import type { CollectorContext } from '../collectors/collector.js';
import { readText } from '../collectors/sysfs.js';

export type BoardKind = 'jetson' | 'raspberry-pi' | 'other';

export interface BoardIdentity {
  readonly kind: BoardKind;
  /** Device-tree model, e.g. `Raspberry Pi 3 Model B Rev 1.2`; undefined without a device tree. */
  readonly model?: string;
  /** Device-tree `compatible` entries, most specific first. */
  readonly compatible: readonly string[];
}

/**
 * Device-tree string properties end in NUL, and list properties (`compatible`) separate their
 * entries with NUL. Empty entries and surrounding whitespace are dropped.
 */
export function parseDeviceTreeStrings(raw: string): string[] {
  return raw
    .split('\0')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// Matched anywhere in an entry, not anchored: a `compatible` copied from a terminal has lost its
// NUL separators (`…p3701-0005nvidia,tegra234nvidia,tegra23x`), so entries run together.
const JETSON_COMPATIBLE = /nvidia,tegra/;
const PI_COMPATIBLE = /raspberrypi,|brcm,bcm(?:2835|2836|2837|2709|2710|2711|2712)(?![0-9])/;

/** Classifies a board from its device-tree model and compatible list. */
export function classifyBoard(model: string | undefined, compatible: readonly string[]): BoardKind {
  if (compatible.some((c) => JETSON_COMPATIBLE.test(c)) || /\bjetson\b/i.test(model ?? '')) return 'jetson';
  if (compatible.some((c) => PI_COMPATIBLE.test(c))) return 'raspberry-pi';
  if (/^Raspberry Pi\b/.test(model ?? '')) return 'raspberry-pi';
  return 'other';
}

/** Reads /sys/firmware/devicetree/base (or its /proc/device-tree alias). */
export function readBoardIdentity(ctx: Pick<CollectorContext, 'sysRoot' | 'procRoot' | 'hostRoot'>): BoardIdentity {
  const read = (prop: string): string | undefined =>
    readText(join(ctx.sysRoot, 'firmware/devicetree/base', prop)) ?? readText(join(ctx.procRoot, 'device-tree', prop));
  const modelRaw = read('model');
  const model = modelRaw === undefined ? undefined : parseDeviceTreeStrings(modelRaw)[0];
  const compatible = parseDeviceTreeStrings(read('compatible') ?? '');
  let kind = classifyBoard(model, compatible);
  // Some Jetson images (and containers without /sys/firmware) have no device tree but keep
  // the L4T release file.
  if (kind === 'other' && readText(join(ctx.hostRoot, 'etc/nv_tegra_release')) !== undefined) kind = 'jetson';
  return { kind, ...(model !== undefined ? { model } : {}), compatible };
}
