// Raspberry Pi: the firmware's throttle bits, and the clocks, voltage and SoC temperature only
// the firmware measures. A vcgencmd spawn costs several ms of a Pi's CPU, so the throttle bits
// come every tick from the firmware's sysfs node where the kernel has it, and vcgencmd runs in
// the background at a slower pace, never two runs at once; sample() only copies the latest
// answers. Thermal zones are the thermal collector's, not read here.
import { execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Inventory } from '../../shared/protocol.js';
import { decodeRevisionCode, parseCpuinfo } from '../parsers/proc/cpuinfo.js';
import { parseThrottleHex, parseVcgencmd, throttleMetrics, type ParseVcgencmdOptions } from '../parsers/vcgencmd/index.js';
import { readBoardIdentity } from '../platform/board.js';
import { findExecutable } from '../tools/find-executable.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { listNumbered, readText } from './sysfs.js';

/**
 * The firmware driver's node (drivers/firmware/raspberrypi.c), `%x` of the bit field without
 * `0x`. Some kernels mark it deprecated and log one WARN (a stack trace) on the first read
 * after boot; later reads are quiet. Mainline kernels do not have it.
 */
export const FIRMWARE_THROTTLED_NODE = 'devices/platform/soc/soc:firmware/get_throttled';

/** Where Raspberry Pi OS (/usr/bin) and older Raspbian (/opt/vc/bin) install vcgencmd when PATH lacks it. */
export const VCGENCMD_FALLBACK_DIRS: readonly string[] = ['/usr/bin', '/opt/vc/bin'];

export interface VcgencmdCommand {
  readonly args: readonly string[];
  readonly parse: ParseVcgencmdOptions;
}

/** What the background run asks; get_throttled is added when no sysfs node has the bits. */
export const VCGENCMD_COMMANDS: readonly VcgencmdCommand[] = [
  { args: ['measure_clock', 'arm'], parse: { clockBlock: 'arm' } },
  { args: ['measure_clock', 'core'], parse: { clockBlock: 'core' } },
  { args: ['measure_volts', 'core'], parse: { voltRail: 'core' } },
  { args: ['measure_temp'], parse: {} },
];
const GET_THROTTLED: VcgencmdCommand = { args: ['get_throttled'], parse: {} };

export interface RaspberryPiCollectorOptions {
  /** How often vcgencmd is run in the background. */
  readonly vcgencmdIntervalMs?: number;
  /** A vcgencmd call taking longer than this is killed and counts as failed. */
  readonly vcgencmdTimeoutMs?: number;
  /** A vcgencmd value older than this is not reported; 3 × vcgencmdIntervalMs by default. */
  readonly staleAfterMs?: number;
  /** Searched after ctx.path; VCGENCMD_FALLBACK_DIRS by default. */
  readonly fallbackDirs?: readonly string[];
  /** A command failing this many times in a row (for a reason other than access) is no longer run. */
  readonly maxConsecutiveFailures?: number;
}

/** vcgencmd's answers when the firmware interface cannot be opened, typically a user outside the `video` group. */
const ACCESS_FAILURE = /VCHI initiali[sz]ation failed|vchiq|\/dev\/vcio/i;

function run(file: string, args: readonly string[], timeoutMs: number, started: (child: ChildProcess) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { timeout: timeoutMs, windowsHide: true, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (err) reject(Object.assign(new Error(`${file} ${args.join(' ')} failed: ${err.message.split('\n')[0]}${output ? ` (${output.split('\n')[0]})` : ''}`), { output }));
      // vcgencmd has exited 0 while printing only the VCHI error on some firmware.
      else if (ACCESS_FAILURE.test(output) && !/=/.test(output)) reject(Object.assign(new Error(`${file} ${args.join(' ')}: ${output.split('\n')[0]}`), { output }));
      else resolve(stdout);
    });
    started(child);
  });
}

interface Timed {
  readonly value: number;
  /** Agent clock when the answer arrived. */
  readonly at: number;
}

interface CommandState {
  readonly command: VcgencmdCommand;
  failures: number;
  dropped: boolean;
}

/** Reads the firmware's bits every tick, and runs vcgencmd in the background. */
class RaspberryPiCollector implements Collector {
  readonly name = 'raspberry-pi';
  private readonly latest = new Map<string, Timed>();
  private readonly commands: CommandState[];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private child: ChildProcess | undefined;
  private closed = false;
  private vcgencmdDisabled = false;
  private readonly staleAfterMs: number;
  private readonly timeoutMs: number;
  private readonly maxFailures: number;

