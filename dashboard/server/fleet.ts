// Which devices are connected right now, and their summaries as the API and the live feed
// show them. Connection state lives only in memory: after a hub restart every device is
// offline until its agent reconnects, which is the truth.
import type { DeviceSummary } from '../../shared/live.js';
import type { DeviceRow, Store } from '../store/store.js';

export class Fleet {
  private readonly openSockets = new Map<string, number>();

  constructor(private readonly store: Store) {}

  isOnline(deviceId: string): boolean {
    return (this.openSockets.get(deviceId) ?? 0) > 0;
  }

  connected(deviceId: string): void {
    this.openSockets.set(deviceId, (this.openSockets.get(deviceId) ?? 0) + 1);
  }

  disconnected(deviceId: string): void {
    const n = (this.openSockets.get(deviceId) ?? 0) - 1;
    if (n > 0) this.openSockets.set(deviceId, n);
    else this.openSockets.delete(deviceId);
  }

  get onlineCount(): number {
    return this.openSockets.size;
  }

  summarise(row: DeviceRow): DeviceSummary {
    return {
      id: row.id,
      name: row.name,
      hostname: row.hostname,
      online: this.isOnline(row.id),
      lastSeen: row.lastSeen,
      firstSeen: row.firstSeen,
      intervalMs: row.intervalMs,
      agentVersion: row.agentVersion,
      capabilities: row.capabilities,
      inventory: row.inventory,
      latest: row.latest,
      clockOffsetMs: row.clockOffsetMs,
      clockCorrected: row.clockCorrected,
      droppedSamples: row.droppedSamples,
      ...(row.demo ? { demo: true as const } : {}),
    };
  }

  list(): DeviceSummary[] {
    return this.store.listDevices().map((row) => this.summarise(row));
  }

  get(deviceId: string): DeviceSummary | undefined {
    const row = this.store.getDevice(deviceId);
    return row && this.summarise(row);
  }
}
