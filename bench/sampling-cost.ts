// The collectors' own work per tick, in this process: every collector that detects
// something here, sampled back to back (CPU time from process.cpuUsage, user + system, so
// the kernel's work producing /proc files counts too). Tells the sampling cost apart from
// the event loop, WebSocket and runtime overhead that the whole-agent figure includes.
import { COLLECTORS } from '../agent/collectors/registry.js';
import type { Collector } from '../agent/collectors/collector.js';
import { Sampler } from '../agent/sampler.js';
import { silentLogger } from '../shared/log.js';
import { median, type BenchRow } from './report.js';

const TICKS = 1000;
const ROUNDS = 5;

export async function samplingCostBench(): Promise<BenchRow[]> {
  const log = silentLogger();
  const ctx = { procRoot: '/proc', sysRoot: '/sys', hostRoot: '/', intervalMs: 1000, path: process.env.PATH ?? '', log };
  const collectors = (await Promise.all(COLLECTORS.map((f) => f.detect(ctx)))).filter((c): c is Collector => c !== null);
  try {
    const sampler = new Sampler(collectors, 1000, log, () => {});
    for (let i = 0; i < 50; i++) await sampler.sampleOnce();
    const perTick: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const before = process.cpuUsage();
      for (let i = 0; i < TICKS; i++) await sampler.sampleOnce();
      const used = process.cpuUsage(before);
      perTick.push((used.user + used.system) / TICKS);
    }
    return [
      {
        benchmark: 'collectors per tick (sampling work only)',
        result: `${Math.round(median(perTick))} µs`,
        how: `${collectors.map((c) => c.name).join(', ')}: ${ROUNDS} × ${TICKS} ticks back to back, in-process cpuUsage`,
      },
    ];
  } finally {
    await Promise.all(collectors.map(async (c) => c.close?.()));
  }
}
