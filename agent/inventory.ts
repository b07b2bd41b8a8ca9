// Static facts about the device, read ONCE at start-up with systeminformation. Several of
// its calls spawn shell pipelines on Linux, which is fine once and far too costly every
// second on a Pi: per-tick values come from the collectors reading /proc and /sys instead.
import si from 'systeminformation';
import type { Logger } from '../shared/log.js';
import type { Inventory } from '../shared/protocol.js';

const TIMEOUT_MS = 15_000;

export async function readInventory(log: Logger): Promise<Inventory> {
  const inventory: Inventory = {};
  const tasks: Promise<unknown>[] = [
    si.osInfo().then((os) => {
      inventory.os = { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch };
    }),
    si.cpu().then((cpu) => {
      inventory.cpu = {
        manufacturer: cpu.manufacturer,
        brand: cpu.brand,
        cores: cpu.cores,
        physicalCores: cpu.physicalCores,
        ...(cpu.speedMax ? { speedMaxMHz: Math.round(cpu.speedMax * 1000) } : {}),
      };
    }),
    si.system().then((sys) => {
      inventory.system = { manufacturer: sys.manufacturer, model: sys.model, virtual: sys.virtual };
    }),
    si.baseboard().then((board) => {
      if (board.model || board.manufacturer) inventory.board = { manufacturer: board.manufacturer, model: board.model };
    }),
    si.mem().then((mem) => {
      inventory.memTotalBytes = mem.total;
    }),
  ];
  const settled = await Promise.race([
    Promise.allSettled(tasks),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref()),
  ]);
  if (settled === 'timeout') log.warn({ timeoutMs: TIMEOUT_MS }, 'inventory incomplete: systeminformation was too slow');
  else for (const r of settled) if (r.status === 'rejected') log.debug({ err: r.reason }, 'an inventory probe failed');
  return trimStrings(inventory);
}

/** systeminformation pads some fields and may return very long strings; keep what fits the protocol. */
function trimStrings<T>(value: T): T {
  if (typeof value === 'string') return value.trim().slice(0, 256) as T;
  if (Array.isArray(value)) return value.map(trimStrings) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, trimStrings(v)]),
    ) as T;
  }
  return value;
}
