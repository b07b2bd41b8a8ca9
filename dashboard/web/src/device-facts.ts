// Facts about a device read from its summary: what the fleet card and the device header show.
import { formatClockStep, formatValue } from '../../../shared/format.js';
import type { ClockEvent, DeviceSummary } from '../../../shared/live.js';
import { jetsonRelease, powerModeLabel } from './board-model.js';
import { isVirtualInterface } from './chart-plan.js';

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
  /** The latest sample has any metric: "no sensors" is then a fact, not "nothing yet". */
  reported: boolean;
  /** Load average over 1 minute. */
  load1: number | undefined;
  /** The root filesystem (`fs.rootfs.*`), when reported. */
  rootfs: { used: number | undefined; size: number | undefined; util: number | undefined } | null;
  /** Bytes/s received and sent, summed over the real interfaces (not lo, ifb…); null without any. */
  net: { rx: number; tx: number } | null;
}

const GPU_RE = /^gpu\.(\d+)\./;
const TEMP_RE = /^temp\.([a-z0-9_]+)$/;
const NET_RE = /^net\.([a-z0-9_]+)\.(rx|tx)_bps$/;

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
  let net: DeviceFacts['net'] = null;
  let virtualNet: DeviceFacts['net'] = null;
  for (const [name, value] of Object.entries(m)) {
    if (!Number.isFinite(value)) continue;
    const t = TEMP_RE.exec(name);
    if (t && (!hottest || value > hottest.value)) hottest = { sensor: t[1]!, value };
    const n = NET_RE.exec(name);
    if (n) {
      const sum = isVirtualInterface(n[1]!) ? (virtualNet ??= { rx: 0, tx: 0 }) : (net ??= { rx: 0, tx: 0 });
      sum[n[2] as 'rx' | 'tx'] += value;
    }
  }
  const fsUsed = m['fs.rootfs.used'];
  const fsSize = m['fs.rootfs.size'];
  const fsUtil = m['fs.rootfs.util'] ?? (fsUsed !== undefined && fsSize ? (100 * fsUsed) / fsSize : undefined);
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
    reported: Object.keys(m).length > 0,
    load1: m['load.1'],
    rootfs: fsUsed === undefined && fsSize === undefined && fsUtil === undefined ? null : { used: fsUsed, size: fsSize, util: fsUtil },
    // Only virtual interfaces (a container, say): their traffic is all there is.
    net: net ?? virtualNet,
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

/**
 * The device header's facts, label → text: model, OS and kernel, L4T/JetPack and power mode
 * on a Jetson, CPU, GPUs, RAM and the agent. Only what the inventory or the metrics know.
 */
export function inventoryRows(d: DeviceSummary, metricNames: Iterable<string> = Object.keys(d.latest?.m ?? {})): [string, string][] {
  const inv = d.inventory;
  const rows: [string, string][] = [];
  const board = inv.board;
  if (board?.model) {
    rows.push(['Model', [board.model, board.revision ? `rev ${board.revision}` : ''].filter(Boolean).join(' · ')]);
  } else if (inv.system?.model) {
    const sys = [inv.system.manufacturer, inv.system.model].filter(Boolean).join(' ');
    rows.push(['Model', `${sys}${inv.system.virtual ? ' (virtual)' : ''}`]);
  }
  const os = osLine(d);
  if (os) rows.push(['OS', os]);
  const release = jetsonRelease(inv);
  if (release) rows.push(['JetPack', release]);
  const mode = powerModeLabel(inv);
  if (mode) rows.push(['Power mode', mode]);
  if (inv.cpu) {
    const c = inv.cpu;
    const parts = [[c.manufacturer, c.brand].filter(Boolean).join(' ')];
    if (c.physicalCores || c.cores) {
      parts.push(
        c.physicalCores && c.cores && c.physicalCores !== c.cores ? `${c.physicalCores} cores / ${c.cores} threads` : `${c.cores ?? c.physicalCores} cores`,
      );
    }
    if (c.speedMaxMHz) parts.push(`up to ${formatValue(c.speedMaxMHz, 'MHz')}`);
    const text = parts.filter(Boolean).join(' · ');
    if (text) rows.push(['CPU', text]);
  }
  const gpus = inv.gpus ?? [];
  for (const g of gpus) {
    const parts = [g.name];
    if (g.memTotalBytes) parts.push(formatValue(g.memTotalBytes, 'bytes'));
    if (g.driver) parts.push(`driver ${g.driver}`);
    rows.push([gpus.length > 1 ? `GPU ${g.index}` : 'GPU', parts.join(' · ')]);
  }
  if (gpus.length === 0 && inv.jetson && gpuIndexes(d, metricNames).length > 0) {
    // A Jetson's GPU is part of the SoC and shares its RAM.
    rows.push(['GPU', [inv.jetson.soc, 'integrated, shares RAM'].filter(Boolean).join(' · ')]);
  }
  const ram = inv.memTotalBytes ?? d.latest?.m['mem.total'];
  if (ram) rows.push(['RAM', formatValue(ram, 'bytes')]);
  const agent: string[] = [];
  if (d.agentVersion) agent.push(`v${d.agentVersion}`);
  if (d.intervalMs) agent.push(`every ${d.intervalMs < 1000 ? `${d.intervalMs} ms` : `${d.intervalMs / 1000} s`}`);
  if (d.droppedSamples > 0) agent.push(`${d.droppedSamples} samples dropped`);
  if (d.clockOffsetMs !== null && Math.abs(d.clockOffsetMs) >= 2000) {
    agent.push(`clock ${(Math.abs(d.clockOffsetMs) / 1000).toFixed(1)} s ${d.clockOffsetMs > 0 ? 'ahead' : 'behind'}`);
  }
  if (agent.length) rows.push(['Agent', agent.join(' · ')]);
  return rows;
}

/**
 * "device clock is 3 h 12 min behind; times corrected" when the hub stores this device's samples
 * on its own clock (the device is more than 2 minutes off), else null.
 */
export function clockWarning(d: DeviceSummary): string | null {
  if (!d.clockCorrected || d.clockOffsetMs === null) return null;
  const abs = Math.abs(d.clockOffsetMs);
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const size = days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
  return `device clock is ${size} ${d.clockOffsetMs > 0 ? 'ahead' : 'behind'}; times corrected`;
}

/**
 * "Clock stepped back 3 h 0 min at 14:02; 10,800 samples were re-timed": one line per clock
 * event the hub recorded (a backlog spooled on a clock that was then fixed), newest first.
 * Times are the browser's local time; the date is added when it is not today.
 */
export function clockEventNotes(events: readonly ClockEvent[], now: Date = new Date()): string[] {
  return events.map((e) => {
    const at = new Date(e.at);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
    const when = `${sameDay ? '' : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} `}${pad(at.getHours())}:${pad(at.getMinutes())}`;
    const n = e.samples.toLocaleString('en-US');
    return `Clock stepped ${e.stepMs > 0 ? 'back' : 'forward'} ${formatClockStep(e.stepMs)} at ${when}; ${n} sample${e.samples === 1 ? ' was' : 's were'} re-timed`;
  });
}
