// Wall time of one full process-table scan on this machine: every /proc/<pid>/stat and io,
// the top-N selection, and cmdline and owner of the chosen rows — what the agent does once
// per process interval. nvidia-smi is left out (a spawn, ~40 ms, timed by the GPU benches).
// The reader is given a synthetic clock 5 s apart per scan, so every timed scan computes
// rates and builds rows, as it does in the agent, without sleeping between scans.
import { ProcessReader } from '../agent/processes/reader.js';
import { detectPageSize } from '../agent/processes/source.js';
import { silentLogger } from '../shared/log.js';
import { median } from './report.js';

export interface ProcessTableBenchOptions {
  /** Default /proc. */
  procRoot?: string;
  /** Default /. */
  hostRoot?: string;
  /** Timed scans (default 50, at most 10 000). */
  iterations?: number;
  /** Untimed scans first (default 5). */
  warmup?: number;
  /** N of the table (default 10). */
  top?: number;
}

export async function measureProcessTable(
  opts: ProcessTableBenchOptions = {},
): Promise<{ medianUs: number; p90Us: number; processes: number }> {
  const iterations = opts.iterations ?? 50;
  const warmup = opts.warmup ?? 5;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000) {
    throw new Error(`iterations ${iterations} is out of range: use 1 to 10000`);
  }
  const log = silentLogger();
  const reader = new ProcessReader({
    procRoot: opts.procRoot ?? '/proc',
    hostRoot: opts.hostRoot ?? '/',
    top: opts.top,
    pageSize: detectPageSize(log),
    log,
  });
  let clock = 0;
  // The first scan primes rates; warm-up scans also bring the code and the dentry cache up.
  for (let i = 0; i < 1 + warmup; i++) reader.scan((clock += 5000));
  const us: number[] = [];
  let processes = 0;
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    const scan = reader.scan((clock += 5000));
    us.push((performance.now() - start) * 1000);
    processes = scan.total;
    if (!scan.rows) throw new Error(`scan ${i} produced no rows: the reader did not compute rates`);
  }
  return { medianUs: Math.round(median(us)), p90Us: Math.round(percentile(us, 0.9)), processes };
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
