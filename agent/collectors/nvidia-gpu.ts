// NVIDIA GPUs through nvidia-smi. One spawn costs ~37 ms of wall time (fixtures/h200/spawn_ms.txt)
// while a long-lived `-lms` process costs next to nothing (lms_cost.txt), so the collector keeps
// one `nvidia-smi --query-gpu=… -lms <interval>` running and sample() only copies out the latest
// reading of each GPU. A reading older than a few intervals is not reported: a hung or
// restarting nvidia-smi shows as a gap, never as a flat line of old values.
import { execFile } from 'node:child_process';
import { parseQueryGpuCsv } from '../parsers/nvidia-smi/query-gpu.js';
import { QueryGpuStreamReader } from '../parsers/nvidia-smi/stream-reader.js';
import type { GpuReading } from '../parsers/nvidia-smi/samples.js';
import type { ParsedGpu } from '../parsers/types.js';
import { readBoardIdentity } from '../platform/board.js';
import { findExecutable } from '../tools/find-executable.js';
import type { BackoffOptions } from '../tools/backoff.js';
import { SupervisedProcess } from '../tools/supervised-process.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';

export const LISTING_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'driver_version'] as const;

/** Everything the catalog has for a GPU. */
export const STREAM_FIELDS = [
  'timestamp',
  'index',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'power.draw',
  'enforced.power.limit',
  'temperature.gpu',
  'temperature.memory',
  'clocks.sm',
  'clocks.mem',
  'clocks.gr',
  'fan.speed',
  'pstate',
  'utilization.encoder',
  'utilization.decoder',
] as const;

/**
 * Fields every driver of the last decade knows. nvidia-smi rejects the whole query when one
 * field is unknown to it (older drivers lack temperature.memory and the encoder/decoder
 * utilisation), so the collector falls back to these after such a rejection.
 */
export const CORE_STREAM_FIELDS = [
  'timestamp',
  'index',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'power.draw',
  'power.limit',
  'temperature.gpu',
  'clocks.sm',
  'clocks.mem',
  'clocks.gr',
  'fan.speed',
  'pstate',
] as const;

export interface NvidiaGpuCollectorOptions {
  /** A reading older than this many intervals is stale and not reported. */
  readonly staleAfterIntervals?: number;
  /** Restart pacing for the `-lms` process. */
  readonly backoff?: Partial<BackoffOptions>;
  readonly listingTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

function runListing(file: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [`--query-gpu=${LISTING_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
      { timeout: timeoutMs, windowsHide: true, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
          reject(new Error(`${file} ${LISTING_FIELDS.join(',')} listing failed: ${err.message}${detail ? ` (${detail})` : ''}`));
        } else resolve(stdout);
      },
    );
  });
}

/** e.g. `Field "temperature.memory" is not a valid field to query.`, after which nvidia-smi exits. */
function isFieldRejection(line: string): boolean {
  return /is not a valid field to query/i.test(line);
}

interface Latest {
  readonly reading: GpuReading;
  /** Agent clock when the line arrived; the tool's own timestamp is local time and only ms-precise. */
  readonly receivedAt: number;
}

class NvidiaGpuCollector implements Collector {
  readonly name = 'nvidia-gpu';
  private readonly latest = new Map<number, Latest>();
  private readonly process: SupervisedProcess;
  private fields: readonly string[] = STREAM_FIELDS;
  private reader = new QueryGpuStreamReader(STREAM_FIELDS);
  private readonly staleAfterMs: number;

  constructor(
    private readonly ctx: CollectorContext,
    executable: string,
    private readonly gpus: ParsedGpu[],
    options: NvidiaGpuCollectorOptions,
  ) {
    this.staleAfterMs = (options.staleAfterIntervals ?? 3) * ctx.intervalMs;
    const interval = String(Math.max(1, Math.round(ctx.intervalMs)));
    this.process = new SupervisedProcess({
      command: executable,
      name: 'nvidia-smi',
      // Asked at every start, so a restart after a rejected field list uses the fallback list.
      args: () => [`--query-gpu=${this.fields.join(',')}`, '--format=csv,nounits', '-lms', interval],
      onLine: (line) => this.onLine(line),
      // A fresh reader per run: each run prints its own header, for its own field list.
      onStart: () => {
        this.reader = new QueryGpuStreamReader(this.fields);
      },
      onExit: (info) => {
        if (info.stderrTail.some(isFieldRejection)) this.fallBackToCoreFields(info.stderrTail.join(' | '));
      },
      log: ctx.log,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs }),
    });
    this.process.start();
  }

  private onLine(line: string): void {
    if (isFieldRejection(line)) {
      this.fallBackToCoreFields(line);
      return;
    }
    const reading = this.reader.push(line);
    if (reading !== null && Object.keys(reading.m).length > 0) {
      this.latest.set(reading.index, { reading, receivedAt: Date.now() });
    }
  }

  private fallBackToCoreFields(message: string): void {
    if (this.fields === CORE_STREAM_FIELDS) return;
    this.ctx.log.info({ message }, 'nvidia-smi rejected a field; using the core field list from the next start');
    this.fields = CORE_STREAM_FIELDS;
  }

  sample(now: number, out: MetricValues): void {
    for (const [index, { reading, receivedAt }] of this.latest) {
      if (now - receivedAt > this.staleAfterMs) {
        // Dropped so a GPU that vanished does not linger in the map.
        this.latest.delete(index);
        continue;
      }
      Object.assign(out, reading.m);
    }
  }

  inventory(): { gpus: ParsedGpu[] } {
    return { gpus: this.gpus.map((g) => ({ ...g })) };
  }

  /** Times the `-lms` process was started again after it ended (for tests and diagnostics). */
  get restarts(): number {
    return this.process.restarts;
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

export function createNvidiaGpuCollector(options: NvidiaGpuCollectorOptions = {}): CollectorFactory {
  return {
    name: 'nvidia-gpu',
    async detect(ctx: CollectorContext): Promise<Collector | null> {
      // A Jetson's integrated GPU is the jetson collector's (tegrastats), which sees its load,
      // clocks and rails; the nvidia-smi some JetPack releases ship reports little of that.
      if (readBoardIdentity(ctx).kind === 'jetson') {
        ctx.log.debug('Jetson board: the GPU is read by the jetson collector, not nvidia-smi');
        return null;
      }
      const executable = await findExecutable('nvidia-smi', ctx.path);
      if (executable === null) {
        ctx.log.debug('nvidia-smi not found on PATH; no NVIDIA GPU collector');
        return null;
      }
      let gpus: ParsedGpu[];
      try {
        const text = await runListing(executable, options.listingTimeoutMs ?? 5000);
        gpus = parseQueryGpuCsv(text, LISTING_FIELDS).gpus;
      } catch (err) {
        // Typical on machines with the tools but no GPU or driver: not worth more than debug.
        ctx.log.debug({ err }, 'nvidia-smi is present but listing GPUs failed; no NVIDIA GPU collector');
        return null;
      }
      if (gpus.length === 0) {
        ctx.log.debug({ executable }, 'nvidia-smi listed no GPUs; no NVIDIA GPU collector');
        return null;
      }
      ctx.log.debug({ executable, gpus: gpus.length }, 'nvidia-smi found');
      return new NvidiaGpuCollector(ctx, executable, gpus, options);
    },
  };
}

export const nvidiaGpuCollector: CollectorFactory = createNvidiaGpuCollector();
