// Wires one agent together: state (device id, sequence numbers) → inventory → collectors
// (detected once) → sampler (one tick per interval) → spool (on disk by default) → hub connection. Beside them,
// the inference receiver takes timings from the user's code into an aggregator the sampler
// drains every tick.
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { INFERENCE_DEFAULT_PORT } from '../shared/inference.js';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import type { Logger } from '../shared/log.js';
import { MAX_HELLO_OPEN_EXPERIMENTS, MAX_PROCESS_ROWS, PROTOCOL_VERSION, type Hello, type Inventory, type Sample } from '../shared/protocol.js';
import type { Collector, CollectorContext, CollectorFactory } from './collectors/collector.js';
import { COLLECTORS } from './collectors/registry.js';
import { readRunConditions } from './conditions/run-conditions.js';
import { InferenceAggregator } from './inference/aggregator.js';
import { OpenExperimentsFile } from './inference/open-experiments-file.js';
import { startInferenceReceiver, type InferenceReceiver } from './inference/receiver.js';
import { readInventory } from './inventory.js';
import { MIN_INTERVAL_MS } from './limits.js';
import { DEFAULT_TOP_PROCESSES } from './processes/reader.js';
import { PROCESS_CMDLINE_MODES, type ProcessCmdlineMode } from './processes/redact-cmdline.js';
import { createProcessTableSource, type ProcessTableSource } from './processes/source.js';
import { Sampler } from './sampler.js';
import { TopLiveState } from './top/live.js';
import type { TopSnapshotProvider } from './top/snapshot.js';
import { AgentState } from './state.js';
import { DiskSpool } from './transport/disk-spool.js';
import { HubConnection } from './transport/hub-connection.js';
import { MonoClock } from './transport/mono-clock.js';
import { MemorySpool, type Spool } from './transport/spool.js';

export const DEFAULT_PROCESS_INTERVAL_MS = 5000;
/** The capability a device announces when it sends process tables. */
export const PROCESSES_CAPABILITY = 'processes';

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
  /**
   * Where batches wait for the hub's ack: 'disk' (default) in <stateDir>/spool, surviving
   * agent restarts; 'memory' for tests and benchmarks. An unusable spool directory keeps
   * batches in memory, with an error in the log, and moves them to disk once it can be written.
   */
  spool?: 'disk' | 'memory';
  /** Bytes the disk spool keeps at most (default 100 MB); the oldest are dropped beyond, and counted. */
  spoolMaxBytes?: number;
  /** Age beyond which spooled batches are dropped unsent, and counted (default 7 days). */
  spoolMaxAgeMs?: number;
  /** Samples kept by the memory spool (oldest dropped beyond, and counted). */
  maxBufferedSamples?: number;
  /** Backlog batches sent per second after a reconnect (default 200). */
  backfillPerSecond?: number;
  collectors?: readonly CollectorFactory[];
  /**
   * How often the top-process table is taken (ms; default 5000). 0 disables it. It rides on
   * the sample of the tick where it is due, so it is never more often than intervalMs.
   */
  processIntervalMs?: number;
  /** N of the table: the top N processes by CPU ∪ the top N by memory (default 10, at most 50). */
  topProcesses?: number;
  /**
   * What the table's cmd column holds: 'full' (default) the command line with secrets such as
   * `--password` values masked before it leaves the device; 'name' the executable's name
   * (argv[0]'s basename); 'none' nothing.
   */
  processCmdline?: ProcessCmdlineMode;
  /** Skip the systeminformation inventory (tests, benchmarks). */
  skipInventory?: boolean;
  /**
   * Port for inference timings from the user's code, UDP and HTTP on the same number
   * (default 7262). 0 picks a free port (see RunningAgent.inferencePort); null or false turns
   * the receiver off. The CLI's `--inference-port 0` means off and maps to null.
   */
  inferencePort?: number | null | false;
  /** Address the inference receiver listens on (default 127.0.0.1: this device only). */
  inferenceHost?: string;
  /**
   * PEM certificate(s) of a private CA to trust for a wss:// hub, beside Node's default CAs
   * (the CLI's --ca reads it from a file). The hub's certificate is always verified.
   */
  ca?: string | Buffer;
  /** Device token (`ewd_…`) for a hub that requires authentication. */
  token?: string;
  log: Logger;
}

