// The alerts page (`#/alerts`): what fires now, the rules (switch on and off, edit, delete), a
// form to add one (templates fill it in), the webhook, and the history with each notification's
// delivery. Polled every few seconds while shown. Rule, device and metric names are untrusted:
// textContent only.
import type { AlertEvent, AlertRule, AlertRuleInput, AlertSettingsView } from '../../../shared/alerts.js';
import {
  activeAlerts,
  alertHistory,
  createRule,
  deleteRule,
  getAlertSettings,
  listRules,
  rotateSigningSecret,
  saveAlertSettings,
  testWebhook,
  updateRule,
} from './alerts-api.js';
import {
  conditionText,
  deliveryText,
  DURATION_UNITS,
  eventConditionText,
  eventTestText,
  eventValueText,
  lastingText,
  metricSuggestions,
  readRuleForm,
  ruleFormFields,
  scopeText,
  TEMPLATES,
  type RuleFormFields,
} from './alerts-model.js';
import { clear, fillDeviceSelect, h, setText } from './dom.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';
import type { FleetStore } from './store.js';
import { fullTime } from './time-axis.js';

const POLL_MS = 3000;
const HISTORY_ROWS = 200;
/** A delete button asks again for this long before it goes back to "Delete". */
const CONFIRM_MS = 4000;

const shortTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class AlertsPage implements Page {
  readonly el: HTMLElement;
  private readonly summary = h('p', { class: 'fleet-summary', attrs: { 'aria-live': 'polite' } });
  private readonly firingList = h('div', { class: 'alert-list' });
  private readonly firingEmpty = h('p', { class: 'alerts-ok', text: 'Nothing is firing.' });
  private readonly rulesBody = h('tbody');
  private readonly rulesTable: HTMLTableElement;
  private readonly rulesEmpty = h('p', { class: 'muted alerts-empty', text: 'No rules yet: pick a template on the right, or write one.' });
  private readonly historyBody = h('tbody');
  private readonly historyTable: HTMLTableElement;
  private readonly historyEmpty = h('p', { class: 'muted alerts-empty', text: 'No alert has fired yet.' });
  private readonly historyDevice = h('select', { class: 'alerts-select', attrs: { 'aria-label': 'History of device' } });
  private readonly loadError = h('p', { class: 'alerts-error', attrs: { role: 'alert', hidden: true } });
  private readonly form: RuleForm;
  private readonly webhook: WebhookPanel;
  private rules: AlertRule[] = [];
  private firing: AlertEvent[] = [];
  private history: AlertEvent[] = [];
  private historyFilter: string | null = null;
  private renderedRules = '';
  private renderedHistory = '';
  private abort: AbortController | null = null;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private readonly offs: (() => void)[] = [];
  private destroyed = false;

  constructor(private readonly store: FleetStore) {
    this.form = new RuleForm(store, () => void this.load(), () => this.renderRules());
    this.webhook = new WebhookPanel();
    this.rulesTable = h(
      'table',
      { class: 'data-table alerts-rules' },
      h('thead', null, h('tr', null, h('th', { text: 'On' }), h('th', { text: 'Rule' }), h('th', { text: 'Devices' }), h('th', { text: 'Firing', class: 'num' }), h('th', null, h('span', { class: 'sr-only', text: 'Actions' })))),
      this.rulesBody,
    );
    this.historyTable = h(
      'table',
      { class: 'data-table alerts-history' },
      h('thead', null, h('tr', null, ...['Time', 'Event', 'Rule', 'Device', 'Value', 'Webhook'].map((t) => h('th', { text: t })))),
      this.historyBody,
    );
    this.historyDevice.addEventListener('change', () => {
      this.historyFilter = this.historyDevice.value || null;
      void this.load();
    });
    this.el = h(
      'section',
      { class: 'page alerts-page', data: { page: 'alerts' } },
      h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' }, text: '← Fleet' })),
      h('div', { class: 'page-head' }, h('h1', { text: 'Alerts' }), this.summary),
      this.loadError,
      h(
        'section',
        { class: 'panel alerts-firing', data: { section: 'firing' }, attrs: { 'aria-labelledby': 'alerts-firing-title' } },
        h('div', { class: 'panel-head' }, h('h2', { attrs: { id: 'alerts-firing-title' }, text: 'Firing now' })),
        this.firingList,
        this.firingEmpty,
      ),
      h(
        'div',
        { class: 'alerts-layout' },
        h(
          'div',
          { class: 'alerts-main' },
          h(
            'section',
            { class: 'panel', data: { section: 'rules' }, attrs: { 'aria-labelledby': 'alerts-rules-title' } },
            h('div', { class: 'panel-head' }, h('h2', { attrs: { id: 'alerts-rules-title' }, text: 'Rules' })),
            h('div', { class: 'table-wrap alerts-table-wrap' }, this.rulesTable),
            this.rulesEmpty,
          ),
          h(
            'section',
            { class: 'panel', data: { section: 'history' }, attrs: { 'aria-labelledby': 'alerts-history-title' } },
            h('div', { class: 'panel-head' }, h('h2', { attrs: { id: 'alerts-history-title' }, text: 'History' }), h('span', { class: 'panel-tools' }, this.historyDevice)),
            h('div', { class: 'table-wrap alerts-table-wrap' }, this.historyTable),
            this.historyEmpty,
          ),
        ),
        h('aside', { class: 'alerts-side' }, this.form.el, this.webhook.el),
      ),
    );
  }

  mount(): void {
    document.title = 'Alerts · edgewatch';
    setText(this.summary, 'Loading…');
    this.offs.push(
      this.store.onChange(() => {
        this.form.renderDevices();
        this.renderDeviceFilter();
      }),
    );
    this.form.renderDevices();
    this.renderDeviceFilter();
    void this.webhook.load();
    void this.load();
    this.pollTimer = setInterval(() => void this.load(), POLL_MS);
  }

  destroy(): void {
    this.destroyed = true;
    for (const off of this.offs) off();
    this.abort?.abort();
    clearInterval(this.pollTimer);
  }

  resync(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    this.abort?.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    this.el.dataset.loading = 'true';
    try {
      const [rules, firing, history] = await Promise.all([
        listRules(ctl.signal),
        activeAlerts(ctl.signal),
        alertHistory({ device: this.historyFilter, limit: HISTORY_ROWS }, ctl.signal),
      ]);
      if (ctl.signal.aborted || this.destroyed) return;
      this.rules = rules;
      this.firing = firing;
      this.history = history;
      this.loadError.hidden = true;
      this.el.dataset.loading = 'false';
      this.render();
    } catch (err) {
      if (ctl.signal.aborted || this.destroyed) return;
      this.el.dataset.loading = 'false';
      this.loadError.hidden = false;
      setText(this.loadError, `Could not load alerts: ${(err as Error).message}`);
    }
  }

  private deviceNames(): Map<string, string> {
    const names = new Map<string, string>();
    for (const d of this.store.devices.values()) names.set(d.id, d.name);
    return names;
  }

  private render(): void {
    const n = this.firing.length;
    setText(this.summary, `${n === 0 ? 'nothing' : n} firing · ${this.rules.length} rule${this.rules.length === 1 ? '' : 's'}`);
    this.el.dataset.firing = String(n);
    this.renderFiring();
    this.renderRules();
    this.renderHistory();
  }

  private renderFiring(): void {
    const now = Date.now();
    clear(this.firingList);
    for (const e of this.firing) {
      const d = deliveryText(e);
      this.firingList.append(
        h(
          'div',
          { class: 'alert-item', data: { 'alert-id': e.id, 'rule-id': e.ruleId, 'device-id': e.deviceId } },
          h('span', { class: 'alert-dot', attrs: { 'aria-hidden': 'true' } }),
          h(
            'div',
            { class: 'alert-main' },
            h(
              'div',
              { class: 'alert-title' },
              h('strong', { class: 'alert-rule', text: e.ruleName }),
              h('span', { class: 'muted', text: ' on ' }),
              h('a', { class: 'alert-device', attrs: { href: deviceHref(e.deviceId), title: e.deviceId }, text: e.deviceName || e.deviceId }),
            ),
            h(
              'div',
              { class: 'alert-detail' },
              e.metric ? h('span', { class: 'mono', text: e.metric }) : null,
              h('span', { class: 'alert-value', data: { field: 'value' }, text: eventValueText(e) }),
              h('span', { class: 'muted', text: `(rule: ${eventTestText(e)})` }),
            ),
          ),
          h(
            'div',
            { class: 'alert-side' },
            h('span', { class: 'alert-since', attrs: { title: `since ${fullTime(e.startedAt)}` }, text: `for ${lastingText(e.startedAt, now)}` }),
            h('span', { class: `delivery delivery-${d.tone}`, data: { delivery: e.delivery }, attrs: { title: d.title || null }, text: d.text }),
          ),
        ),
      );
    }
    this.firingEmpty.hidden = this.firing.length > 0;
    this.firingList.hidden = this.firing.length === 0;
  }

  private renderRules(): void {
    const firingByRule = new Map<number, number>();
    for (const e of this.firing) firingByRule.set(e.ruleId, (firingByRule.get(e.ruleId) ?? 0) + 1);
    const names = this.deviceNames();
    // Rebuilt only when something shown changed: a rebuild would drop a pending "Confirm delete".
    const key = JSON.stringify([this.rules, [...firingByRule], this.form.editing, [...names]]);
    if (key === this.renderedRules) return;
    this.renderedRules = key;
    clear(this.rulesBody);
    for (const rule of this.rules) this.rulesBody.append(this.ruleRow(rule, firingByRule.get(rule.id) ?? 0, names));
    this.rulesTable.hidden = this.rules.length === 0;
    this.rulesEmpty.hidden = this.rules.length > 0;
  }

  private ruleRow(rule: AlertRule, firing: number, names: Map<string, string>): HTMLTableRowElement {
    const toggle = h('input', { attrs: { type: 'checkbox', 'aria-label': `Rule ${rule.name} on` }, data: { action: 'toggle' } });
    toggle.checked = rule.enabled;
    toggle.addEventListener('change', () => {
      toggle.disabled = true;
      void updateRule(rule.id, { ...inputOf(rule), enabled: toggle.checked })
        .then(() => this.load())
        .catch((err: Error) => {
          toggle.checked = rule.enabled;
          this.showError(`Could not switch "${rule.name}" ${rule.enabled ? 'off' : 'on'}: ${err.message}`);
        })
        .finally(() => (toggle.disabled = false));
    });
    const edit = h('button', { class: 'btn btn-small', text: 'Edit', attrs: { type: 'button' }, data: { action: 'edit' } });
    edit.addEventListener('click', () => this.form.edit(rule));
    const del = h('button', { class: 'btn btn-small btn-danger', text: 'Delete', attrs: { type: 'button' }, data: { action: 'delete' } });
    let confirmTimer: ReturnType<typeof setTimeout> | undefined;
    del.addEventListener('click', () => {
      if (del.dataset.confirm !== 'true') {
        del.dataset.confirm = 'true';
        setText(del, 'Confirm delete');
        confirmTimer = setTimeout(() => {
          del.dataset.confirm = 'false';
          setText(del, 'Delete');
        }, CONFIRM_MS);
        return;
      }
      clearTimeout(confirmTimer);
      del.disabled = true;
      void deleteRule(rule.id)
        .then(() => {
          if (this.form.editing === rule.id) this.form.reset();
          return this.load();
        })
        .catch((err: Error) => this.showError(`Could not delete "${rule.name}": ${err.message}`))
        .finally(() => (del.disabled = false));
    });
    return h(
      'tr',
      { data: { 'rule-id': rule.id, enabled: String(rule.enabled), editing: String(this.form.editing === rule.id) }, class: rule.enabled ? undefined : 'is-off' },
      h('td', { class: 'alerts-toggle' }, toggle),
      h(
        'td',
        { class: 'alerts-rule-cell' },
        h('div', { class: 'alerts-rule-name', text: rule.name, attrs: { title: rule.name } }),
        h('div', { class: 'alerts-rule-cond mono', text: conditionText(rule) }),
      ),
      h('td', { class: 'alerts-scope', text: scopeText(rule.device, names), attrs: { title: rule.device ?? 'every device' } }),
      h('td', { class: 'num' }, firing > 0 ? h('span', { class: 'badge badge-firing', text: String(firing) }) : h('span', { class: 'muted', text: '0' })),
      h('td', { class: 'alerts-actions' }, edit, del),
    );
  }

  private renderHistory(): void {
    const key = JSON.stringify(this.history);
    if (key === this.renderedHistory) return;
    this.renderedHistory = key;
    clear(this.historyBody);
    for (const e of this.history) {
      const d = deliveryText(e);
      const resolved = e.state === 'resolved';
      const when = resolved ? (e.resolvedAt ?? e.startedAt) : e.startedAt;
      this.historyBody.append(
        h(
          'tr',
          { data: { 'event-id': e.id, 'alert-id': e.alertId, state: e.state, delivery: e.delivery } },
          h('td', { text: shortTime.format(new Date(when)), attrs: { title: fullTime(when) } }),
          h(
            'td',
            { class: 'alerts-event' },
            h('span', { class: `badge ${resolved ? 'badge-resolved' : 'badge-firing'}`, text: resolved ? 'resolved' : 'firing' }),
            resolved ? h('span', { class: 'muted alerts-note', text: ` after ${lastingText(e.startedAt, when)}${e.note ? ` · ${e.note}` : ''}` }) : null,
          ),
          h(
            'td',
            { class: 'alerts-rule-cell' },
            h('div', { class: 'alerts-rule-name', text: e.ruleName, attrs: { title: e.ruleName } }),
            h('div', { class: 'alerts-rule-cond mono', text: e.metric ?? eventConditionText(e) }),
          ),
          h('td', { class: 'alerts-scope' }, h('a', { attrs: { href: deviceHref(e.deviceId), title: e.deviceId }, text: e.deviceName || e.deviceId })),
          h('td', { class: 'alerts-value', text: eventValueText(e) }),
          h('td', null, h('span', { class: `delivery delivery-${d.tone}`, attrs: { title: d.title || null }, text: d.text })),
        ),
      );
    }
    this.historyTable.hidden = this.history.length === 0;
    this.historyEmpty.hidden = this.history.length > 0;
  }

  private renderDeviceFilter(): void {
    const opts = [...this.deviceNames()];
    if (this.historyFilter && !opts.some(([id]) => id === this.historyFilter)) opts.push([this.historyFilter, this.historyFilter]);
    fillDeviceSelect(this.historyDevice, opts, this.historyFilter);
  }

  private showError(message: string): void {
    this.loadError.hidden = false;
    setText(this.loadError, message);
  }
}

