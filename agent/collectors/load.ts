// Load averages from /proc/loadavg: no state, one small read per tick.
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { parseLoadavg } from '../parsers/proc/loadavg.js';
import type { Collector, CollectorFactory, MetricValues } from './collector.js';
import { readText } from './sysfs.js';

export const loadCollector: CollectorFactory = {
  name: 'load',
  async detect(ctx) {
    const path = join(ctx.procRoot, 'loadavg');
    const text = readText(path);
    if (text === undefined) return null;
    if (parseLoadavg(text) === undefined) {
      ctx.log.debug({ path, text: text.slice(0, 80) }, 'loadavg is not in the expected format; load collector off');
      return null;
    }
    return new LoadCollector(path, ctx.log);
  },
};

class LoadCollector implements Collector {
  readonly name = 'load';

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    const text = readText(this.path);
    const load = text === undefined ? undefined : parseLoadavg(text);
    if (!load) {
      this.log.debug({ path: this.path, text: text?.slice(0, 80) }, 'load averages unreadable; left out this tick');
      return;
    }
    out['load.1'] = load.load1;
    out['load.5'] = load.load5;
    out['load.15'] = load.load15;
  }
}
