// The process table as the Sampler sees it: a source it asks, on the ticks where the process
// cadence is due, for a table and the procs.* counts. Kept apart from the Collector interface
// because it has its own (slower) cadence and an output that is not metric values.
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import type { ProcessTable } from '../../shared/protocol.js';
import type { MetricValues } from '../collectors/collector.js';
import { readText } from '../collectors/sysfs.js';
import { findExecutable } from '../tools/find-executable.js';
import { GpuProcessMemory } from './gpu-memory.js';
import { canReadProcesses, DEFAULT_PAGE_SIZE, ProcessReader } from './reader.js';
import type { ProcessCmdlineMode } from './redact-cmdline.js';

export interface ProcessTableSource {
  /**
   * Takes one table at `now` (ms since the epoch) and adds procs.count and procs.running to
   * `out`. Undefined when there is no table this time: the first reading only primes the
   * rates, so the Sampler asks again on its next tick.
   */
  take(now: number, out: MetricValues): Promise<ProcessTable | undefined>;
  close(): Promise<void>;
}

export interface ProcessSourceOptions {
  readonly procRoot: string;
  readonly hostRoot: string;
  /** PATH to search for nvidia-smi; '' skips GPU memory. */
  readonly path: string;
  /** N of the top-N-by-CPU ∪ top-N-by-memory table. */
  readonly top?: number;
  /** How often tables are taken; GPU answers older than two of these are not used. */
  readonly intervalMs: number;
  /** How long a table waits for nvidia-smi before going on without it (default 500 ms). */
  readonly gpuWaitMs?: number;
  readonly pageSize?: number;
  /** What each row's cmd holds (`--process-cmdline`; default `full`, secrets masked). */
  readonly cmdline?: ProcessCmdlineMode;
  readonly log: Logger;
}

/** A source, or null when `procRoot` has no readable processes (not Linux, no /proc mounted). */
export async function createProcessTableSource(opts: ProcessSourceOptions): Promise<ProcessTableSource | null> {
  if (!canReadProcesses(opts.procRoot)) {
    opts.log.debug({ procRoot: opts.procRoot }, 'no processes readable; process table off');
    return null;
  }
  const reader = new ProcessReader({
    procRoot: opts.procRoot,
    hostRoot: opts.hostRoot,
    top: opts.top,
    pageSize: opts.pageSize ?? detectPageSize(opts.log),
    ...(opts.cmdline ? { cmdline: opts.cmdline } : {}),
    log: opts.log,
  });
  const nvidiaSmi = opts.path === '' ? null : await findExecutable('nvidia-smi', opts.path);
  const gpu = nvidiaSmi ? new GpuProcessMemory({ file: nvidiaSmi, log: opts.log }) : null;
  return new ProcSource(reader, gpu, opts);
}

class ProcSource implements ProcessTableSource {
  constructor(
    private readonly reader: ProcessReader,
    private readonly gpu: GpuProcessMemory | null,
    private readonly opts: ProcessSourceOptions,
  ) {}

  async take(_now: number, out: MetricValues): Promise<ProcessTable | undefined> {
    const at = performance.now();
    // Started first so nvidia-smi works while /proc is read.
    const gpuMem = this.gpu?.read(at, this.opts.gpuWaitMs ?? 500, 2 * this.opts.intervalMs);
    const scan = this.reader.scan(at);
    out['procs.count'] = scan.total;
    out['procs.running'] = scan.running;
    const byPid = await gpuMem;
    if (!scan.rows) return undefined;
    if (byPid) {
      for (const row of scan.rows) {
        const bytes = byPid.get(row.pid);
        if (bytes !== undefined) row.gpuMem = bytes;
      }
    }
    return { rows: scan.rows, total: scan.total };
  }

  async close(): Promise<void> {
    await this.gpu?.close();
  }
}

/**
 * The kernel's page size, which stat's rss is counted in: 4 KiB on x86, but 16 KiB on a
 * Raspberry Pi 5 kernel and 64 KiB on some arm64 builds. Node has no call for it; the
 * agent's own smaps states it, with no spawn (`getconf PAGESIZE` would be one). It is the
 * same for every process, so the real /proc is asked even when procRoot points elsewhere.
 */
export function detectPageSize(log: Logger, smapsPath = join('/proc/self', 'smaps')): number {
  const text = readText(smapsPath);
  const m = text === undefined ? null : /^KernelPageSize:\s+(\d+) kB$/m.exec(text);
  if (!m) {
    log.debug({ path: smapsPath }, `page size unknown; assuming ${DEFAULT_PAGE_SIZE} bytes`);
    return DEFAULT_PAGE_SIZE;
  }
  return Number(m[1]) * 1024;
}
