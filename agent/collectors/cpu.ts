// CPU utilisation (overall and per core) from /proc/stat, and clock frequencies from cpufreq.
// Utilisation is the share of ticks between two readings that were not idle or iowait (steal
// counts as busy: the core was not free for us; it is 0 on bare-metal boards). It needs no
// clock: the kernel's own tick counts are the time base.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { idleTicks, parseProcStat, totalTicks, type CpuTimes } from '../parsers/proc/stat.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { listNumbered, readText } from './sysfs.js';

interface CoreFreq {
  readonly core: number;
  readonly path: string;
  readonly metric: string;
  failing: boolean;
}

export const cpuCollector: CollectorFactory = {
  name: 'cpu',
  async detect(ctx) {
    const statPath = join(ctx.procRoot, 'stat');
    const text = readText(statPath);
    if (text === undefined) return null;
    if (parseProcStat(text).all === undefined) {
      ctx.log.debug({ path: statPath }, 'no aggregate cpu line in /proc/stat; cpu collector off');
      return null;
    }
    return new CpuCollector(statPath, findFreqFiles(ctx), ctx.log);
  },
};

/**
 * cpufreq files of every present CPU, or none when no CPU has cpufreq (VMs, some boards).
 * Cores offline at start (Jetson power modes park cores) are included: their read fails
 * until they come back, which costs one failed open per tick.
 */
function findFreqFiles(ctx: CollectorContext): CoreFreq[] {
  const cpuDir = join(ctx.sysRoot, 'devices/system/cpu');
  const files = listNumbered(cpuDir, /^cpu(\d+)$/).map(({ n: core }) => ({
    core,
    path: join(cpuDir, `cpu${core}`, 'cpufreq/scaling_cur_freq'),
    metric: `cpu.core.${core}.freq`,
    failing: false,
  }));
  return files.some((f) => existsSync(f.path)) ? files : [];
}

class CpuCollector implements Collector {
  readonly name = 'cpu';
  private prevAll: CpuTimes | undefined;
  private prevCores: ReadonlyMap<number, CpuTimes> = new Map();
  private readonly coreMetrics = new Map<number, string>();

  constructor(
    private readonly statPath: string,
    private readonly freqFiles: readonly CoreFreq[],
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    this.sampleUtil(out);
    this.sampleFreq(out);
  }

  private sampleUtil(out: MetricValues): void {
    const text = readText(this.statPath);
    if (text === undefined) {
      this.log.debug({ path: this.statPath }, 'cannot read /proc/stat; no cpu utilisation this tick');
      // The next reading must not be compared with one two intervals old.
      this.prevAll = undefined;
      this.prevCores = new Map();
      return;
    }
    const stat = parseProcStat(text);
    if (stat.all && this.prevAll) {
      const u = utilisation(this.prevAll, stat.all);
      if (u) {
        out['cpu.util'] = u.util;
        if (u.iowait !== undefined) out['cpu.iowait'] = u.iowait;
      } else {
        this.log.debug({ prev: this.prevAll, cur: stat.all }, 'aggregate cpu counters went backwards; skipped this tick');
      }
    }
    for (const [core, times] of stat.cores) {
      // A core missing from the previous reading (just came online) has no baseline yet.
      const prev = this.prevCores.get(core);
      if (!prev) continue;
      const u = utilisation(prev, times);
      if (u) out[this.coreMetric(core)] = u.util;
      else this.log.debug({ core, prev, cur: times }, 'cpu core counters went backwards (hot-plug?); skipped this tick');
    }
    this.prevAll = stat.all;
    this.prevCores = stat.cores;
  }

  private coreMetric(core: number): string {
    let name = this.coreMetrics.get(core);
    if (name === undefined) {
      name = `cpu.core.${core}.util`;
      this.coreMetrics.set(core, name);
    }
    return name;
  }

  private sampleFreq(out: MetricValues): void {
    let sum = 0;
    let count = 0;
    for (const f of this.freqFiles) {
      const mhz = parseKhzAsMhz(readText(f.path));
      if (mhz === undefined) {
        if (!f.failing) this.log.debug({ core: f.core, path: f.path }, 'cpu frequency unreadable (core offline?); left out');
        f.failing = true;
        continue;
      }
      f.failing = false;
      out[f.metric] = mhz;
      sum += mhz;
      count++;
    }
    if (count > 0) out['cpu.freq'] = sum / count;
  }
}

const BUSY_FIELDS = ['user', 'nice', 'system', 'irq', 'softirq', 'steal'] as const;

/**
 * Busy and iowait shares (0–100) between two readings, or undefined when the counters do not
 * describe a forward step. idle and iowait are judged as a sum: on NO_HZ kernels a running
 * idle period moves from iowait to idle when the awaited I/O completes, so iowait alone can
 * step back while their sum does not. Then only iowait is left out.
 */
export function utilisation(prev: CpuTimes, cur: CpuTimes): { util: number; iowait: number | undefined } | undefined {
  const total = totalTicks(cur) - totalTicks(prev);
  const idle = idleTicks(cur) - idleTicks(prev);
  if (total <= 0 || idle < 0 || idle > total) return undefined;
  for (const field of BUSY_FIELDS) if (cur[field] < prev[field]) return undefined;
  const iowait = cur.iowait - prev.iowait;
  return {
    util: ((total - idle) / total) * 100,
    iowait: iowait >= 0 && iowait <= total ? (iowait / total) * 100 : undefined,
  };
}

/** scaling_cur_freq holds kHz; some drivers write `<unknown>` instead. */
function parseKhzAsMhz(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const khz = Number(s);
  return khz > 0 ? khz / 1000 : undefined;
}