/** A rule without its id and times: what PUT takes. */
function inputOf(rule: AlertRule): AlertRuleInput {
  const common = { name: rule.name, enabled: rule.enabled, device: rule.device, forMs: rule.forMs };
  return rule.kind === 'offline' ? { ...common, kind: 'offline' } : { ...common, kind: 'threshold', metric: rule.metric, op: rule.op, value: rule.value };
}

/** The add/edit form, with the templates above it. */
class RuleForm {
  readonly el: HTMLElement;
  /** The rule being edited; null while adding a new one. */
  editing: number | null = null;
  private readonly title = h('h2', { attrs: { id: 'alerts-form-title' }, text: 'New rule' });
  private readonly name = input('name', 'text', { maxlength: 100, autocomplete: 'off', placeholder: 'e.g. GPU hot' });
  private readonly kind = select('kind', [
    ['threshold', 'A metric crosses a value'],
    ['offline', 'The device goes offline'],
  ]);
  private readonly metric = input('metric', 'text', { list: 'alerts-metric-names', autocomplete: 'off', spellcheck: 'false', placeholder: 'cpu.util or gpu.*.temp' });
  private readonly metricList = h('datalist', { attrs: { id: 'alerts-metric-names' } });
  private readonly op = select('op', [
    ['above', 'above'],
    ['below', 'below'],
  ]);
  private readonly value = input('value', 'number', { step: 'any', inputmode: 'decimal' });
  private readonly forAmount = input('forAmount', 'number', { min: 0, step: 'any', inputmode: 'decimal' });
  private readonly forUnit = select(
    'forUnit',
    DURATION_UNITS.map((u) => [u.unit, u.label]),
  );
  private readonly device = select('device', [['', 'Every device']]);
  private readonly enabled = h('input', { attrs: { type: 'checkbox', name: 'enabled' } });
  private readonly thresholdFields: HTMLElement;
  private readonly error = h('p', { class: 'alerts-error', data: { form: 'error' }, attrs: { role: 'alert', hidden: true } });
  private readonly save = h('button', { class: 'btn btn-primary', text: 'Add rule', attrs: { type: 'submit' }, data: { action: 'save-rule' } });
  private readonly cancel = h('button', { class: 'btn', text: 'Cancel', attrs: { type: 'button', hidden: true }, data: { action: 'cancel-edit' } });
  private busy = false;

