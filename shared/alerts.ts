// Alerts as the hub's API and the browser see them: rules, events (a firing or a resolution,
// with its webhook delivery), settings, and the webhook's JSON body. Types and small pure
// helpers only, no validation library: the browser bundle imports this file. The hub checks
// API input with zod in dashboard/server/alerts/validate.ts.

export type ThresholdOp = 'above' | 'below';
export const THRESHOLD_OPS: readonly ThresholdOp[] = ['above', 'below'];

/**
 * A metric crossing a value: `metric` is a catalog name (`cpu.util`) or a glob whose `*` stands
 * for exactly one whole dotted segment (`gpu.*.temp` matches `gpu.0.temp`, not `gpu.0.temp.mem`).
 * Every matching metric of a device is its own alert.
 */
export interface ThresholdCondition {
  kind: 'threshold';
  metric: string;
  op: ThresholdOp;
  value: number;
  /** The condition must hold this long, without a break, before the alert fires (0: at once). */
  forMs: number;
}

/** No agent connected for forMs. */
export interface OfflineCondition {
  kind: 'offline';
  forMs: number;
}

export type AlertCondition = ThresholdCondition | OfflineCondition;
export type AlertKind = AlertCondition['kind'];

/** What a client sends to create or replace a rule. */
export type AlertRuleInput = AlertCondition & {
  name: string;
  enabled: boolean;
  /** A device id, or null for every device. */
  device: string | null;
};

export type AlertRule = AlertRuleInput & {
  id: number;
  /** Hub clock, ms. */
  createdAt: number;
  updatedAt: number;
};

export type AlertState = 'firing' | 'resolved';

/**
 * Where the webhook delivery of an event stands. `none`: no webhook was configured when it
 * happened; `pending`: queued; `retrying`: an attempt failed and another is scheduled;
 * `delivered`: the receiver answered 2xx; `failed`: every attempt failed (see lastError).
 */
export type DeliveryStatus = 'none' | 'pending' | 'retrying' | 'delivered' | 'failed';

/**
 * One row of alert history. A firing row is written when an alert fires and gets resolvedAt when
 * it ends; the end is also a row of its own (state `resolved`, alertId naming the firing row), so
 * each notification is one row with one delivery.
 */
export interface AlertEvent {
  id: number;
  /** Resolved rows: the firing row this one ends. Firing rows: their own id. */
  alertId: number;
  ruleId: number;
  /** The rule's name, kind and condition when this happened (the rule may have changed or gone since). */
  ruleName: string;
  kind: AlertKind;
  op: ThresholdOp | null;
  threshold: number | null;
  forMs: number;
  deviceId: string;
  deviceName: string;
  /** The metric for threshold alerts; null for offline ones. */
  metric: string | null;
  state: AlertState;
  /** The metric's value (threshold alerts) or seconds offline (offline alerts); null when unknown. */
  value: number | null;
  /** Hub clock, ms: when the condition began to hold (firing) and when it cleared (resolved). */
  startedAt: number;
  resolvedAt: number | null;
  /** Why an alert ended other than by its condition clearing, e.g. "rule deleted". */
  note: string | null;
  delivery: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface AlertSettings {
  /** http(s) URL the hub POSTs every firing and resolution to; null: none. */
  webhookUrl: string | null;
}

/** GET /api/v1/alerts/settings: the settings, and whether webhooks are signed (never the secret). */
export interface AlertSettingsView extends AlertSettings {
  hasSigningSecret: boolean;
  /** Hub clock, ms; null: none yet (one is created with the first delivery or a rotation). */
  signingSecretCreatedAt: number | null;
}

/** GET /api/v1/alerts/rules */
export interface AlertRulesResponse {
  rules: AlertRule[];
}
/** GET /api/v1/alerts/events: newest first. GET /api/v1/alerts/active: firing now, newest first. */
export interface AlertEventsResponse {
  events: AlertEvent[];
}
/** POST /api/v1/alerts/test */
export interface WebhookTestResponse {
  ok: boolean;
  /** The receiver's HTTP status; null when none came (refused, timeout, DNS…). */
  status: number | null;
  error: string | null;
}

/** The JSON body POSTed to the webhook for every firing and resolution (and a test). */
export interface WebhookPayload {
  source: 'edgewatch';
  version: 1;
  /** True for POST /api/v1/alerts/test only. */
  test: boolean;
  state: AlertState;
  /** The history row of this notification and of the alert it belongs to. */
  eventId: number;
  alertId: number;
  rule: { id: number; name: string; kind: AlertKind; op: ThresholdOp | null; threshold: number | null; forMs: number };
  device: { id: string; name: string };
  metric: string | null;
  value: number | null;
  threshold: number | null;
  /** Hub clock, ms since the epoch. */
  startedAt: number;
  resolvedAt: number | null;
  /** One line for chat receivers, e.g. "FIRING: GPU hot on jetson-1: gpu.0.temp 91.5 above 85". */
  summary: string;
  /** Path of the device page on the hub (prefix it with the hub's address). */
  link: string;
}

/** Whether metric `name` matches `glob` (a name, or one with `*` segments that match any one segment). */
export function metricGlobMatches(glob: string, name: string): boolean {
  if (!glob.includes('*')) return glob === name;
  const g = glob.split('.');
  const n = name.split('.');
  if (g.length !== n.length) return false;
  for (let i = 0; i < g.length; i++) if (g[i] !== '*' && g[i] !== n[i]) return false;
  return true;
}

/** The condition in words, e.g. "gpu.*.temp above 85 for 1 min" or "offline for 2 min". */
export function describeCondition(c: AlertCondition): string {
  const lasting = c.forMs > 0 ? ` for ${formatForMs(c.forMs)}` : '';
  return c.kind === 'offline' ? `offline${lasting || ' (at once)'}` : `${c.metric} ${c.op} ${formatNumber(c.value)}${lasting}`;
}

/** 0 → "0 s", 90 000 → "1 min 30 s", 7 200 000 → "2 h". */
export function formatForMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : '', rest ? `${rest} s` : ''].filter(Boolean).join(' ');
}

/** A value as people read it: at most 4 significant digits, no exponent for ordinary sizes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** The device page of the dashboard, as a path from the hub's root. */
export function deviceLinkPath(deviceId: string): string {
  return `/#/device/${encodeURIComponent(deviceId)}`;
}
