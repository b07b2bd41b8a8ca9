// top without an agent: the agent's own collectors and process table, detected once and
// sampled by the agent's Sampler at the same interval, so what top shows is what an agent on
// this device would record. Nothing is sent anywhere; the newest sample is kept for the screen.
import { hostname } from 'node:os';
import type { Logger } from '../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import type { Collector, CollectorContext, CollectorFactory } from '../collectors/collector.js';
import { COLLECTORS } from '../collectors/registry.js';
import { createProcessTableSource, type ProcessTableSource } from '../processes/source.js';
import { Sampler } from '../sampler.js';
import { TopLiveState } from './live.js';
import type { TopSnapshot } from './snapshot.js';

export interface DirectSourceOptions {
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly hostRoot: string;
  readonly intervalMs: number;
  /** Rows of each top-N (by CPU, by memory): enough to fill a tall terminal. */
  readonly topProcesses?: number;
  readonly collectors?: readonly CollectorFactory[];
  readonly log: Logger;
  /** Called after each sample. */
  readonly onSample?: () => void;
}

export interface DirectSource {
  snapshot(): TopSnapshot;
  close(): Promise<void>;
}

export async function startDirectSource(opts: DirectSourceOptions): Promise<DirectSource> {
  const ctx: CollectorContext = {
    procRoot: opts.procRoot,
    sysRoot: opts.sysRoot,
    hostRoot: opts.hostRoot,
    intervalMs: opts.intervalMs,
    path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    log: opts.log,
  };
  const [collectors, processes] = await Promise.all([
    detect(opts.collectors ?? COLLECTORS, ctx),
    createProcessTableSource({
      procRoot: ctx.procRoot,
      hostRoot: ctx.hostRoot,
      path: ctx.path,
      top: opts.topProcesses ?? 25,
      intervalMs: opts.intervalMs,
      gpuWaitMs: Math.min(500, Math.floor(opts.intervalMs / 4)),
      log: opts.log.child({ part: 'processes' }),
    }).catch((err: unknown): ProcessTableSource | null => {
      opts.log.warn({ err }, 'process table unavailable; top shows none');
      return null;
    }),
  ]);
  const inventory = {};
  for (const c of collectors) Object.assign(inventory, c.inventory?.());
  const live = new TopLiveState({
    device: { name: hostname(), hostname: hostname() },
    agentVersion: EDGEWATCH_VERSION,
    intervalMs: opts.intervalMs,
    // A table every tick: top is watched by a person, and the agent is not running here.
    processIntervalMs: processes ? opts.intervalMs : 0,
    capabilities: [...collectors.map((c) => c.name), ...(processes ? ['processes'] : [])],
    inventory,
  });
  const sampler = new Sampler(
    collectors,
    opts.intervalMs,
    opts.log.child({ part: 'sampler' }),
    (sample) => {
      live.record(sample);
      opts.onSample?.();
    },
    processes ? { source: processes, everyMs: opts.intervalMs } : undefined,
  );
  sampler.start();
  return {
    snapshot: () => live.snapshot(),
    async close() {
      sampler.stop();
      await Promise.all([...collectors.map(async (c) => c.close?.()), processes?.close()]);
    },
  };
}

async function detect(factories: readonly CollectorFactory[], ctx: CollectorContext): Promise<Collector[]> {
  const found = await Promise.all(
    factories.map(async (f) => {
      try {
        return await f.detect({ ...ctx, log: ctx.log.child({ collector: f.name }) });
      } catch (err) {
        ctx.log.warn({ collector: f.name, err }, 'collector detection failed; it stays off');
        return null;
      }
    }),
  );
  return found.filter((c): c is Collector => c !== null);
}
