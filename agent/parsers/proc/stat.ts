// /proc/stat: the per-CPU time counters (in USER_HZ ticks, 1/100 s on every Linux arch).
// Only the `cpu` lines are read; they come first, so the long `intr` line is never split.

/** Time a CPU spent in each state since boot, in USER_HZ ticks. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
  /** Already included in `user`; kept for completeness, never added to a total. */
  readonly guest: number;
  /** Already included in `nice`. */
  readonly guestNice: number;
}

export interface ProcStat {
  /** The aggregate `cpu` line (all CPUs), when present. */
  readonly all: CpuTimes | undefined;
  /** `cpuN` lines by N. Offline CPUs have no line, so gaps are normal. */
  readonly cores: ReadonlyMap<number, CpuTimes>;
}

const CPU_LINE = /^cpu(\d*)\s+([\d\s]+)$/;

export function parseProcStat(text: string): ProcStat {
  let all: CpuTimes | undefined;
  const cores = new Map<number, CpuTimes>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // Lines are `cpu`, `cpu0`…; the first line that is not ends the CPU block.
    if (!text.startsWith('cpu', start)) {
      if (all !== undefined || cores.size > 0) break;
      start = end + 1;
      continue;
    }
    const m = CPU_LINE.exec(text.slice(start, end).trimEnd());
    start = end + 1;
    if (!m) continue;
    const times = toCpuTimes(m[2]!);
    if (!times) continue;
    if (m[1] === '') all = times;
    else cores.set(Number(m[1]), times);
  }
  return { all, cores };
}

function toCpuTimes(fields: string): CpuTimes | undefined {
  const v = fields.trim().split(/\s+/).map(Number);
  // user nice system idle are in every kernel; later columns arrived over the years
  // (iowait 2.5.41, steal 2.6.11, guest 2.6.24, guest_nice 2.6.33) and count as 0 before.
  if (v.length < 4 || v.some((n) => !Number.isFinite(n))) return undefined;
  return {
    user: v[0]!,
    nice: v[1]!,
    system: v[2]!,
    idle: v[3]!,
    iowait: v[4] ?? 0,
    irq: v[5] ?? 0,
    softirq: v[6] ?? 0,
    steal: v[7] ?? 0,
    guest: v[8] ?? 0,
    guestNice: v[9] ?? 0,
  };
}

/** Every tick the CPU existed; guest time is left out because user/nice already hold it. */
export function totalTicks(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Ticks with nothing to run: idle plus iowait (a CPU waiting for I/O is free for other work). */
export function idleTicks(t: CpuTimes): number {
  return t.idle + t.iowait;
}
