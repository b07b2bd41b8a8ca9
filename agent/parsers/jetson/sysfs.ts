// Jetson sysfs values the collector reads when tegrastats is absent.

/**
 * The nvgpu `load` file (`/sys/devices/gpu.0/load`, `…/platform/17000000.ga10b/load`): GPU busy
 * time over the driver's last window in per-mille, so `347` is 34.7 %. Undefined when the text
 * is not a per-mille integer.
 */
export function parseGpuLoad(text: string | undefined): number | undefined {
  const s = text?.trim();
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const perMille = Number(s);
  return perMille <= 1000 ? perMille / 10 : undefined;
}

/** A devfreq `cur_freq` file (Hz) as MHz, or undefined when it is not an integer. */
export function parseDevfreqHz(text: string | undefined): number | undefined {
  const s = text?.trim();
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s) / 1_000_000;
}

/** A sysfs integer reading (mV, mA, mW), or undefined. Negative currents are real (a battery charging). */
export function parseSysfsInt(text: string | undefined): number | undefined {
  const s = text?.trim();
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
}
