// Run conditions: what the device looked like when an experiment started, so two runs can be
// told comparable or not (shared/conditions.ts, shared/conditions-diff.ts). Every probe is
// best-effort and they all run at once, under one deadline: an experiment start never waits
// more than `timeoutMs` for them, a probe still going then is cut off (its tool killed), and
// whatever it would have given is absent. Nothing here throws.
import { delimiter, join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { RunConditionsSchema, type RunConditions } from '../../shared/conditions.js';
import { FIRMWARE_THROTTLED_NODE } from '../collectors/raspberry-pi.js';
import { listNumbered, readText } from '../collectors/sysfs.js';
import { listThermalZones, parseMilliCelsius } from '../collectors/thermal.js';
import { parseNvpmodel } from '../parsers/jetson/nvpmodel.js';
import { parseThrottleHex, THROTTLE_FLAGS } from '../parsers/vcgencmd/index.js';
import { readBoardIdentity } from '../platform/board.js';
import { findExecutable } from '../tools/find-executable.js';
import { readCpufreqPolicies, readJetsonClocks, summarizeCpufreq } from './cpufreq.js';
import { readNvidiaConditions } from './nvidia.js';
import { readTextAsync, runTool, type ConditionsSink } from './tool.js';

export interface ReadRunConditionsOptions {
  /** Recorded as given. */
  readonly agentVersion: string;
  /** Where /proc is (`/proc`); tests point this at a fixture tree. */
  readonly procRoot?: string;
  /** Where /sys is (`/sys`). */
  readonly sysRoot?: string;
  /** Prefix of the host's own files such as /etc/nv_tegra_release (`/`; `/host` in a container). */
  readonly hostRoot?: string;
  /** PATH searched for nvidia-smi and nvpmodel; the agent's PATH by default. */
  readonly path?: string;
  /** Searched for nvpmodel after `path`: JetPack puts it in /usr/sbin, which a service's PATH may lack. */
  readonly toolDirs?: readonly string[];
  /** The most an experiment start waits for all probes together; 1500 ms by default. */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

export const DEFAULT_CONDITIONS_TIMEOUT_MS = 1500;
const DEFAULT_TOOL_DIRS = ['/usr/bin', '/usr/sbin'];

/**
 * Tegra boards' PMIC-Die zone reads a constant 100000 (an alarm level, not a temperature); the
 * thermal collector skips it for the same reason.
 */
const NOT_A_MEASUREMENT = /^pmic[-_]die$/i;
/** A start temperature above this is a sensor's garbage, not a board that did not cool down. */
const MAX_START_CELSIUS = 150;

/** Pi throttle flags that describe the state now (bits 0–3), by their plain names. */
const THROTTLE_NOW = THROTTLE_FLAGS.filter((f) => f.bit < 16).map((f) => ({ bit: f.bit, name: f.metric.replace(/^pi\.throttle\./, '') }));

/** The flags set in a get_throttled bit field, e.g. ['under_voltage', 'throttled'] for 0x50005. */
export function throttleFlagsNow(bits: number): string[] {
  return THROTTLE_NOW.filter(({ bit }) => ((bits >>> bit) & 1) === 1).map(({ name }) => name);
}

/** Field order of a recorded RunConditions, whatever order the probes answered in. */
const FIELD_ORDER = Object.keys(RunConditionsSchema.shape) as (keyof RunConditions)[];

export async function readRunConditions(opts: ReadRunConditionsOptions): Promise<RunConditions> {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/sys';
  const hostRoot = opts.hostRoot ?? '/';
  const path = opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const timeoutMs = Math.max(0, opts.timeoutMs ?? DEFAULT_CONDITIONS_TIMEOUT_MS);
  const log = opts.log;

  const recorded: RunConditions = { agentVersion: opts.agentVersion.slice(0, 256) };
  let open = true;
  const sink: ConditionsSink = {
    set(part) {
      if (open) Object.assign(recorded, part);
    },
    fill(part) {
      if (!open) return;
      for (const [k, v] of Object.entries(part)) if (!(k in recorded)) Object.assign(recorded, { [k]: v });
    },
    failed(what, err) {
      log?.debug({ err: err instanceof Error ? err.message : String(err) }, `run conditions: ${what} gave nothing`);
    },
  };
  const abort = new AbortController();
  const { signal } = abort;
  const probe = (what: string, run: () => Promise<void>): Promise<void> =>
    Promise.resolve()
      .then(run)
      .catch((err: unknown) => sink.failed(what, err));

  const probes: Promise<void>[] = [];
  try {
    let board: ReturnType<typeof readBoardIdentity> | undefined;
    try {
      board = readBoardIdentity({ procRoot, sysRoot, hostRoot });
    } catch (err) {
      sink.failed('board identity', err);
    }
    const jetson = board?.kind === 'jetson';

    probes.push(
      probe('kernel release', async () => {
        const release = (await readTextAsync(join(procRoot, 'sys/kernel/osrelease'), signal))?.trim();
        if (release) sink.set({ kernel: release.slice(0, 256) });
      }),
      probe('cpufreq', async () => {
        const policies = await readCpufreqPolicies(sysRoot, signal);
        sink.set(summarizeCpufreq(policies));
        if (!jetson) return;
        const pinned = await readJetsonClocks(sysRoot, policies, signal);
        if (pinned !== undefined) sink.set({ jetsonClocks: pinned });
      }),
      probe('throttle flags', async () => {
        const flags = await readThrottleNow(sysRoot, signal);
        if (flags !== undefined) sink.set({ throttleAtStart: flags });
      }),
      probe('start temperature', async () => {
        const t = await readStartTemp(sysRoot, signal);
        if (t !== undefined) sink.set({ startTempC: t });
      }),
    );
    if (jetson) {
      probes.push(
        probe('nvpmodel -q', async () => {
          const searchPath = [path, ...(opts.toolDirs ?? DEFAULT_TOOL_DIRS)].filter((d) => d !== '').join(delimiter);
          const nvpmodel = await findExecutable('nvpmodel', searchPath);
          if (nvpmodel === null) return;
          const mode = parseNvpmodel(await runTool(nvpmodel, ['-q'], signal));
          sink.set({ powerMode: mode.name.slice(0, 256), ...(mode.id === undefined ? {} : { powerModeId: mode.id }) });
        }),
      );
    } else {
      // A Jetson's integrated GPU is not nvidia-smi's to describe (the nvidia-gpu collector
      // leaves it to tegrastats as well); its clocks are in jetsonClocks and the power mode.
      probes.push(
        probe('nvidia-smi', async () => {
          const nvidiaSmi = await findExecutable('nvidia-smi', path);
          if (nvidiaSmi !== null) await readNvidiaConditions(nvidiaSmi, signal, sink);
        }),
      );
    }

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([Promise.all(probes).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') log?.debug({ timeoutMs }, 'run conditions: probes still going at the deadline were cut off');
  } catch (err) {
    sink.failed('run conditions', err);
  } finally {
    open = false;
    abort.abort();
  }

  const out: RunConditions = {};
  for (const key of FIELD_ORDER) if (recorded[key] !== undefined) Object.assign(out, { [key]: recorded[key] });
  return out;
}

/**
 * Throttle flags set now: the firmware's get_throttled node where the kernel has it, else the
 * rpi_volt hwmon alarm (under-voltage only), as the Raspberry Pi collector reads them. [] when
 * the source reads clear; undefined when neither exists (not a Pi).
 */
async function readThrottleNow(sysRoot: string, signal: AbortSignal): Promise<string[] | undefined> {
  const raw = await readTextAsync(join(sysRoot, FIRMWARE_THROTTLED_NODE), signal);
  const bits = raw === undefined ? undefined : parseThrottleHex(raw);
  if (bits !== undefined) return throttleFlagsNow(bits);
  const hwmon = join(sysRoot, 'class/hwmon');
  for (const { name } of listNumbered(hwmon, /^hwmon(\d+)$/)) {
    if (readText(join(hwmon, name, 'name'))?.trim() !== 'rpi_volt') continue;
    const alarm = (await readTextAsync(join(hwmon, name, 'in0_lcrit_alarm'), signal))?.trim();
    if (alarm === '1') return ['under_voltage'];
    if (alarm === '0') return [];
  }
  return undefined;
}

/** The hottest thermal zone now, °C; zones that are not measurements or read garbage are left out. */
async function readStartTemp(sysRoot: string, signal: AbortSignal): Promise<number | undefined> {
  const zones = listThermalZones(sysRoot).filter((z) => !NOT_A_MEASUREMENT.test(z.type));
  const readings = await Promise.all(zones.map(async (z) => parseMilliCelsius(await readTextAsync(join(z.dir, 'temp'), signal))));
  const valid = readings.filter((c): c is number => c !== undefined && c <= MAX_START_CELSIUS);
  return valid.length === 0 ? undefined : Math.max(...valid);
}
