// Wires one agent together: state (device id, sequence numbers) → inventory → collectors
// (detected once) → sampler (one tick per interval) → spool → hub connection.
import { hostname } from 'node:os';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import type { Logger } from '../shared/log.js';
import { PROTOCOL_VERSION, type Hello, type Inventory, type Sample } from '../shared/protocol.js';
import type { Collector, CollectorContext, CollectorFactory } from './collectors/collector.js';
import { COLLECTORS } from './collectors/registry.js';
import { readInventory } from './inventory.js';
import { MIN_INTERVAL_MS } from './limits.js';
import { Sampler } from './sampler.js';
import { AgentState } from './state.js';
import { HubConnection } from './transport/hub-connection.js';
import { MemorySpool } from './transport/spool.js';


export interface AgentOptions {
  /** ws:// or wss:// URL of the hub's agent endpoint, e.g. ws://hub:8080/ws/agent. */
  hubUrl: string;
  intervalMs: number;
  stateDir: string;
  /** Display name; defaults to the host name. */
  name?: string;
  /** Device id override; by default generated once and kept in stateDir. */
  deviceId?: string;
  procRoot?: string;
  sysRoot?: string;
  hostRoot?: string;
  /** Samples kept while the hub is unreachable (oldest dropped beyond, and counted). */
  maxBufferedSamples?: number;
  collectors?: readonly CollectorFactory[];
  /** Skip the systeminformation inventory (tests, benchmarks). */
  skipInventory?: boolean;
  log: Logger;
}

export interface RunningAgent {
  readonly deviceId: string;
  readonly collectors: readonly string[];
  readonly connection: HubConnection;
  readonly sampler: Sampler;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { log } = opts;
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs < MIN_INTERVAL_MS) {
    throw new Error(`interval ${opts.intervalMs} ms is too short: use ${MIN_INTERVAL_MS} ms or more`);
  }
  const hubUrl = normalizeHubUrl(opts.hubUrl);
  const state = AgentState.load(opts.stateDir, opts.deviceId);
  const ctx: CollectorContext = {
    procRoot: opts.procRoot ?? '/proc',
    sysRoot: opts.sysRoot ?? '/sys',
    hostRoot: opts.hostRoot ?? '/',
    intervalMs: opts.intervalMs,
    path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    log,
  };

  const [inventory, collectors] = await Promise.all([
    opts.skipInventory ? Promise.resolve<Inventory>({}) : readInventory(log),
    detectCollectors(opts.collectors ?? COLLECTORS, ctx, log),
  ]);
  for (const c of collectors) Object.assign(inventory, c.inventory?.());
  log.info({ deviceId: state.deviceId, collectors: collectors.map((c) => c.name), intervalMs: opts.intervalMs }, 'agent started');

  const name = opts.name ?? hostname();
  const hello = (): Hello => ({
    type: 'hello',
    v: PROTOCOL_VERSION,
    device: { id: state.deviceId, name, hostname: hostname() },
    agent: { version: EDGEWATCH_VERSION },
    intervalMs: opts.intervalMs,
    capabilities: collectors.map((c) => c.name),
    inventory,
    clock: Date.now(),
  });

  const spool = new MemorySpool(opts.maxBufferedSamples);
  const connection = new HubConnection({
    url: hubUrl,
    hello,
    spool,
    log: log.child({ part: 'transport' }),
    onWelcome: (welcome) => {
      // The hub has committed numbers this state never issued: the state directory was
      // restored or copied. Jump past them so new batches are not taken for duplicates.
      if (welcome.lastSeq !== null && welcome.lastSeq >= state.peekNextSeq()) {
        log.warn({ hubLastSeq: welcome.lastSeq, localNextSeq: state.peekNextSeq() }, 'hub is ahead of local sequence numbers: skipping forward');
        state.skipPast(welcome.lastSeq);
      }
    },
  });
  const onSample = (sample: Sample): void => {
    spool.push({ seq: state.takeSeq(), samples: [sample], dropped: spool.takeDropped() || undefined });
    connection.pump();
  };
  const sampler = new Sampler(collectors, opts.intervalMs, log.child({ part: 'sampler' }), onSample);
  connection.start();
  sampler.start();

  return {
    deviceId: state.deviceId,
    collectors: collectors.map((c) => c.name),
    connection,
    sampler,
    async stop() {
      sampler.stop();
      await connection.stop();
      await Promise.all(collectors.map(async (c) => c.close?.()));
      log.info('agent stopped');
    },
  };
}

async function detectCollectors(factories: readonly CollectorFactory[], ctx: CollectorContext, log: Logger): Promise<Collector[]> {
  const found = await Promise.all(
    factories.map(async (factory) => {
      try {
        return await factory.detect({ ...ctx, log: log.child({ collector: factory.name }) });
      } catch (err) {
        log.warn({ collector: factory.name, err }, 'collector detection failed; it stays off');
        return null;
      }
    }),
  );
  return found.filter((c): c is Collector => c !== null);
}

/**
 * Accepts what people type: `ws://hub:8080/ws/agent`, `ws://hub:8080`, `http://hub:8080`.
 * A bare host:port gets the agent path; http(s) becomes ws(s).
 */
export function normalizeHubUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`hub URL ${JSON.stringify(url)} is not a URL: use e.g. ws://hub.local:8080/ws/agent`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new Error(`hub URL ${JSON.stringify(url)} must start with ws://, wss://, http:// or https://`);
  }
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws/agent';
  return parsed.toString();
}
