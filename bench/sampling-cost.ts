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
    const each = await perCollector(collectors);
    return [
      {
        benchmark: 'collectors per tick (sampling work only)',
        result: `${Math.round(median(perTick))} µs`,
        how: `${collectors.map((c) => c.name).join(', ')}: ${ROUNDS} × ${TICKS} ticks back to back, in-process cpuUsage`,
      },
      {
        benchmark: 'costliest collectors per tick',
        result: each
          .slice(0, 3)
          .map((e) => `${e.name} ${Math.round(e.us)} µs`)
          .join(', '),
        how: `each collector alone, median of ${ROUNDS} × ${TICKS / 2} samples; all: ${each.map((e) => `${e.name} ${Math.round(e.us)}`).join(', ')}`,
      },
    ];
  } finally {
    await Promise.all(collectors.map(async (c) => c.close?.()));
  }
}

/** CPU µs per sample of each collector alone, costliest first. */
async function perCollector(collectors: readonly Collector[]): Promise<{ name: string; us: number }[]> {
  const out: { name: string; us: number }[] = [];
  for (const c of collectors) {
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const before = process.cpuUsage();
      for (let i = 0; i < TICKS / 2; i++) await c.sample(Date.now(), {});
      const used = process.cpuUsage(before);
      rounds.push((used.user + used.system) / (TICKS / 2));
    }
    out.push({ name: c.name, us: median(rounds) });
  }
  return out.sort((a, b) => b.us - a.us);
}
