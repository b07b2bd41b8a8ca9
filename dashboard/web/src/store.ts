// What the browser knows about the fleet: the latest summary of every device (from the
// snapshot, `device` frames and the REST list) plus a short CPU history per device for the
// fleet sparklines. Pages subscribe to changes instead of talking to the socket themselves.
import type { DeviceSummary, LiveFrame } from '../../../shared/live.js';
import type { Sample } from '../../../shared/protocol.js';

export interface TimedValue {
  t: number;
  v: number;
}

/** How much CPU history the fleet sparklines keep and show. */
export const SPARK_WINDOW_MS = 10 * 60_000;
const SPARK_MAX_POINTS = 1200;

type ChangeListener = (deviceId: string | null) => void;
type SamplesListener = (deviceId: string, samples: Sample[]) => void;

export class FleetStore {
  readonly devices = new Map<string, DeviceSummary>();
  /** True once a snapshot or the REST list has arrived: before that, "no devices" is unknown. */
  loaded = false;
  private readonly cpu = new Map<string, TimedValue[]>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly samplesListeners = new Set<SamplesListener>();

  /** `deviceId` is null when the whole list changed. */
  onChange(fn: ChangeListener): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  onSamples(fn: SamplesListener): () => void {
    this.samplesListeners.add(fn);
    return () => this.samplesListeners.delete(fn);
  }

  applyFrame(frame: LiveFrame): void {
    switch (frame.type) {
      case 'snapshot':
        this.setDevices(frame.devices);
        break;
      case 'device':
        this.upsert(frame.device);
        break;
      case 'samples':
        this.addSamples(frame.deviceId, frame.samples);
        break;
    }
  }

  setDevices(list: DeviceSummary[]): void {
    const ids = new Set(list.map((d) => d.id));
    for (const id of this.devices.keys()) if (!ids.has(id)) this.devices.delete(id);
    for (const d of list) this.merge(d);
    this.loaded = true;
    this.emitChange(null);
  }

  upsert(device: DeviceSummary): void {
    const isNew = !this.devices.has(device.id);
    this.merge(device);
    this.emitChange(isNew ? null : device.id);
  }

  cpuHistory(id: string): readonly TimedValue[] {
    return this.cpu.get(id) ?? [];
  }

  /**
   * Fills the sparkline history from the series API: a bucket is kept where the live feed has
   * nothing in it (before the page opened, or while the socket listened to one device only).
   */
  backfillCpu(id: string, points: readonly TimedValue[], stepMs: number): void {
    const live = this.cpu.get(id) ?? [];
    const merged: TimedValue[] = [];
    let j = 0;
    for (const p of points) {
      while (j < live.length && live[j]!.t < p.t) merged.push(live[j++]!);
      const next = live[j];
      if (!next || next.t >= p.t + Math.max(stepMs, 1)) merged.push(p);
    }
    while (j < live.length) merged.push(live[j++]!);
    this.cpu.set(id, merged);
    this.trimCpu(id);
    this.emitChange(id);
  }

  private merge(d: DeviceSummary): void {
    const prev = this.devices.get(d.id);
    // A summary fetched over REST can be older than samples already streamed: keep the newer latest.
    if (prev?.latest && (!d.latest || d.latest.t < prev.latest.t)) {
      this.devices.set(d.id, { ...d, latest: prev.latest });
    } else {
      this.devices.set(d.id, d);
    }
    if (d.latest) this.pushCpu(d.id, d.latest);
  }

  private addSamples(deviceId: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    const d = this.devices.get(deviceId);
    if (d) {
      let latest = d.latest;
      for (const s of samples) if (!latest || s.t >= latest.t) latest = s;
      if (latest !== d.latest) this.devices.set(deviceId, { ...d, latest });
    }
    for (const s of samples) this.pushCpu(deviceId, s);
    for (const fn of this.samplesListeners) fn(deviceId, samples);
    if (d) this.emitChange(deviceId);
  }

  private pushCpu(id: string, s: Sample): void {
    const v = s.m['cpu.util'];
    if (v === undefined || !Number.isFinite(v)) return;
    let arr = this.cpu.get(id);
    if (!arr) this.cpu.set(id, (arr = []));
    const last = arr[arr.length - 1];
    if (last && s.t <= last.t) return;
    arr.push({ t: s.t, v });
    this.trimCpu(id);
  }

  private trimCpu(id: string): void {
    const arr = this.cpu.get(id);
    const last = arr?.[arr.length - 1];
    if (!arr || !last) return;
    const cutoff = last.t - SPARK_WINDOW_MS;
    let drop = 0;
    while (drop < arr.length && arr[drop]!.t < cutoff) drop++;
    drop = Math.max(drop, arr.length - SPARK_MAX_POINTS);
    if (drop > 0) arr.splice(0, drop);
  }

  private emitChange(id: string | null): void {
    for (const fn of this.changeListeners) fn(id);
  }
}
