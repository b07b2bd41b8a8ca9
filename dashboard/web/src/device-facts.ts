// Facts about a device read from its summary: what the fleet card and the device header show.
import type { DeviceSummary } from '../../../shared/live.js';

export interface GpuFacts {
  index: number;
  name: string | null;
  util: number | undefined;
  temp: number | undefined;
  memUsed: number | undefined;
  memTotal: number | undefined;
}

export interface DeviceFacts {
  cpuUtil: number | undefined;
  memUsed: number | undefined;
  memTotal: number | undefined;
  gpus: GpuFacts[];
  hottest: { sensor: string; value: number } | null;
}

const GPU_RE = /^gpu\.(\d+)\./;
const TEMP_RE = /^temp\.([a-z0-9_]+)$/;

/** GPU indexes the device has, from its inventory and from the metrics it reports. */
export function gpuIndexes(d: DeviceSummary, metricNames: Iterable<string> = Object.keys(d.latest?.m ?? {})): number[] {
  const set = new Set<number>();
  for (const g of d.inventory.gpus ?? []) set.add(g.index);
  for (const name of metricNames) {
    const m = GPU_RE.exec(name);
    if (m) set.add(Number(m[1]));
  }
  return [...set].sort((a, b) => a - b);
}

export function deviceFacts(d: DeviceSummary): DeviceFacts {
  const m = d.latest?.m ?? {};
  let hottest: DeviceFacts['hottest'] = null;
  for (const [name, value] of Object.entries(m)) {
    const t = TEMP_RE.exec(name);
    if (t && Number.isFinite(value) && (!hottest || value > hottest.value)) hottest = { sensor: t[1]!, value };
  }
  const gpus = gpuIndexes(d).map((i): GpuFacts => {
    const inv = d.inventory.gpus?.find((g) => g.index === i);
    return {
      index: i,
      name: inv?.name ?? null,
      util: m[`gpu.${i}.util`],
      temp: m[`gpu.${i}.temp`],
      memUsed: m[`gpu.${i}.mem.used`],
      memTotal: m[`gpu.${i}.mem.total`] ?? inv?.memTotalBytes,
    };
  });
  return {
    cpuUtil: m['cpu.util'],
    memUsed: m['mem.used'],
    memTotal: m['mem.total'] ?? d.inventory.memTotalBytes,
    gpus,
    hottest,
  };
}

/** "Ubuntu 22.04 · Linux 5.15 · aarch64", from whatever the inventory has. */
export function osLine(d: DeviceSummary): string {
  const os = d.inventory.os;
  if (!os) return '';
  const distro = [os.distro, os.release].filter(Boolean).join(' ');
  const kernel = os.kernel ? `${os.platform === 'linux' || !os.platform ? 'Linux' : os.platform} ${os.kernel}` : '';
  return [distro, kernel, os.arch].filter(Boolean).join(' · ');
}
