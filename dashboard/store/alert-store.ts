// Alert tables (migration 8): rules, history, webhook settings. Reached as `store.alerts`; every
// statement is prepared once and takes parameters. History is bounded: each insert prunes the
// oldest rows past `maxEvents`, a few at a time, and never an alert that is still firing.
import type { Database as Db, Statement } from 'better-sqlite3';
import type { AlertEvent, AlertKind, AlertRule, AlertRuleInput, AlertSettings, AlertSettingsView, DeliveryStatus, ThresholdOp } from '../../shared/alerts.js';

/** GET /api/v1/alerts/settings: whether a signing secret exists and since when, never its value. */
export interface SigningSecret {
  secret: string;
  createdAt: number;
}

export const DEFAULT_MAX_ALERT_EVENTS = 10_000;
/** Rows removed per insert at most: one insert never pays for a large backlog at once. */
const PRUNE_BATCH = 50;

interface RuleRow {
  id: number;
  name: string;
  enabled: number;
  device: string | null;
  kind: AlertKind;
  metric: string | null;
  op: ThresholdOp | null;
  value: number | null;
  forMs: number;
  createdAt: number;
  updatedAt: number;
}

type EventRow = Omit<AlertEvent, 'alertId'> & { alertId: number | null };

/** What the engine knows when an alert fires. */
export interface FiringInput {
  rule: AlertRule;
  deviceId: string;
  deviceName: string;
  metric: string | null;
  value: number | null;
  startedAt: number;
  delivery: DeliveryStatus;
}

export interface ResolveInput {
  value: number | null;
  resolvedAt: number;
  note: string | null;
  delivery: DeliveryStatus;
}

export interface EventQuery {
  device?: string;
  rule?: number;
  /** Only rows with a smaller id (paging back through history). */
  beforeId?: number;
  limit: number;
}

const RULE_COLS =
  'id, name, enabled, device_id AS device, kind, metric, op, value, for_ms AS forMs, created_at AS createdAt, updated_at AS updatedAt';
const EVENT_COLS = [
  'id, alert_id AS alertId, rule_id AS ruleId, rule_name AS ruleName, kind, op, threshold, for_ms AS forMs',
  'device_id AS deviceId, device_name AS deviceName, metric, state, value, started_at AS startedAt, resolved_at AS resolvedAt',
  'note, delivery, attempts, last_error AS lastError, delivered_at AS deliveredAt',
].join(', ');
const OPEN = "state = 'firing' AND resolved_at IS NULL";

export class AlertStore {
  private readonly s: Record<string, Statement>;