  constructor(
    private readonly store: FleetStore,
    private readonly onSaved: () => void,
    /** Adding or editing changed: the rules table marks the rule being edited. */
    private readonly onModeChange: () => void,
  ) {
    const templates = h('div', { class: 'alerts-templates', attrs: { role: 'group', 'aria-label': 'Templates' } });
    for (const t of TEMPLATES) {
      const b = h('button', { class: 'template-btn', text: t.label, attrs: { type: 'button', title: t.hint }, data: { template: t.id } });
      b.addEventListener('click', () => {
        this.fill(ruleFormFields(t.input));
        this.name.focus();
      });
      templates.append(b);
    }
    this.thresholdFields = h(
      'div',
      { class: 'alerts-threshold' },
      field('Metric', this.metric),
      h('div', { class: 'alerts-row' }, field('When it is', this.op), field('Value', this.value)),
    );
    const form = h(
      'form',
      { class: 'alerts-form', attrs: { novalidate: true, 'aria-labelledby': 'alerts-form-title' } },
      field('Name', this.name),
      field('Watch', this.kind),
      this.thresholdFields,
      h('div', { class: 'alerts-row' }, field('For', this.forAmount), field('Unit', this.forUnit)),
      field('Devices', this.device),
      h('label', { class: 'alerts-check' }, this.enabled, h('span', { text: 'On' })),
      this.error,
      h('div', { class: 'alerts-buttons' }, this.save, this.cancel),
      this.metricList,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    this.kind.addEventListener('change', () => this.syncKind());
    this.cancel.addEventListener('click', () => this.reset());
    this.el = h(
      'section',
      { class: 'panel alerts-form-panel', data: { section: 'rule-form' }, attrs: { 'aria-labelledby': 'alerts-form-title' } },
      h('div', { class: 'panel-head' }, this.title),
      h('p', { class: 'muted alerts-hint', text: 'Start from a template:' }),
      templates,
      form,
    );
    this.blank();
  }

  edit(rule: AlertRule): void {
    this.editing = rule.id;
    this.fill(ruleFormFields(inputOf(rule)));
    setText(this.title, `Edit rule: ${rule.name}`);
    setText(this.save, 'Save rule');
    this.cancel.hidden = false;
    this.el.dataset.mode = 'edit';
    this.el.scrollIntoView({ block: 'nearest' });
    this.name.focus();
    this.onModeChange();
  }

  reset(): void {
    this.blank();
    this.onModeChange();
  }

  private blank(): void {
    this.editing = null;
    this.fill({ name: '', kind: 'threshold', metric: '', op: 'above', value: '', forAmount: '1', forUnit: 'min', device: '', enabled: true });
    setText(this.title, 'New rule');
    setText(this.save, 'Add rule');
    this.cancel.hidden = true;
    this.el.dataset.mode = 'new';
  }

  /** Device choices and metric suggestions follow the fleet. */
  renderDevices(): void {
    const devices = [...this.store.devices.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const wanted = this.device.value;
    const opts: [string, string][] = [['', 'Every device'], ...devices.map((d): [string, string] => [d.id, d.name === d.id ? d.id : `${d.name} (${d.id})`])];
    if (wanted && !opts.some(([id]) => id === wanted)) opts.push([wanted, wanted]);
    const key = JSON.stringify(opts);
    if (this.device.dataset.key !== key) {
      this.device.dataset.key = key;
      clear(this.device);
      for (const [value, label] of opts) this.device.append(h('option', { text: label, attrs: { value } }));
      this.device.value = wanted;
    }
    const names = metricSuggestions(devices.map((d) => d.latest?.m));
    const listKey = names.join(',');
    if (this.metricList.dataset.key !== listKey) {
      this.metricList.dataset.key = listKey;
      clear(this.metricList);
      for (const n of names) this.metricList.append(h('option', { attrs: { value: n } }));
    }
  }

  private fill(f: RuleFormFields): void {
    this.name.value = f.name;
    this.kind.value = f.kind;
    this.metric.value = f.metric;
    this.op.value = f.op;
    this.value.value = f.value;
    this.forAmount.value = f.forAmount;
    this.forUnit.value = f.forUnit;
    if (f.device && ![...this.device.options].some((o) => o.value === f.device)) this.device.append(h('option', { text: f.device, attrs: { value: f.device } }));
    this.device.value = f.device;
    this.enabled.checked = f.enabled;
    this.error.hidden = true;
    for (const el of this.el?.querySelectorAll('[aria-invalid]') ?? []) el.removeAttribute('aria-invalid');
    this.syncKind();
  }

  private syncKind(): void {
    this.thresholdFields.hidden = this.kind.value !== 'threshold';
  }

  private fields(): RuleFormFields {
    return {
      name: this.name.value,
      kind: this.kind.value,
      metric: this.metric.value,
      op: this.op.value,
      value: this.value.value,
      forAmount: this.forAmount.value,
      forUnit: this.forUnit.value,
      device: this.device.value,
      enabled: this.enabled.checked,
    };
  }

  private async submit(): Promise<void> {
    if (this.busy) return;
    for (const el of this.el.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const read = readRuleForm(this.fields());
    if (!read.ok) {
      const el = this.el.querySelector<HTMLElement>(`[name="${read.field}"]`);
      el?.setAttribute('aria-invalid', 'true');
      el?.focus();
      return this.fail(read.message);
    }
    this.busy = true;
    this.save.disabled = true;
    try {
      if (this.editing === null) await createRule(read.input);
      else await updateRule(this.editing, read.input);
      this.reset();
      this.onSaved();
    } catch (err) {
      this.fail(`Not saved: ${(err as Error).message}`);
    } finally {
      this.busy = false;
      this.save.disabled = false;
    }
  }

  private fail(message: string): void {
    this.error.hidden = false;
    setText(this.error, message);
  }
}

/** The webhook URL, saved in the hub, and a button that sends a test notification to it. */
class WebhookPanel {
  readonly el: HTMLElement;
  private readonly url = input('webhookUrl', 'url', { placeholder: 'https://example.com/hooks/edgewatch', autocomplete: 'off', spellcheck: 'false' });
  private readonly status = h('p', { class: 'alerts-webhook-status', data: { webhook: 'status' }, attrs: { 'aria-live': 'polite' } });
  private readonly saveBtn = h('button', { class: 'btn btn-primary', text: 'Save', attrs: { type: 'submit' }, data: { action: 'save-webhook' } });
  private readonly testBtn = h('button', { class: 'btn', text: 'Send test', attrs: { type: 'button' }, data: { action: 'test-webhook' } });
  private readonly rotateBtn = h('button', { class: 'btn', text: 'Rotate signing secret', attrs: { type: 'button' }, data: { action: 'rotate-secret' } });
  private readonly secretState = h('p', { class: 'muted alerts-hint', data: { webhook: 'secret-state' } });
  // The new secret, shown once (after a rotation) and never fetched again.
  private readonly secretField = input('signingSecret', 'text', { readonly: 'readonly', autocomplete: 'off', spellcheck: 'false' });
  private readonly secretBox = h(
    'div',
    { data: { webhook: 'new-secret' } },
    field('New signing secret', this.secretField),
    h('p', { class: 'muted alerts-hint', text: 'Copy it now: it is shown only this once. Deliveries are signed with it from now on; the old secret no longer verifies.' }),
  );

  constructor() {
    const form = h(
      'form',
      { class: 'alerts-form', attrs: { novalidate: true } },
      field('URL (http or https)', this.url),
      h('div', { class: 'alerts-buttons' }, this.saveBtn, this.testBtn),
      this.status,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.testBtn.addEventListener('click', () => void this.test());
    this.rotateBtn.addEventListener('click', () => void this.rotate());
    this.secretField.addEventListener('focus', () => this.secretField.select());
    this.secretBox.hidden = true;
    this.el = h(
      'section',
      { class: 'panel', data: { section: 'webhook' }, attrs: { 'aria-labelledby': 'alerts-webhook-title' } },
      h('div', { class: 'panel-head' }, h('h2', { attrs: { id: 'alerts-webhook-title' }, text: 'Webhook' })),
      h('p', { class: 'muted alerts-hint', text: 'Every firing and resolution is POSTed here as JSON, retried with backoff until it answers 2xx.' }),
      form,
      h(
        'div',
        { class: 'alerts-signing', data: { webhook: 'signing' } },
        h('p', { class: 'muted alerts-hint', text: 'Each POST is signed: X-Edgewatch-Signature is v1= and the HMAC-SHA256 of "<X-Edgewatch-Timestamp>.<body>" with the signing secret.' }),
        this.secretState,
        h('div', { class: 'alerts-buttons' }, this.rotateBtn),
        this.secretBox,
      ),
    );
  }

  private showSecretState(s: Pick<AlertSettingsView, 'hasSigningSecret' | 'signingSecretCreatedAt'>): void {
    setText(
      this.secretState,
      s.hasSigningSecret && s.signingSecretCreatedAt !== null
        ? `Signing secret created ${new Date(s.signingSecretCreatedAt).toLocaleString()}.`
        : 'No signing secret yet: one is made with the first delivery; rotate to see a new one.',
    );
  }

  private async rotate(): Promise<void> {
    this.rotateBtn.disabled = true;
    try {
      const r = await rotateSigningSecret();
      this.secretField.value = r.secret;
      this.secretBox.hidden = false;
      this.showSecretState({ hasSigningSecret: true, signingSecretCreatedAt: r.createdAt });
      this.secretField.focus();
    } catch (err) {
      this.say(`Signing secret not rotated: ${(err as Error).message}`, 'bad');
    } finally {
      this.rotateBtn.disabled = false;
    }
  }

  async load(): Promise<void> {
    try {
      const s = await getAlertSettings();
      this.showSecretState(s);
      this.url.value = s.webhookUrl ?? '';
      this.say(s.webhookUrl ? '' : 'No webhook: alerts show here only.', 'none');
    } catch (err) {
      this.say(`Could not load the webhook setting: ${(err as Error).message}`, 'bad');
    }
  }

  private async save(): Promise<void> {
    this.saveBtn.disabled = true;
    try {
      const s = await saveAlertSettings({ webhookUrl: this.url.value.trim() || null });
      this.url.value = s.webhookUrl ?? '';
      this.say(s.webhookUrl ? 'Saved.' : 'Saved: no webhook.', 'ok');
    } catch (err) {
      this.say(`Not saved: ${(err as Error).message}`, 'bad');
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  private async test(): Promise<void> {
    this.testBtn.disabled = true;
    this.say('Sending…', 'none');
    try {
      const typed = this.url.value.trim();
      const r = await testWebhook(typed === '' ? undefined : typed);
      if (r.ok) this.say(`The receiver answered HTTP ${r.status}.`, 'ok');
      else this.say(`Test failed: ${r.error ?? `HTTP ${r.status}`}`, 'bad');
    } catch (err) {
      this.say(`Test failed: ${(err as Error).message}`, 'bad');
    } finally {
      this.testBtn.disabled = false;
    }
  }

  private say(text: string, tone: 'ok' | 'bad' | 'none'): void {
    setText(this.status, text);
    this.status.dataset.tone = tone;
    this.status.hidden = text === '';
  }
}

function input(name: string, type: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { class: 'field-input', attrs: { name, type, id: `alerts-${name}`, ...attrs } });
}

function select(name: string, options: readonly (readonly [string, string])[]): HTMLSelectElement {
  const el = h('select', { class: 'field-input', attrs: { name, id: `alerts-${name}` } });
  for (const [value, label] of options) el.append(h('option', { text: label, attrs: { value } }));
  return el;
}

function field(label: string, control: HTMLInputElement | HTMLSelectElement): HTMLElement {
  return h('label', { class: 'field', attrs: { for: control.id } }, h('span', { class: 'field-label', text: label }), control);
}
