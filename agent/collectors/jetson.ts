// NVIDIA Jetson through tegrastats: GPU load and clocks, EMC, engines, IRAM, per-rail power and
// the board's own temperature names, all on one line per interval. As with nvidia-smi, one
// long-lived `tegrastats --interval <ms>` is kept running and sample() copies out its latest
// line; a line older than a few intervals is not reported, so a hung tegrastats shows as a gap.
// The /proc collectors run first and are more precise for CPU and memory, so nothing they
// already put in a tick is overwritten. Without tegrastats (not installed, or refused for lack
// of root) the GPU load, GPU clock and INA3221 rails are read from sysfs instead.
import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import type { Inventory } from '../../shared/protocol.js';
import { parseNvpmodel, type PowerMode } from '../parsers/jetson/nvpmodel.js';
import { parseNvTegraRelease, type NvTegraRelease } from '../parsers/jetson/release.js';
import { looksLikeTegrastatsLine, parseTegrastatsLine } from '../parsers/tegrastats/index.js';
import { readBoardIdentity, type BoardIdentity } from '../platform/board.js';
import type { BackoffOptions } from '../tools/backoff.js';
import { findExecutable } from '../tools/find-executable.js';
import { SupervisedProcess, type ExitInfo } from '../tools/supervised-process.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { discoverJetsonSysfs, hasJetsonSysfs, readJetsonSysfs, type JetsonSysfsSources } from './jetson-sysfs.js';
import { readText } from './sysfs.js';

export interface JetsonCollectorOptions {
  /** A line older than this many intervals is stale and not reported. */
  readonly staleAfterIntervals?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly stopGraceMs?: number;
  /**
   * Directories searched after ctx.path: JetPack puts tegrastats in /usr/bin and nvpmodel in
   * /usr/sbin, which a service's PATH may lack.
   */
  readonly toolDirs?: readonly string[];
  readonly nvpmodelTimeoutMs?: number;
  /** A run that ends within this time without a line, saying it lacks permission, is a refusal. */
  readonly refusalWindowMs?: number;
}

const DEFAULT_TOOL_DIRS = ['/usr/bin', '/usr/sbin'];

/** What tegrastats (or the kernel for it) says when it is not allowed to read what it needs. */
const PERMISSION = /permission denied|operation not permitted|not permitted|must be (?:run as )?root|run (?:it )?as root|requires? root|EACCES|EPERM/i;

