// GPU memory per process from `nvidia-smi --query-compute-apps`: the one spawn of the process
// table, once per process interval (not per metric tick). A query is awaited only briefly: a
// slow or hung nvidia-smi must not hold the metric tick, so the table then uses the previous
// answer while it is fresh, or goes without GPU memory. A failing nvidia-smi (no driver, a
// Jetson's stub) is asked less and less often, down to once every MAX_SKIP process intervals.
import { execFile } from 'node:child_process';
import type { Logger } from '../../shared/log.js';
import { parseComputeAppsCsv } from '../parsers/nvidia-smi/compute-apps.js';

export const COMPUTE_APPS_ARGS = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'] as const;
/** nounits drops the unit from the values; the header it also drops would have said MiB. */
const COMPUTE_APPS_HEADER = 'pid, used_gpu_memory [MiB]\n';
const MAX_SKIP = 12;

export interface GpuMemoryOptions {
  /** Absolute path of nvidia-smi. */
  readonly file: string;
  readonly timeoutMs?: number;
  readonly log: Logger;
}

export class GpuProcessMemory {
  private inFlight: Promise<void> | null = null;
  private last: { atMs: number; byPid: ReadonlyMap<number, number> } | null = null;
  private failures = 0;
  private skip = 0;

  constructor(private readonly opts: GpuMemoryOptions) {}

  /**
   * GPU bytes by pid: a fresh answer when nvidia-smi replies within `waitMs`, else one no
   * older than `maxAgeMs`, else undefined. Processes without a GPU context are absent.
   */
  async read(nowMs: number, waitMs: number, maxAgeMs: number): Promise<ReadonlyMap<number, number> | undefined> {
    if (this.skip > 0) this.skip--;
    else this.inFlight ??= this.query().finally(() => (this.inFlight = null));
    if (this.inFlight) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    const last = this.last;
    return last && nowMs - last.atMs <= maxAgeMs ? last.byPid : undefined;
  }

  /** Lets a query still running finish (at most its timeout), so close leaves no child behind. */
  async close(): Promise<void> {
    await this.inFlight;
  }

  private async query(): Promise<void> {
    try {
      const stdout = await run(this.opts.file, this.opts.timeoutMs ?? 2000);
      const { processes, warnings } = parseComputeAppsCsv(COMPUTE_APPS_HEADER + stdout);
      if (warnings.length > 0) this.opts.log.debug({ warnings }, 'nvidia-smi compute-apps lines skipped');
      const byPid = new Map<number, number>();
      // A process on several GPUs has one line per GPU.
      for (const p of processes) {
        if (p.usedMemoryBytes !== undefined) byPid.set(p.pid, (byPid.get(p.pid) ?? 0) + p.usedMemoryBytes);
      }
      this.last = { atMs: performance.now(), byPid };
      this.failures = 0;
    } catch (err) {
      this.failures++;
      if (this.failures === 1) this.opts.log.warn({ err }, 'nvidia-smi compute-apps query failed; process GPU memory left out');
      this.skip = Math.min(MAX_SKIP, 2 ** (this.failures - 1) - 1);
    }
  }
}

function run(file: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...COMPUTE_APPS_ARGS], { timeout: timeoutMs, windowsHide: true, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const detail = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
        reject(new Error(`${file} ${COMPUTE_APPS_ARGS.join(' ')} failed: ${err.message}${detail ? ` (${detail})` : ''}`));
      } else resolve(stdout);
    });
  });
}