  constructor(
    private readonly db: Db,
    private readonly maxEvents = DEFAULT_MAX_ALERT_EVENTS,
  ) {
    this.s = {
      rules: db.prepare(`SELECT ${RULE_COLS} FROM alert_rules ORDER BY id`),
      rule: db.prepare(`SELECT ${RULE_COLS} FROM alert_rules WHERE id = ?`),
      insertRule: db.prepare(
        'INSERT INTO alert_rules (name, enabled, device_id, kind, metric, op, value, for_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateRule: db.prepare(
        'UPDATE alert_rules SET name = ?, enabled = ?, device_id = ?, kind = ?, metric = ?, op = ?, value = ?, for_ms = ?, updated_at = ? WHERE id = ?',
      ),
      deleteRule: db.prepare('DELETE FROM alert_rules WHERE id = ?'),
      event: db.prepare(`SELECT ${EVENT_COLS} FROM alert_events WHERE id = ?`),
      open: db.prepare(`SELECT ${EVENT_COLS} FROM alert_events WHERE ${OPEN} ORDER BY id DESC`),
      // One statement for every filter: a NULL parameter switches its filter off.
      events: db.prepare(
        `SELECT ${EVENT_COLS} FROM alert_events
         WHERE (@device IS NULL OR device_id = @device) AND (@rule IS NULL OR rule_id = @rule) AND (@before IS NULL OR id < @before)
         ORDER BY id DESC LIMIT @limit`,
      ),
      insertFiring: db.prepare(
        `INSERT INTO alert_events (rule_id, rule_name, kind, op, threshold, for_ms, device_id, device_name, metric, state, value, started_at, delivery)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'firing', ?, ?, ?)`,
      ),
      closeFiring: db.prepare(`UPDATE alert_events SET resolved_at = ? WHERE id = ? AND ${OPEN}`),
      insertResolved: db.prepare(
        `INSERT INTO alert_events (alert_id, rule_id, rule_name, kind, op, threshold, for_ms, device_id, device_name, metric, state, value, started_at, resolved_at, note, delivery)
         SELECT id, rule_id, rule_name, kind, op, threshold, for_ms, device_id, device_name, metric, 'resolved', ?, started_at, ?, ?, ? FROM alert_events WHERE id = ?`,
      ),
      setDelivery: db.prepare('UPDATE alert_events SET delivery = ?, attempts = ?, last_error = ?, delivered_at = ? WHERE id = ?'),
      undelivered: db.prepare(
        `SELECT ${EVENT_COLS} FROM alert_events WHERE delivery IN ('pending', 'retrying') AND COALESCE(resolved_at, started_at) >= ? ORDER BY id LIMIT ?`,
      ),
      abandonUndelivered: db.prepare(
        "UPDATE alert_events SET delivery = 'failed', last_error = ? WHERE delivery IN ('pending', 'retrying') AND COALESCE(resolved_at, started_at) < ?",
      ),
      prune: db.prepare(
        `DELETE FROM alert_events WHERE id IN (SELECT id FROM alert_events WHERE id <= ? AND NOT (${OPEN}) ORDER BY id LIMIT ${PRUNE_BATCH})`,
      ),
      settings: db.prepare(
        'SELECT webhook_url AS webhookUrl, signing_secret_created_at AS createdAt, signing_secret IS NOT NULL AS has FROM alert_settings WHERE id = 1',
      ),
      secret: db.prepare('SELECT signing_secret AS secret, signing_secret_created_at AS createdAt FROM alert_settings WHERE id = 1 AND signing_secret IS NOT NULL'),
      // `keep` 1: only when none is set yet (first need); 0: replace (rotation).
      putSecret: db.prepare(
        `INSERT INTO alert_settings (id, webhook_url, updated_at, signing_secret, signing_secret_created_at) VALUES (1, NULL, @now, @secret, @now)
         ON CONFLICT(id) DO UPDATE SET signing_secret = excluded.signing_secret, signing_secret_created_at = excluded.signing_secret_created_at, updated_at = excluded.updated_at
         WHERE @keep = 0 OR signing_secret IS NULL`,
      ),
      setSettings: db.prepare(
        'INSERT INTO alert_settings (id, webhook_url, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET webhook_url = excluded.webhook_url, updated_at = excluded.updated_at',
      ),
    };
  }

  rules(): AlertRule[] {
    return (this.s.rules!.all() as RuleRow[]).map(toRule);
  }

  rule(id: number): AlertRule | undefined {
    const row = this.s.rule!.get(id) as RuleRow | undefined;
    return row && toRule(row);
  }

  insertRule(input: AlertRuleInput, now: number): AlertRule {
    const id = Number(this.s.insertRule!.run(...ruleParams(input), now, now).lastInsertRowid);
    return this.rule(id)!;
  }

  /** The rule as saved, or undefined when there is no rule `id`. */
  updateRule(id: number, input: AlertRuleInput, now: number): AlertRule | undefined {
    if (this.s.updateRule!.run(...ruleParams(input), now, id).changes === 0) return undefined;
    return this.rule(id);
  }

  deleteRule(id: number): boolean {
    return this.s.deleteRule!.run(id).changes > 0;
  }

  event(id: number): AlertEvent | undefined {
    const row = this.s.event!.get(id) as EventRow | undefined;
    return row && toEvent(row);
  }

  /** Alerts firing now (no resolution yet), newest first. */
  openAlerts(): AlertEvent[] {
    return (this.s.open!.all() as EventRow[]).map(toEvent);
  }

  events(q: EventQuery): AlertEvent[] {
    const rows = this.s.events!.all({ device: q.device ?? null, rule: q.rule ?? null, before: q.beforeId ?? null, limit: q.limit }) as EventRow[];
    return rows.map(toEvent);
  }

