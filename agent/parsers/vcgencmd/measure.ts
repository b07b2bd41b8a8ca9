// One-line answers of vcgencmd's measuring commands. Each parser returns undefined for a line
// that is not its form, so garbage never throws; the caller decides what a miss means.

/** `temp=48.5'C` → 48.5 (°C). */
export function parseMeasureTemp(line: string): number | undefined {
  const m = /^\s*temp=(-?\d+(?:\.\d+)?)\s*(?:'|°)C\s*$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

export interface ClockReading {
  /** The firmware's clock id, e.g. 45. It differs between SoCs (arm is 45 on a Pi 3, 48 on a Pi 4), so it does not name the block. */
  readonly id: number;
  readonly hz: number;
}

/** `frequency(45)=1400000000` → { id: 45, hz: 1400000000 }. 0 is a real reading (a power-gated block). */
export function parseMeasureClock(line: string): ClockReading | undefined {
  const m = /^\s*frequency\((\d+)\)=(\d+)\s*$/.exec(line);
  return m ? { id: Number(m[1]), hz: Number(m[2]) } : undefined;
}

/** `volt=1.20V` (or `volt=1.2000V`) → 1.2 (V). */
export function parseMeasureVolts(line: string): number | undefined {
  const m = /^\s*volt=(\d+(?:\.\d+)?)\s*V\s*$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

export interface MemSplit {
  /** `arm` or `gpu`, as vcgencmd names the share. */
  readonly name: string;
  readonly bytes: number;
}

const MEM_UNITS: Readonly<Record<string, number>> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `gpu=256M` (get_mem gpu) → { name: 'gpu', bytes: 268435456 }. */
export function parseGetMem(line: string): MemSplit | undefined {
  const m = /^\s*(arm|gpu)=(\d+)([KMG])\s*$/.exec(line);
  return m ? { name: m[1]!, bytes: Number(m[2]) * MEM_UNITS[m[3]!]! } : undefined;
}
