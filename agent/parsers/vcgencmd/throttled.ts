// The firmware's throttle bit field, as `vcgencmd get_throttled` (`throttled=0x50005`), the
// firmware sysfs node (`50005`, printed with "%x") and the kernel log
// (`Under-voltage detected! (0x00050005)`) all report it. Bits 0–3 are the state now (with a
// short decay in the firmware, ~3 s for under-voltage, so brief dips are still caught); bits
// 16–19 are the same conditions latched since boot, or since the sticky bits were last cleared.

export interface ThrottleFlag {
  readonly bit: number;
  /** Metric name in the catalog. */
  readonly metric: string;
}

export const THROTTLE_FLAGS: readonly ThrottleFlag[] = [
  { bit: 0, metric: 'pi.throttle.under_voltage' },
  { bit: 1, metric: 'pi.throttle.freq_capped' },
  { bit: 2, metric: 'pi.throttle.throttled' },
  { bit: 3, metric: 'pi.throttle.soft_temp_limit' },
  { bit: 16, metric: 'pi.throttle.under_voltage_since_boot' },
  { bit: 17, metric: 'pi.throttle.freq_capped_since_boot' },
  { bit: 18, metric: 'pi.throttle.throttled_since_boot' },
  { bit: 19, metric: 'pi.throttle.soft_temp_limit_since_boot' },
];

export const THROTTLE_BITS_METRIC = 'pi.throttle.bits';

// The field is a u32; more than 8 hex digits is not this value.
const HEX = /^(?:0x)?([0-9a-f]{1,8})$/i;

/** A hex bit field with or without `0x` (`0x50005`, `50005`), or undefined. */
export function parseThrottleHex(text: string): number | undefined {
  const m = HEX.exec(text.trim());
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** `throttled=0x50005` → 0x50005, or undefined for any other line. */
export function parseGetThrottled(line: string): number | undefined {
  const m = /^\s*throttled=(\S+)\s*$/.exec(line);
  return m ? parseThrottleHex(m[1]!) : undefined;
}

/**
 * The kernel's messages from the firmware driver: `Under-voltage detected! (0x00050005)` and
 * `Voltage normalised (0x00000000)`, with or without the `[ 3741.927786] ` dmesg prefix.
 * Newer raspberrypi-hwmon prints `Undervoltage detected!` without the bit field: that line
 * carries no value, so it is not read as one.
 */
export function parseDmesgThrottled(line: string): number | undefined {
  const m = /(?:Under-voltage detected!|Voltage normalised)\s*\((0x[0-9a-f]{1,8})\)/i.exec(line);
  return m ? parseThrottleHex(m[1]!) : undefined;
}

/** The bit field as catalog metrics: one 0/1 flag per known bit, and the raw field. */
export function throttleMetrics(bits: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { bit, metric } of THROTTLE_FLAGS) out[metric] = (bits >>> bit) & 1;
  out[THROTTLE_BITS_METRIC] = bits >>> 0;
  return out;
}