function runNvpmodel(file: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ['-q'], { timeout: timeoutMs, windowsHide: true, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} -q failed: ${err.message}${stderr ? ` (${stderr.trim().split('\n')[0]})` : ''}`));
      else resolve(stdout);
    });
  });
}

interface JetsonFacts {
  readonly board: BoardIdentity;
  readonly release?: NvTegraRelease;
  readonly powerMode?: PowerMode;
}

interface Latest {
  readonly m: Readonly<Record<string, number>>;
  /** Agent clock when the line arrived; tegrastats' own stamp is local time of unknown zone. */
  readonly receivedAt: number;
}

class JetsonCollector implements Collector {
  readonly name = 'jetson';
  private latest: Latest | null = null;
  private process: SupervisedProcess | null = null;
  private readonly staleAfterMs: number;
  private linesThisRun = 0;
  /** Lines on stdout that were not reports: an error tegrastats printed there rather than on stderr. */
  private stdoutNoise: string[] = [];

  constructor(
    private readonly ctx: CollectorContext,
    private readonly facts: JetsonFacts,
    tegrastats: string | null,
    private readonly sysfs: JetsonSysfsSources,
    private readonly options: JetsonCollectorOptions,
  ) {
    this.staleAfterMs = (options.staleAfterIntervals ?? 3) * ctx.intervalMs;
    if (tegrastats !== null) this.startTegrastats(tegrastats);
  }

  /** 'tegrastats' while the tool is in use, 'sysfs' after it was missing or refused. */
  get source(): 'tegrastats' | 'sysfs' {
    return this.process === null ? 'sysfs' : 'tegrastats';
  }

  private startTegrastats(executable: string): void {
    const interval = String(Math.max(1, Math.round(this.ctx.intervalMs)));
    this.process = new SupervisedProcess({
      command: executable,
      name: 'tegrastats',
      args: ['--interval', interval],
      onLine: (line) => this.onLine(line),
      onStart: () => {
        this.linesThisRun = 0;
        this.stdoutNoise = [];
      },
      onExit: (info) => this.onExit(info),
      log: this.ctx.log,
      ...(this.options.backoff === undefined ? {} : { backoff: this.options.backoff }),
      ...(this.options.stopGraceMs === undefined ? {} : { stopGraceMs: this.options.stopGraceMs }),
    });
    this.process.start();
  }

  private onLine(line: string): void {
    if (!looksLikeTegrastatsLine(line)) {
      if (line.trim() !== '' && this.stdoutNoise.length < 5) this.stdoutNoise.push(line.slice(0, 500));
      return;
    }
    const parsed = parseTegrastatsLine(line);
    if (parsed.warnings.length > 0 && this.linesThisRun === 0) {
      // Once per run: the same unknown field repeats on every line.
      this.ctx.log.debug({ warnings: parsed.warnings }, 'tegrastats fields not understood');
    }
    this.linesThisRun++;
    if (Object.keys(parsed.m).length > 0) this.latest = { m: parsed.m, receivedAt: Date.now() };
  }

  private onExit(info: ExitInfo): void {
    if (this.linesThisRun > 0 || this.process === null) return;
    const quick = info.runMs <= (this.options.refusalWindowMs ?? 5000);
    const said = [...info.stderrTail, ...this.stdoutNoise, info.error?.message ?? ''].join(' | ');
    const code = (info.error as NodeJS.ErrnoException | undefined)?.code;
    if (!quick || !(code === 'EACCES' || code === 'EPERM' || PERMISSION.test(said))) return;
    this.ctx.log.info(
      { said: said.slice(0, 500), sysfs: hasJetsonSysfs(this.sysfs) },
      'tegrastats refused to run (permission); reading GPU load, GPU clock and power rails from sysfs instead',
    );
    const child = this.process;
    this.process = null;
    this.latest = null;
    void child.close();
  }

  sample(now: number, out: MetricValues): void {
    // The /proc collectors' CPU and memory values are exact; tegrastats' are rounded.
    const add = (name: string, value: number): void => {
      if (!(name in out)) out[name] = value;
    };
    if (this.process === null) {
      readJetsonSysfs(this.sysfs, add);
      return;
    }
    const latest = this.latest;
    if (latest === null) return;
    if (now - latest.receivedAt > this.staleAfterMs) {
      this.latest = null;
      return;
    }
    for (const [name, value] of Object.entries(latest.m)) add(name, value);
  }

  inventory(): Partial<Inventory> {
    const { board, release, powerMode } = this.facts;
    const jetson = {
      ...(release ? { l4t: release.l4t } : {}),
      ...(release?.jetpack ? { jetpack: release.jetpack } : {}),
      ...(powerMode ? { powerMode: powerMode.name.slice(0, 256) } : {}),
      ...(powerMode?.id !== undefined ? { powerModeId: powerMode.id } : {}),
    };
    return {
      board: {
        ...(board.model !== undefined ? { model: board.model.slice(0, 256) } : {}),
        compatible: board.compatible.slice(0, 16).map((c) => c.slice(0, 256)),
      },
      ...(Object.keys(jetson).length > 0 ? { jetson } : {}),
    };
  }

  /** Times tegrastats was started again after it ended (for tests and diagnostics). */
  get restarts(): number {
    return this.process?.restarts ?? 0;
  }

  close(): Promise<void> {
    return this.process === null ? Promise.resolve() : this.process.close();
  }
}

async function readFacts(ctx: CollectorContext, board: BoardIdentity, searchPath: string, options: JetsonCollectorOptions): Promise<JetsonFacts> {
  let release: NvTegraRelease | undefined;
  const releaseText = readText(join(ctx.hostRoot, 'etc/nv_tegra_release'));
  if (releaseText !== undefined) {
    try {
      release = parseNvTegraRelease(releaseText);
    } catch (err) {
      ctx.log.debug({ err }, 'etc/nv_tegra_release could not be read as an L4T release');
    }
  }
  let powerMode: PowerMode | undefined;
  const nvpmodel = await findExecutable('nvpmodel', searchPath);
  if (nvpmodel !== null) {
    try {
      powerMode = parseNvpmodel(await runNvpmodel(nvpmodel, options.nvpmodelTimeoutMs ?? 3000));
    } catch (err) {
      ctx.log.debug({ err }, 'nvpmodel -q gave no power mode; the inventory goes without one');
    }
  }
  return { board, ...(release ? { release } : {}), ...(powerMode ? { powerMode } : {}) };
}

export function createJetsonCollector(options: JetsonCollectorOptions = {}): CollectorFactory {
  return {
    name: 'jetson',
    async detect(ctx: CollectorContext): Promise<Collector | null> {
      const board = readBoardIdentity(ctx);
      if (board.kind !== 'jetson') return null;
      const searchPath = [ctx.path, ...(options.toolDirs ?? DEFAULT_TOOL_DIRS)].filter((d) => d !== '').join(delimiter);
      const facts = await readFacts(ctx, board, searchPath, options);
      const tegrastats = await findExecutable('tegrastats', searchPath);
      const sysfs = discoverJetsonSysfs(ctx.sysRoot);
      ctx.log.debug(
        { tegrastats, l4t: facts.release?.l4t, powerMode: facts.powerMode?.name, sysfs },
        tegrastats === null ? 'Jetson without tegrastats; reading sysfs' : 'Jetson: tegrastats found',
      );
      return new JetsonCollector(ctx, facts, tegrastats, sysfs, options);
    },
  };
}

export const jetsonCollector: CollectorFactory = createJetsonCollector();