  constructor(
    private readonly ctx: CollectorContext,
    private readonly throttleSource: ThrottleSource | undefined,
    private readonly vcgencmd: string | null,
    private readonly board: NonNullable<Inventory['board']>,
    options: RaspberryPiCollectorOptions,
  ) {
    const intervalMs = options.vcgencmdIntervalMs ?? 5000;
    this.staleAfterMs = options.staleAfterMs ?? 3 * intervalMs;
    this.timeoutMs = options.vcgencmdTimeoutMs ?? 2000;
    this.maxFailures = options.maxConsecutiveFailures ?? 3;
    const wanted = throttleSource === undefined ? [...VCGENCMD_COMMANDS, GET_THROTTLED] : VCGENCMD_COMMANDS;
    this.commands = wanted.map((command) => ({ command, failures: 0, dropped: false }));
    if (vcgencmd !== null) {
      this.timer = setInterval(() => void this.refresh(), intervalMs);
      // The agent's lifetime is decided elsewhere; this timer must not keep it alive.
      this.timer.unref();
    }
  }

  /** Runs every vcgencmd command once unless a run is still going; resolves when it is done. */
  refresh(): Promise<void> {
    if (this.vcgencmd === null || this.vcgencmdDisabled || this.closed) return Promise.resolve();
    this.inFlight ??= this.runAll(this.vcgencmd).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async runAll(file: string): Promise<void> {
    // One after another: a burst of parallel spawns would cost a small Pi a visible CPU spike.
    for (const state of this.commands) {
      if (state.dropped || this.vcgencmdDisabled || this.closed) continue;
      const { args, parse } = state.command;
      try {
        const stdout = await run(file, args, this.timeoutMs, (child) => (this.child = child));
        const parsed = parseVcgencmd(stdout, parse);
        const at = Date.now();
        let got = 0;
        for (const s of parsed.samples) {
          for (const [name, value] of Object.entries(s.m)) {
            this.latest.set(name, { value, at });
            got++;
          }
        }
        if (got === 0) throw new Error(`vcgencmd ${args.join(' ')} answered ${JSON.stringify(stdout.trim().slice(0, 80))}, which holds no value`);
        state.failures = 0;
      } catch (err) {
        this.onFailure(state, err);
      } finally {
        this.child = undefined;
      }
    }
  }

  private onFailure(state: CommandState, err: unknown): void {
    if (this.closed) return;
    const message = err instanceof Error ? err.message : String(err);
    const output = (err as { output?: string }).output ?? message;
    if (ACCESS_FAILURE.test(output) || ACCESS_FAILURE.test(message)) {
      this.vcgencmdDisabled = true;
      this.stopTimer();
      this.ctx.log.warn(
        { executable: this.vcgencmd, error: message },
        'vcgencmd cannot reach the firmware; Pi clocks, core voltage and SoC temperature from vcgencmd are not reported. Add the agent user to the `video` group (sudo usermod -aG video <user>) and restart the agent',
      );
      return;
    }
    state.failures++;
    this.ctx.log.debug({ error: message, failures: state.failures }, 'vcgencmd command failed');
    if (state.failures < this.maxFailures) return;
    state.dropped = true;
    this.ctx.log.warn({ error: message, failures: state.failures }, `vcgencmd ${state.command.args.join(' ')} keeps failing; no longer run`);
    if (this.commands.every((c) => c.dropped)) {
      this.vcgencmdDisabled = true;
      this.stopTimer();
    }
  }

  sample(now: number, out: MetricValues): void {
    for (const [name, { value, at }] of this.latest) {
      // A stale answer is a gap, never a flat line of old values.
      if (now - at > this.staleAfterMs) this.latest.delete(name);
      else out[name] = value;
    }
    // The sysfs bits are fresher than vcgencmd's and are read every tick, so they go last.
    if (this.throttleSource !== undefined) Object.assign(out, this.throttleSource.read());
  }

  inventory(): Partial<Inventory> {
    return { board: { ...this.board, ...(this.board.compatible && { compatible: [...this.board.compatible] }) } };
  }

  /** Whether vcgencmd is still being run (false after a failure that stops it, or without one). */
  get vcgencmdActive(): boolean {
    return this.vcgencmd !== null && !this.vcgencmdDisabled && !this.closed;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    this.child?.kill();
    await this.inFlight?.catch(() => undefined);
  }
}

interface ThrottleSource {
  /** Metrics for this tick; {} when the file cannot be read now. */
  read(): Record<string, number>;
}

/** The firmware node with every bit. */
function firmwareNode(path: string): ThrottleSource {
  return {
    read() {
      const raw = readText(path);
      const bits = raw === undefined ? undefined : parseThrottleHex(raw);
      return bits === undefined ? {} : throttleMetrics(bits);
    },
  };
}

/**
 * raspberrypi-hwmon's under-voltage alarm: 1 while the firmware reports under-voltage. The
 * driver polls the firmware every 2 s and asks it to clear the sticky bits each time, so the
 * alarm means "under-voltage within the last poll", the closest this node comes to "now".
 */
function rpiVoltAlarm(path: string): ThrottleSource {
  return {
    read(): Record<string, number> {
      const raw = readText(path)?.trim();
      return raw === '0' || raw === '1' ? { 'pi.throttle.under_voltage': Number(raw) } : {};
    },
  };
}

function findRpiVoltAlarm(sysRoot: string): string | undefined {
  const dir = join(sysRoot, 'class/hwmon');
  for (const { name } of listNumbered(dir, /^hwmon(\d+)$/)) {
    if (readText(join(dir, name, 'name'))?.trim() !== 'rpi_volt') continue;
    const path = join(dir, name, 'in0_lcrit_alarm');
    if (readText(path) !== undefined) return path;
  }
  return undefined;
}

function findThrottleSource(ctx: CollectorContext): { source: ThrottleSource; from: string } | undefined {
  const node = join(ctx.sysRoot, FIRMWARE_THROTTLED_NODE);
  const raw = readText(node);
  if (raw !== undefined && parseThrottleHex(raw) !== undefined) return { source: firmwareNode(node), from: node };
  const alarm = findRpiVoltAlarm(ctx.sysRoot);
  return alarm === undefined ? undefined : { source: rpiVoltAlarm(alarm), from: alarm };
}

function boardInventory(ctx: CollectorContext, model: string | undefined, compatible: readonly string[]): NonNullable<Inventory['board']> {
  const cpuinfo = parseCpuinfo(readText(join(ctx.procRoot, 'cpuinfo')) ?? '');
  const decoded = cpuinfo.revision === undefined ? undefined : decodeRevisionCode(cpuinfo.revision);
  // The revision code names the factory that built the board (Sony UK, Embest…); without a
  // code the brand is all that is known.
  const manufacturer = decoded?.manufacturer ?? 'Raspberry Pi';
  const boardModel = model ?? cpuinfo.model;
  return {
    manufacturer,
    ...(boardModel !== undefined && { model: boardModel.slice(0, 200) }),
    ...(cpuinfo.revision !== undefined && { revision: cpuinfo.revision }),
    ...(compatible.length > 0 && { compatible: compatible.slice(0, 16).map((c) => c.slice(0, 200)) }),
  };
}

export function createRaspberryPiCollector(options: RaspberryPiCollectorOptions = {}): CollectorFactory {
  return {
    name: 'raspberry-pi',
    async detect(ctx: CollectorContext): Promise<Collector | null> {
      const identity = readBoardIdentity(ctx);
      if (identity.kind !== 'raspberry-pi') return null;
      const throttle = findThrottleSource(ctx);
      const searchPath = [ctx.path, ...(options.fallbackDirs ?? VCGENCMD_FALLBACK_DIRS)].filter((d) => d !== '').join(':');
      const vcgencmd = await findExecutable('vcgencmd', searchPath, { platform: 'linux' });
      ctx.log.debug({ model: identity.model, throttle: throttle?.from ?? null, vcgencmd }, 'Raspberry Pi');
      if (throttle === undefined && vcgencmd === null) {
        ctx.log.debug('Raspberry Pi without vcgencmd or a firmware throttle node: only board facts are reported');
      }
      const collector = new RaspberryPiCollector(ctx, throttle?.source, vcgencmd, boardInventory(ctx, identity.model, identity.compatible), options);
      // The first answers are waited for, so the first tick already has them (or the failure is known).
      await collector.refresh();
      return collector;
    },
  };
}

export const raspberryPiCollector: CollectorFactory = createRaspberryPiCollector();
