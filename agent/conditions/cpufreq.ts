// cpufreq at the start of a run: the governor and scaling limits of every policy, and whether
// the clocks are pinned the way `jetson_clocks` pins them. Policies are
// /sys/devices/system/cpu/cpufreq/policy<N> (one per cluster of CPUs sharing a clock); kernels
// without that directory have the same files under each cpu<N>/cpufreq.
import { dirname, join } from 'node:path';
import { discoverJetsonSysfs } from '../collectors/jetson-sysfs.js';
import { listNumbered } from '../collectors/sysfs.js';
import { readTextAsync } from './tool.js';

export interface CpufreqPolicy {
  readonly governor?: string;
  /** kHz, as the files hold them. */
  readonly minKhz?: number;
  readonly maxKhz?: number;
}

/** A whole positive number of kHz or Hz; `<unknown>` and the like are undefined. */
function parseFreq(text: string | undefined): number | undefined {
  const s = text?.trim();
  if (s === undefined || !/^\d{1,15}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}

function policyDirs(sysRoot: string): string[] {
  const cpufreq = join(sysRoot, 'devices/system/cpu/cpufreq');
  const policies = listNumbered(cpufreq, /^policy(\d+)$/).map(({ name }) => join(cpufreq, name));
  if (policies.length > 0) return policies;
  const cpus = join(sysRoot, 'devices/system/cpu');
  return listNumbered(cpus, /^cpu(\d+)$/).map(({ name }) => join(cpus, name, 'cpufreq'));
}

/**
 * The policies that govern an online CPU. A policy whose CPUs are all offline (Jetson power
 * modes park whole clusters) keeps its directory with an empty `affected_cpus`; its limits
 * say nothing about the run, so it is left out.
 */
export async function readCpufreqPolicies(sysRoot: string, signal: AbortSignal): Promise<CpufreqPolicy[]> {
  const read = (dir: string, file: string) => readTextAsync(join(dir, file), signal);
  const policies = await Promise.all(
    policyDirs(sysRoot).map(async (dir): Promise<CpufreqPolicy | undefined> => {
      const [affected, governor, min, max] = await Promise.all([
        read(dir, 'affected_cpus'),
        read(dir, 'scaling_governor'),
        read(dir, 'scaling_min_freq'),
        read(dir, 'scaling_max_freq'),
      ]);
      if (affected !== undefined && affected.trim() === '') return undefined;
      const name = governor?.trim();
      const minKhz = parseFreq(min);
      const maxKhz = parseFreq(max);
      if (!name && minKhz === undefined && maxKhz === undefined) return undefined;
      return {
        ...(name ? { governor: name.slice(0, 64) } : {}),
        ...(minKhz === undefined ? {} : { minKhz }),
        ...(maxKhz === undefined ? {} : { maxKhz }),
      };
    }),
  );
  return policies.filter((p): p is CpufreqPolicy => p !== undefined);
}

export interface CpufreqSummary {
  /** One governor, or `mixed (a, b)` with the distinct ones in name order. */
  cpuGovernor?: string;
  /** Lowest scaling_min_freq over the policies, MHz. */
  cpuMinMHz?: number;
  /** Highest scaling_max_freq over the policies, MHz. */
  cpuMaxMHz?: number;
}

export function summarizeCpufreq(policies: readonly CpufreqPolicy[]): CpufreqSummary {
  const governors = [...new Set(policies.flatMap((p) => (p.governor === undefined ? [] : [p.governor])))].sort();
  const mins = policies.flatMap((p) => (p.minKhz === undefined ? [] : [p.minKhz]));
  const maxes = policies.flatMap((p) => (p.maxKhz === undefined ? [] : [p.maxKhz]));
  const out: CpufreqSummary = {};
  if (governors.length === 1) out.cpuGovernor = governors[0]!;
  else if (governors.length > 1) out.cpuGovernor = `mixed (${governors.join(', ')})`.slice(0, 256);
  if (mins.length > 0) out.cpuMinMHz = Math.min(...mins) / 1000;
  if (maxes.length > 0) out.cpuMaxMHz = Math.max(...maxes) / 1000;
  return out;
}

/**
 * Whether the clocks are pinned as `jetson_clocks` leaves them: every online CPU policy's
 * scaling_min_freq raised to its scaling_max_freq and, where the GPU has a devfreq node, its
 * min_freq raised to its max_freq. jetson_clocks pins each clock at the maximum the active
 * nvpmodel mode allows, which nvpmodel writes into scaling_max_freq / max_freq; comparing with
 * cpuinfo_max_freq (the silicon's maximum) instead would read "off" in every mode but MAXN.
 * Undefined when neither the CPU nor the GPU limits can be read.
 */
export async function readJetsonClocks(sysRoot: string, policies: readonly CpufreqPolicy[], signal: AbortSignal): Promise<boolean | undefined> {
  const pinned: boolean[] = [];
  for (const p of policies) {
    if (p.minKhz !== undefined && p.maxKhz !== undefined) pinned.push(p.minKhz >= p.maxKhz);
  }
  const gpuFreq = discoverJetsonSysfs(sysRoot).gpuFreq;
  if (gpuFreq !== undefined) {
    const dir = dirname(gpuFreq);
    const [min, max] = await Promise.all([readTextAsync(join(dir, 'min_freq'), signal), readTextAsync(join(dir, 'max_freq'), signal)]);
    const minHz = parseFreq(min);
    const maxHz = parseFreq(max);
    if (minHz !== undefined && maxHz !== undefined) pinned.push(minHz >= maxHz);
  }
  return pinned.length === 0 ? undefined : pinned.every(Boolean);
}
