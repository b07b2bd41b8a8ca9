// Alert evaluation: on a timer, every enabled rule against every device's newest values. A
// condition must hold on every tick for the rule's forMs before the alert fires (the wait is
// kept in memory, as Prometheus keeps "pending"); the alert resolves on the first tick it no
// longer holds. Firings and resolutions are rows in SQLite, handed to the webhook deliverer;
// alerts still firing are re-read at start, so a hub restart neither loses nor repeats them.
import type { AlertEvent, AlertRule } from '../../../shared/alerts.js';
import { metricGlobMatches } from '../../../shared/alerts.js';
import type { DeviceSummary } from '../../../shared/live.js';
import type { Logger } from '../../../shared/log.js';
import type { AlertStore } from '../../store/alert-store.js';
import { judge, ruleApplies, type Holding } from './conditions.js';
import { DeviceReadings } from './readings.js';

export const DEFAULT_EVAL_EVERY_MS = 2000;

export interface FleetView {
  list(): DeviceSummary[];
}

export interface EngineOptions {
  evalEveryMs?: number;
  /** Hub clock; tests may pass their own. */
  now?: () => number;
}

interface Firing {
  eventId: number;
  ruleId: number;
  deviceId: string;
  metric: string | null;
  /** Value on the last tick it held: what the resolution reports when the reading is gone. */
  lastValue: number | null;
}

interface Hold {
  rule: AlertRule;
  device: DeviceSummary;
  holding: Holding;
}

export class AlertEngine {
  private readonly firing = new Map<string, Firing>();
  /** Instances whose condition holds but not yet for forMs: since when (hub clock). */
  private readonly pending = new Map<string, number>();
  private readonly readings = new DeviceReadings();
  private readonly evalEveryMs: number;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private poked: ReturnType<typeof setTimeout> | undefined;
  private startedAt = 0;
  /** Set while evaluation fails, so the log says so once, not every tick. */
  private failing = false;

  constructor(
    private readonly store: AlertStore,
    private readonly fleet: FleetView,
    private readonly notify: (event: AlertEvent) => void,
    private readonly log: Logger,
    opts: EngineOptions = {},
  ) {
    this.evalEveryMs = opts.evalEveryMs ?? DEFAULT_EVAL_EVERY_MS;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.startedAt = this.now();
    // Newest first: a second open row for the same instance (should never exist) is ended.
    for (const e of this.store.openAlerts()) {
      const key = instanceKey(e.ruleId, e.deviceId, e.metric);
      if (this.firing.has(key)) this.resolve(key, { eventId: e.id, ruleId: e.ruleId, deviceId: e.deviceId, metric: e.metric, lastValue: e.value }, 'duplicate', this.startedAt);
      else this.firing.set(key, { eventId: e.id, ruleId: e.ruleId, deviceId: e.deviceId, metric: e.metric, lastValue: e.value });
    }
    if (this.firing.size > 0) this.log.info({ firing: this.firing.size }, 'alerts still firing from before the restart');
    this.timer = setInterval(() => this.tick(), this.evalEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.poked);
    this.timer = undefined;
  }

  /** Evaluates soon (a rule changed): the UI sees the effect without waiting for the timer. */
  poke(): void {
    if (this.timer === undefined || this.poked !== undefined) return;
    this.poked = setTimeout(() => {
      this.poked = undefined;
      this.tick();
    }, 0);
  }

  get firingCount(): number {
    return this.firing.size;
  }

  private tick(): void {
    try {
      this.evaluate(this.now());
      if (this.failing) this.log.info('alert evaluation works again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err }, 'alert evaluation failed; retrying every tick');
      this.failing = true;
    }
  }

  evaluate(now: number): void {
    const rules = this.store.rules();
    const devices = this.fleet.list();
    this.readings.update(devices, now);
    const holds = new Map<string, Hold>();
    /** (rule, device) pairs that cannot be judged now: their alerts keep their state. */
    const unknown = new Set<string>();
    for (const rule of rules) {
      for (const device of devices) {
        if (!ruleApplies(rule, device.id)) continue;
        const verdict = judge(rule, device, this.readings.of(device.id), now, this.startedAt);
        if (verdict.kind === 'unknown') unknown.add(pairKey(rule.id, device.id));
        else for (const holding of verdict.holding) holds.set(instanceKey(rule.id, device.id, holding.metric), { rule, device, holding });
      }
    }

    for (const [key, hold] of holds) {
      const firing = this.firing.get(key);
      if (firing) {
        firing.lastValue = hold.holding.value;
        continue;
      }
      let since = hold.holding.since;
      if (since === null) {
        since = this.pending.get(key) ?? now;
        this.pending.set(key, since);
        if (now - since < hold.rule.forMs) continue;
      }
      this.fire(key, hold, since);
    }
    for (const key of this.pending.keys()) if (!holds.has(key) || this.firing.has(key)) this.pending.delete(key);

    const ruleById = new Map(rules.map((r) => [r.id, r]));
    const deviceById = new Map(devices.map((d) => [d.id, d]));
    for (const [key, f] of this.firing) {
      if (holds.has(key) || unknown.has(pairKey(f.ruleId, f.deviceId))) continue;
      this.resolve(key, f, this.whyEnded(f, ruleById.get(f.ruleId), deviceById.get(f.deviceId)), now);
    }
  }

  private fire(key: string, hold: Hold, since: number): void {
    const delivery = this.store.settings().webhookUrl === null ? 'none' : 'pending';
    const { rule, device, holding } = hold;
    const event = this.store.insertFiring({ rule, deviceId: device.id, deviceName: device.name, metric: holding.metric, value: holding.value, startedAt: since, delivery });
    this.firing.set(key, { eventId: event.id, ruleId: rule.id, deviceId: device.id, metric: holding.metric, lastValue: holding.value });
    this.pending.delete(key);
    this.log.info({ rule: rule.name, device: device.id, metric: holding.metric, value: holding.value }, 'alert firing');
    if (delivery === 'pending') this.notify(event);
  }

  private resolve(key: string, f: Firing, note: string | null, now: number): void {
    const current = f.metric === null ? f.lastValue : (this.readings.of(f.deviceId).get(f.metric)?.v ?? null);
    const delivery = this.store.settings().webhookUrl === null ? 'none' : 'pending';
    const event = this.store.resolve(f.eventId, { value: current, resolvedAt: now, note, delivery });
    this.firing.delete(key);
    if (!event) return; // already ended (or pruned) in the database: nothing to announce
    this.log.info({ rule: event.ruleName, device: f.deviceId, metric: f.metric, note }, 'alert resolved');
    if (delivery === 'pending') this.notify(event);
  }

  /** Why an alert ended when it was not simply its condition clearing; null when it was. */
  private whyEnded(f: Firing, rule: AlertRule | undefined, device: DeviceSummary | undefined): string | null {
    if (!rule) return 'rule deleted';
    if (!rule.enabled) return 'rule disabled';
    if (!device) return 'device removed';
    if (!ruleApplies(rule, device.id)) return 'rule changed';
    if (rule.kind === 'offline') return f.metric === null ? null : 'rule changed';
    if (f.metric === null || !metricGlobMatches(rule.metric, f.metric)) return 'rule changed';
    return this.readings.of(device.id).has(f.metric) ? null : 'no data';
  }
}

function instanceKey(ruleId: number, deviceId: string, metric: string | null): string {
  return `${ruleId}\u0000${deviceId}\u0000${metric ?? ''}`;
}

function pairKey(ruleId: number, deviceId: string): string {
  return `${ruleId}\u0000${deviceId}`;
}
