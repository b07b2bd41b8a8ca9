// Run conditions: what the agent records about the device when an experiment starts, so that
// two runs can be told comparable or not ("run B was in 15 W mode, run A in MAXN"). Every field
// is optional: a device reports what it has, and a field that could not be read is absent.
import { z } from 'zod';

const text = z.string().max(256);

export const GpuConditionsSchema = z
  .object({
    index: z.number().int().nonnegative(),
    name: text,
    /** SM and memory clocks at the start, MHz. */
    smClockMHz: z.number().nonnegative(),
    memClockMHz: z.number().nonnegative(),
    /** Application clocks or locked clocks where set (nvidia-smi clocks.applications.*), MHz. */
    appSmClockMHz: z.number().nonnegative(),
    appMemClockMHz: z.number().nonnegative(),
    /** Enforced power limit, W. */
    powerLimitW: z.number().nonnegative(),
    persistenceMode: z.boolean(),
    /** P-state at the start, 0 = P0. */
    pstate: z.number().int().nonnegative(),
  })
  .partial()
  .required({ index: true });
export type GpuConditions = z.infer<typeof GpuConditionsSchema>;

export const RunConditionsSchema = z
  .object({
    agentVersion: text,
    /** uname -r */
    kernel: text,
    /** nvpmodel power mode name (Jetson), e.g. MAXN, 15W. */
    powerMode: text,
    powerModeId: z.number().int().nonnegative(),
    /** jetson_clocks state where readable: every CPU/GPU/EMC clock pinned at its maximum. */
    jetsonClocks: z.boolean(),
    /** cpufreq governor of every policy; "mixed (a, b)" when they differ. */
    cpuGovernor: text,
    /** cpufreq scaling limits (lowest min and highest max over the policies), MHz. */
    cpuMinMHz: z.number().nonnegative(),
    cpuMaxMHz: z.number().nonnegative(),
    /** NVIDIA driver and the CUDA version it supports (nvidia-smi header). */
    gpuDriver: text,
    cudaVersion: text,
    gpus: z.array(GpuConditionsSchema).max(64),
    /** Throttling flags already set at the start (Pi get_throttled names, e.g. under_voltage). */
    throttleAtStart: z.array(z.string().max(64)).max(32),
    /** Highest temperature sensor at the start, °C: a board that did not cool down runs hotter. */
    startTempC: z.number(),
  })
  .partial();
export type RunConditions = z.infer<typeof RunConditionsSchema>;
