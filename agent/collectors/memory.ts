// Memory and swap from /proc/meminfo, in bytes. "Used" is what new work cannot have:
// MemTotal − MemAvailable, the kernel's own estimate that counts reclaimable cache as free.
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { parseMeminfo } from '../parsers/proc/meminfo.js';
import type { Collector, CollectorFactory, MetricValues } from './collector.js';
import { readText } from './sysfs.js';

export const memoryCollector: CollectorFactory = {
  name: 'memory',
  async detect(ctx) {
    const path = join(ctx.procRoot, 'meminfo');
    const text = readText(path);
    if (text === undefined) return null;
    const total = parseMeminfo(text).get('MemTotal');
    if (!total) {
      ctx.log.debug({ path, total }, 'meminfo has no usable MemTotal; memory collector off');
      return null;
    }
    return new MemoryCollector(path, ctx.log);
  },
};

class MemoryCollector implements Collector {
  readonly name = 'memory';
  private warnedNoAvailable = false;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    const text = readText(this.path);
    if (text === undefined) {
      this.log.debug({ path: this.path }, 'cannot read meminfo; memory left out this tick');
      return;
    }
    const m = parseMeminfo(text);
    const total = m.get('MemTotal');
    if (!total) {
      this.log.debug({ path: this.path, total }, 'meminfo has no usable MemTotal; memory left out this tick');
      return;
    }
    let available = m.get('MemAvailable');
    if (available === undefined) {
      available = estimateAvailable(m);
      if (available !== undefined && !this.warnedNoAvailable) {
        this.warnedNoAvailable = true;
        this.log.debug({ estimate: available }, 'kernel has no MemAvailable (before 3.14); estimating it from MemFree, Buffers and Cached');
      }
    }
    out['mem.total'] = total;
    if (available !== undefined) {
      available = Math.min(Math.max(available, 0), total);
      const used = total - available;
      out['mem.available'] = available;
      out['mem.used'] = used;
      out['mem.util'] = (used / total) * 100;
    }
    const cached = m.get('Cached');
    if (cached !== undefined) out['mem.cached'] = cached;
    const swapTotal = m.get('SwapTotal');
    const swapFree = m.get('SwapFree');
    if (swapTotal !== undefined) out['swap.total'] = swapTotal;
    if (swapTotal !== undefined && swapFree !== undefined) out['swap.used'] = Math.max(swapTotal - swapFree, 0);
  }
}

/**
 * MemAvailable as kernels before 3.14 (Jetson TX1 on L4T R24 runs 3.10) did not report it:
 * free pages plus buffers and page cache plus reclaimable slab, less shared memory (tmpfs and
 * shm sit in Cached but cannot be dropped). The same arithmetic as htop and `free` of that era.
 */
export function estimateAvailable(m: ReadonlyMap<string, number>): number | undefined {
  const free = m.get('MemFree');
  if (free === undefined) return undefined;
  return free + (m.get('Buffers') ?? 0) + (m.get('Cached') ?? 0) + (m.get('SReclaimable') ?? 0) - (m.get('Shmem') ?? 0);
}
