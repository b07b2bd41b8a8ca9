// The newest value of every metric of every device, as the engine sees it between ticks. A
// device summary holds only its newest sample, and a sample may lack a metric for a tick (a
// collector that failed once): keeping each metric's last value until it is stale stops such
// a gap from resolving an alert and firing it again a moment later.
import type { DeviceSummary } from '../../../shared/live.js';
import type { Reading, Readings } from './conditions.js';

/** A value is used this long after its batch at least; longer for devices that report slowly. */
const MIN_STALE_MS = 30_000;
const STALE_INTERVALS = 5;

interface DeviceMemo {
  /** Device-clock time of the newest sample folded in. */
  t: number;
  values: Map<string, Reading>;
}

export class DeviceReadings {
  private readonly memo = new Map<string, DeviceMemo>();

  /** Folds in each device's newest sample and forgets stale values and vanished devices. */
  update(devices: readonly DeviceSummary[], now: number): void {
    const listed = new Set<string>();
    for (const d of devices) {
      listed.add(d.id);
      let memo = this.memo.get(d.id);
      if (!memo) {
        memo = { t: Number.NEGATIVE_INFINITY, values: new Map() };
        this.memo.set(d.id, memo);
      }
      const latest = d.latest;
      if (latest && latest.t !== memo.t) {
        memo.t = latest.t;
        // When the hub committed it, not now: after a restart the stored sample may be old.
        const seenAt = d.lastSeen ?? now;
        for (const [name, v] of Object.entries(latest.m)) if (Number.isFinite(v)) memo.values.set(name, { v, seenAt });
      }
      const staleBefore = now - Math.max(MIN_STALE_MS, STALE_INTERVALS * (d.intervalMs ?? 1000));
      for (const [name, r] of memo.values) if (r.seenAt < staleBefore) memo.values.delete(name);
    }
    for (const id of this.memo.keys()) if (!listed.has(id)) this.memo.delete(id);
  }

  of(deviceId: string): Readings {
    return this.memo.get(deviceId)?.values ?? EMPTY;
  }
}

const EMPTY: Readings = new Map();
