// Which alert instances hold right now, for one rule and one device: pure, no clock reads,
// no storage. An instance is a (rule, device, metric) triple; offline rules have no metric.
import { metricGlobMatches, type AlertRule, type ThresholdCondition } from '../../../shared/alerts.js';
import type { DeviceSummary } from '../../../shared/live.js';

export interface Reading {
  v: number;
  /** Hub clock (ms) of the batch that carried it. */
  seenAt: number;
}

/** Newest value of each metric of a device, kept across samples (see DeviceReadings). */
export type Readings = ReadonlyMap<string, Reading>;

export interface Holding {
  metric: string | null;
  value: number;
  /**
   * Hub clock (ms) the condition has held since, when the rule can tell by itself (offline:
   * since the device was last heard from); null: since the engine first saw it hold.
   */
  since: number | null;
}

export type Verdict =
  /** The condition holds for these instances (possibly none). */
  | { kind: 'judged'; holding: Holding[] }
  /** Cannot tell now (a threshold rule on an offline device): alerts keep their state. */
  | { kind: 'unknown' };

export function ruleApplies(rule: AlertRule, deviceId: string): boolean {
  return rule.enabled && (rule.device === null || rule.device === deviceId);
}

/**
 * Offline rules: the device has no agent connected and was last heard from forMs ago or more.
 * `notBefore` is when the engine started: after a hub restart every device is offline until its
 * agent reconnects, which is not an outage of the device.
 */
export function judge(rule: AlertRule, device: DeviceSummary, readings: Readings, now: number, notBefore: number): Verdict {
  if (rule.kind === 'offline') {
    if (device.online) return { kind: 'judged', holding: [] };
    const lastHeard = device.lastSeen ?? device.firstSeen;
    const since = Math.max(lastHeard, notBefore);
    if (now - since < rule.forMs) return { kind: 'judged', holding: [] };
    return { kind: 'judged', holding: [{ metric: null, value: Math.max(0, Math.round((now - lastHeard) / 1000)), since }] };
  }
  // What an offline device measures now is unknown: neither fire nor resolve on old values.
  if (!device.online) return { kind: 'unknown' };
  const holding: Holding[] = [];
  for (const [metric, value] of matchingReadings(rule, readings)) {
    if (crosses(rule, value)) holding.push({ metric, value, since: null });
  }
  return { kind: 'judged', holding };
}

/** The readings a threshold rule looks at: one exact name, or every name its glob matches. */
export function matchingReadings(rule: ThresholdCondition, readings: Readings): [string, number][] {
  if (!rule.metric.includes('*')) {
    const r = readings.get(rule.metric);
    return r ? [[rule.metric, r.v]] : [];
  }
  const out: [string, number][] = [];
  for (const [name, r] of readings) if (metricGlobMatches(rule.metric, name)) out.push([name, r.v]);
  return out;
}

function crosses(rule: ThresholdCondition, v: number): boolean {
  return rule.op === 'above' ? v > rule.value : v < rule.value;
}