export interface RunningAgent {
  readonly deviceId: string;
  readonly collectors: readonly string[];
  readonly connection: HubConnection;
  readonly sampler: Sampler;
  readonly spool: Spool;
  /** Where the inference receiver listens, or null when it is off or could not bind. */
  readonly inferencePort: number | null;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { log } = opts;
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs < MIN_INTERVAL_MS) {
    throw new Error(`interval ${opts.intervalMs} ms is too short: use ${MIN_INTERVAL_MS} ms or more`);
  }
  const processIntervalMs = opts.processIntervalMs ?? DEFAULT_PROCESS_INTERVAL_MS;
  if (!Number.isInteger(processIntervalMs) || processIntervalMs < 0) {
    throw new Error(`process interval ${processIntervalMs} ms is not valid: use a whole number of ms, or 0 to turn the process table off`);
  }
  const topProcesses = opts.topProcesses ?? DEFAULT_TOP_PROCESSES;
  if (!Number.isInteger(topProcesses) || topProcesses < 1 || topProcesses * 2 > MAX_PROCESS_ROWS) {
    throw new Error(`top processes ${topProcesses} is out of range: use a whole number from 1 to ${MAX_PROCESS_ROWS / 2}`);
  }
  const processCmdline = opts.processCmdline ?? 'full';
  if (!PROCESS_CMDLINE_MODES.includes(processCmdline)) {
    throw new Error(`process cmdline ${JSON.stringify(processCmdline)} is not one of ${PROCESS_CMDLINE_MODES.join(', ')}`);
  }
  const hubUrl = normalizeHubUrl(opts.hubUrl);
  const ca = opts.ca === undefined ? undefined : trustedCas(opts.ca);
  if (ca && hubUrl.startsWith('ws:')) log.warn({ hubUrl }, 'a CA was given but the hub URL is ws:// (no TLS): it is not used; use wss:// or https:// to connect over TLS');
  // A read-only or full state directory is logged, not fatal: the id and counter stay in memory until it can be written.
  const state = AgentState.load(opts.stateDir, opts.deviceId, { log: log.child({ part: 'state' }) });
  const ctx: CollectorContext = {
    procRoot: opts.procRoot ?? '/proc',
    sysRoot: opts.sysRoot ?? '/sys',
    hostRoot: opts.hostRoot ?? '/',
    intervalMs: opts.intervalMs,
    path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    log,
  };

  const inferencePort = opts.inferencePort === undefined ? INFERENCE_DEFAULT_PORT : opts.inferencePort;
  if (inferencePort !== null && inferencePort !== false && (!Number.isInteger(inferencePort) || inferencePort < 0 || inferencePort > 65535)) {
    throw new Error(`inference port ${inferencePort} is not a port number: use 1–65535, 0 for any free port, or null to turn the receiver off`);
  }
  // Read at each experiment's start, so a run records the power mode, clocks and governor it had.
  const aggregator = new InferenceAggregator({}, () =>
    readRunConditions({ agentVersion: EDGEWATCH_VERSION, procRoot: ctx.procRoot, sysRoot: ctx.sysRoot, hostRoot: ctx.hostRoot, path: ctx.path, log }),
  );
  const receiverOn = inferencePort !== null && inferencePort !== false;
  if (receiverOn) {
    // Reloaded before the receiver listens, so an `edgewatch run` retrying its end finds its
    // experiment; re-announced to the hub with the first sample.
    const openFile = new OpenExperimentsFile(opts.stateDir, log.child({ part: 'inference' }));
    const restored = aggregator.restore(openFile.load(), Date.now());
    if (restored.length > 0) log.info({ experiments: restored }, 'reopened experiments left open by the previous run of the agent; their end summaries count timings from now on (the hub has the earlier ones)');
    aggregator.persistTo((open) => void openFile.save(open));
  }
  // What an attached `edgewatch top` reads (GET /v1/top); filled in as the facts become known.
  const live = new TopLiveState({
    device: { ...(opts.deviceId ? { id: opts.deviceId } : {}), name: opts.name ?? hostname(), hostname: hostname() },
    agentVersion: EDGEWATCH_VERSION,
    intervalMs: opts.intervalMs,
    processIntervalMs: 0,
    capabilities: [],
    inventory: {},
  });
  const [inventory, collectors, processSource, receiver] = await Promise.all([
    opts.skipInventory ? Promise.resolve<Inventory>({}) : readInventory(log),
    detectCollectors(opts.collectors ?? COLLECTORS, ctx, log),
    processIntervalMs > 0 ? detectProcessSource(ctx, processIntervalMs, topProcesses, processCmdline) : Promise.resolve(null),
    inferencePort === null || inferencePort === false
      ? Promise.resolve(null)
      : startReceiver(opts.inferenceHost ?? '127.0.0.1', inferencePort, aggregator, log, () => live.snapshot()),
  ]);
  for (const c of collectors) Object.assign(inventory, c.inventory?.());
  // Announced like a collector, so a dashboard knows whether to look for process tables.
  const capabilities = [...collectors.map((c) => c.name), ...(processSource ? [PROCESSES_CAPABILITY] : [])];
  log.info(
    {
      deviceId: state.deviceId,
      collectors: capabilities,
      intervalMs: opts.intervalMs,
      processIntervalMs: processSource ? processIntervalMs : 0,
      inferencePort: receiver?.port ?? null,
    },
    'agent started',
  );

  const name = opts.name ?? hostname();
  live.update({ device: { id: state.deviceId, name, hostname: hostname() }, capabilities, inventory, processIntervalMs: processSource ? processIntervalMs : 0 });
  const hello = (): Hello => ({
    type: 'hello',
    v: PROTOCOL_VERSION,
    device: { id: state.deviceId, name, hostname: hostname() },
    agent: { version: EDGEWATCH_VERSION },
    intervalMs: opts.intervalMs,
    capabilities,
    inventory,
    clock: Date.now(),
    // So the hub can close experiments this agent no longer has (lost with its state dir).
    ...(receiverOn ? { openExperiments: aggregator.openIds().slice(0, MAX_HELLO_OPEN_EXPERIMENTS) } : {}),
  });

  const spool = openSpool(opts, log);
  // Batches are stamped with boot + monotonic time at creation and at send (clock jumps).
  const monoClock = MonoClock.open(ctx.procRoot, log);
  const connection = new HubConnection({
    monoClock,
    url: hubUrl,
    ...(ca ? { ca } : {}),
    ...(opts.token ? { token: opts.token } : {}),
    hello,
    spool,
    backfillPerSecond: opts.backfillPerSecond,
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
  let stopped = false;
  const onSample = (sample: Sample): void => {
    // A tick that was under way when stop() began: the spool may be closed already.
    if (stopped) return;
    live.record(sample);
    spool.push({ seq: state.takeSeq(), samples: [sample], dropped: spool.takeDropped() || undefined, clock: monoClock.now() });
    connection.pump();
  };
  const sampler = new Sampler(
    collectors,
    opts.intervalMs,
    log.child({ part: 'sampler' }),
    onSample,
    processSource ? { source: processSource, everyMs: processIntervalMs } : undefined,
    receiver ? aggregator : undefined,
  );
  connection.start();
  sampler.start();

  return {
    deviceId: state.deviceId,
    collectors: collectors.map((c) => c.name),
    connection,
    sampler,
    spool,
    inferencePort: receiver?.port ?? null,
    async stop() {
      sampler.stop();
      stopped = true;
      await receiver?.close();
      await connection.stop();
      spool.close?.();
      await Promise.all([...collectors.map(async (c) => c.close?.()), processSource?.close()]);
      log.info('agent stopped');
    },
  };
}

/**
 * The disk spool in <stateDir>/spool, or the memory spool when asked for. A directory that
 * cannot be used does not stop the agent: DiskSpool keeps batches in memory, says so once,
 * and returns to disk by itself when it can write there.
 */
function openSpool(opts: AgentOptions, log: Logger): Spool {
  if (opts.spool === 'memory') return new MemorySpool(opts.maxBufferedSamples);
  const dir = join(opts.stateDir, 'spool');
  return DiskSpool.open({ dir, log: log.child({ part: 'spool' }), maxBytes: opts.spoolMaxBytes, maxAgeMs: opts.spoolMaxAgeMs, fallbackMaxSamples: opts.maxBufferedSamples });
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

/** The receiver, or null (with a warning saying what to do) when its port cannot be bound. */
async function startReceiver(host: string, port: number, aggregator: InferenceAggregator, log: Logger, top?: TopSnapshotProvider): Promise<InferenceReceiver | null> {
  const rlog = log.child({ part: 'inference' });
  try {
    const receiver = await startInferenceReceiver({ host, port, log: rlog, sink: aggregator, ...(top ? { top } : {}) });
    rlog.debug({ host, port: receiver.port }, 'inference receiver listening (UDP and HTTP)');
    return receiver;
  } catch (err) {
    rlog.warn(
      { err, host, port },
      `inference receiver is off: ${(err as Error).message}. Another agent may be running on this device; ` +
        'pick a free port with --inference-port (EDGEWATCH_INFERENCE_PORT) and point your code at it, or pass --inference-port 0 to turn the receiver off. Metrics are sampled as usual.',
    );
    return null;
  }
}

async function detectProcessSource(ctx: CollectorContext, intervalMs: number, top: number, cmdline: ProcessCmdlineMode): Promise<ProcessTableSource | null> {
  const log = ctx.log.child({ part: 'processes' });
  try {
    return await createProcessTableSource({
      procRoot: ctx.procRoot,
      hostRoot: ctx.hostRoot,
      path: ctx.path,
      top,
      intervalMs,
      cmdline,
      // nvidia-smi answers in tens of ms; waiting longer would delay the metric tick.
      gpuWaitMs: Math.min(500, Math.floor(ctx.intervalMs / 4)),
      log,
    });
  } catch (err) {
    log.warn({ err }, 'process table unavailable; it stays off');
    return null;
  }
}

/**
 * Node's default CAs plus the given private CA, checked once: `ca` replaces the defaults in
 * Node's TLS options, so they are listed too (a hub behind a public certificate keeps working).
 */
export function trustedCas(ca: string | Buffer): string[] {
  const pem = ca.toString();
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!certs) throw new Error('the CA file holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)');
  for (const cert of certs) {
    try {
      new X509Certificate(cert);
    } catch (err) {
      throw new Error(`the CA file holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  }
  return [...rootCertificates, ...certs];
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