  insertFiring(f: FiringInput): AlertEvent {
    const r = f.rule;
    const threshold = r.kind === 'threshold' ? r.value : null;
    const op = r.kind === 'threshold' ? r.op : null;
    const id = this.db.transaction(() => {
      const inserted = Number(
        this.s.insertFiring!.run(r.id, r.name, r.kind, op, threshold, r.forMs, f.deviceId, f.deviceName, f.metric, f.value, f.startedAt, f.delivery).lastInsertRowid,
      );
      this.prune(inserted);
      return inserted;
    })();
    return this.event(id)!;
  }

  /**
   * Ends firing alert `alertId`: stamps its row and writes the resolution row, in one
   * transaction. Undefined when it is not firing (already resolved, or pruned).
   */
  resolve(alertId: number, r: ResolveInput): AlertEvent | undefined {
    const id = this.db.transaction(() => {
      if (this.s.closeFiring!.run(r.resolvedAt, alertId).changes === 0) return undefined;
      const inserted = Number(this.s.insertResolved!.run(r.value, r.resolvedAt, r.note, r.delivery, alertId).lastInsertRowid);
      this.prune(inserted);
      return inserted;
    })();
    return id === undefined ? undefined : this.event(id);
  }

  setDelivery(id: number, delivery: DeliveryStatus, attempts: number, lastError: string | null, deliveredAt: number | null): void {
    this.s.setDelivery!.run(delivery, attempts, lastError, deliveredAt, id);
  }

  /**
   * Deliveries a stopped hub left unfinished, oldest first: those since `since` (hub clock) to
   * resume; older ones are marked failed, a notification that late being noise.
   */
  takeUndelivered(since: number, limit: number): AlertEvent[] {
    this.s.abandonUndelivered!.run('the hub stopped before delivering it, too long ago to send now', since);
    return (this.s.undelivered!.all(since, limit) as EventRow[]).map(toEvent);
  }

  settings(): AlertSettings {
    const row = this.s.settings!.get() as { webhookUrl: string | null } | undefined;
    return { webhookUrl: row?.webhookUrl ?? null };
  }

  setSettings(settings: AlertSettings, now: number): AlertSettings {
    this.s.setSettings!.run(settings.webhookUrl, now);
    return this.settings();
  }

  /** The settings as the API shows them: the signing secret only as "set, since when". */
  settingsView(): AlertSettingsView {
    const row = this.s.settings!.get() as { webhookUrl: string | null; createdAt: number | null; has: number } | undefined;
    return { webhookUrl: row?.webhookUrl ?? null, hasSigningSecret: row?.has === 1, signingSecretCreatedAt: row?.has === 1 ? row.createdAt : null };
  }

  /** The current signing secret, created (with `create()`) when there is none yet. */
  signingSecret(create: () => string, now: number): SigningSecret {
    const existing = this.s.secret!.get() as SigningSecret | undefined;
    if (existing) return existing;
    this.s.putSecret!.run({ now, secret: create(), keep: 1 });
    return this.s.secret!.get() as SigningSecret;
  }

  /** Replaces the signing secret: the old one signs nothing from now on. */
  rotateSigningSecret(secret: string, now: number): SigningSecret {
    this.s.putSecret!.run({ now, secret, keep: 0 });
    return this.s.secret!.get() as SigningSecret;
  }

  /** Drops a few of the oldest rows once history is past maxEvents (ids only grow). */
  private prune(newestId: number): void {
    const cutoff = newestId - this.maxEvents;
    if (cutoff > 0) this.s.prune!.run(cutoff);
  }
}

function ruleParams(r: AlertRuleInput): [string, number, string | null, AlertKind, string | null, ThresholdOp | null, number | null, number] {
  return r.kind === 'threshold'
    ? [r.name, r.enabled ? 1 : 0, r.device, r.kind, r.metric, r.op, r.value, r.forMs]
    : [r.name, r.enabled ? 1 : 0, r.device, r.kind, null, null, null, r.forMs];
}

function toRule(row: RuleRow): AlertRule {
  const common = { id: row.id, name: row.name, enabled: row.enabled === 1, device: row.device, forMs: row.forMs, createdAt: row.createdAt, updatedAt: row.updatedAt };
  if (row.kind === 'offline') return { ...common, kind: 'offline' };
  return { ...common, kind: 'threshold', metric: row.metric ?? '', op: row.op ?? 'above', value: row.value ?? 0 };
}

function toEvent(row: EventRow): AlertEvent {
  return { ...row, alertId: row.alertId ?? row.id };
}
