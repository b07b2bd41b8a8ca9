// The experiments page (`#/experiments`): every experiment the hub knows, newest first, with a
// filter by device and name; tick two or more and "Compare" opens them side by side (the
// first ticked is the baseline). Names, tags, models and device names come from devices and
// the user's code: textContent only.
import { listExperiments } from './api.js';
import { clear, fillDeviceSelect, h, setText } from './dom.js';
import type { ExperimentSummary } from './experiment-types.js';
import {
  bandColors,
  compareHref,
  endedByBadge,
  experimentDevices,
  experimentsHref,
  formatCount,
  formatDuration,
  formatInteger,
  formatModelBytes,
  matchesName,
  rangeFor,
} from './experiments-model.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';
import type { FleetStore } from './store.js';
import { fullTime } from './time-axis.js';

export class ExperimentsPage implements Page {
  readonly el: HTMLElement;
  private readonly summary = h('p', { class: 'fleet-summary', attrs: { 'aria-live': 'polite' } });
  private readonly deviceSelect = h('select', { class: 'exp-device', attrs: { 'aria-label': 'Device' } });
  private readonly nameInput = h('input', {
    class: 'exp-name',
    attrs: { type: 'search', placeholder: 'Filter by name, model or tag', 'aria-label': 'Filter by name, model or tag', autocomplete: 'off' },
  });
  private readonly compareBtn = h('button', { class: 'btn btn-primary', text: 'Compare', attrs: { type: 'button', disabled: true }, data: { action: 'compare' } });
  private readonly hint = h('span', { class: 'muted exp-hint', text: 'Tick two or more experiments; the first ticked is the baseline.' });
  private readonly body = h('tbody');
  private readonly table: HTMLTableElement;
  private readonly empty = h('div', { class: 'empty-state' });
  private list: ExperimentSummary[] = [];
  private selected: string[] = [];
  private abort: AbortController | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly store: FleetStore,
    private device: string | null,
    private name: string | null,
  ) {
    this.table = h(
      'table',
      { class: 'data-table exp-table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { class: 'exp-pick-col' }, h('span', { class: 'sr-only', text: 'Pick' })),
          ...['Name', 'Device', 'Start', 'Duration', 'Models', 'Inferences', 'Params', 'Model size', 'Tags'].map((t) =>
            h('th', { text: t, class: ['Inferences', 'Params', 'Model size'].includes(t) ? 'num' : undefined }),
          ),
        ),
      ),
      this.body,
    );
    this.nameInput.value = name ?? '';
    this.el = h(
      'section',
      { class: 'page experiments-page', data: { page: 'experiments' } },
      h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' }, text: '← Fleet' })),
      h('div', { class: 'page-head' }, h('h1', { text: 'Experiments' }), this.summary),
      h(
        'div',
        { class: 'exp-toolbar' },
        h('div', { class: 'exp-filters' }, this.deviceSelect, this.nameInput),
        h('div', { class: 'exp-actions' }, this.compareBtn, this.hint),
      ),
      h('div', { class: 'panel exp-panel' }, h('div', { class: 'table-wrap' }, this.table), this.empty),
    );
    this.empty.hidden = true;
    this.deviceSelect.addEventListener('change', () => {
      this.device = this.deviceSelect.value || null;
      this.syncUrl();
      void this.load();
    });
    this.nameInput.addEventListener('input', () => {
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => {
        this.name = this.nameInput.value.trim() || null;
        this.syncUrl();
        this.render();
      }, 150);
    });
    this.compareBtn.addEventListener('click', () => {
      if (this.selected.length >= 2) location.hash = compareHref(this.selected, this.selected[0]);
    });
  }

  mount(): void {
    document.title = 'Experiments · edgewatch';
    setText(this.summary, 'Loading…');
    this.offs.push(
      this.store.onChange(() => this.renderDevices()),
      // An experiment started or ended somewhere: list again.
      this.store.onSamples((_id, samples) => {
        if (samples.some((s) => s.e && s.e.length > 0)) this.scheduleReload();
      }),
    );
    this.tickTimer = setInterval(() => this.renderDurations(), 5000);
    this.renderDevices();
    void this.load();
  }

  destroy(): void {
    for (const off of this.offs) off();
    this.abort?.abort();
    clearTimeout(this.reloadTimer);
    clearTimeout(this.filterTimer);
    clearInterval(this.tickTimer);
  }

  resync(): void {
    void this.load();
  }

  /** Same page, other filter (the URL changed by hand or by back/forward). */
  setFilter(device: string | null, name: string | null): void {
    if (device === this.device && name === this.name) return;
    const reload = device !== this.device;
    this.device = device;
    this.name = name;
    this.nameInput.value = name ?? '';
    this.renderDevices();
    if (reload) void this.load();
    else this.render();
  }

  private syncUrl(): void {
    history.replaceState(null, '', experimentsHref({ device: this.device, name: this.name }));
  }

  private scheduleReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.load();
    }, 300);
  }

  private async load(): Promise<void> {
    this.abort?.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    this.el.dataset.loading = 'true';
    try {
      const res = await listExperiments({ device: this.device }, ctl.signal);
      if (ctl.signal.aborted) return;
      this.list = [...res.experiments].sort((a, b) => b.start - a.start);
      const known = new Set(this.list.map((e) => e.id));
      this.selected = this.selected.filter((id) => known.has(id));
      this.el.dataset.loading = 'false';
      this.renderDevices();
      this.render();
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.el.dataset.loading = 'false';
      setText(this.summary, `Could not load experiments: ${(err as Error).message}`);
    }
  }

  private renderDevices(): void {
    const opts = new Map<string, string>();
    for (const d of this.store.devices.values()) opts.set(d.id, d.name);
    for (const [id, name] of experimentDevices(this.list)) if (!opts.has(id)) opts.set(id, name);
    if (this.device && !opts.has(this.device)) opts.set(this.device, this.device);
    fillDeviceSelect(this.deviceSelect, opts, this.device);
  }

  private render(): void {
    const shown = this.list.filter((e) => matchesName(e, this.name ?? ''));
    this.el.dataset.rows = String(shown.length);
    const total = this.list.length;
    setText(
      this.summary,
      total === 0 ? '' : shown.length === total ? `${total} experiment${total === 1 ? '' : 's'}` : `${shown.length} of ${total} experiments`,
    );
    clear(this.body);
    const now = Date.now();
    const colors = bandColors(this.list.map((e) => e.name));
    for (const e of shown) this.body.append(this.row(e, now, colors.get(e.name) ?? ''));
    this.table.hidden = shown.length === 0;
    this.empty.hidden = shown.length > 0;
    clear(this.empty);
    if (shown.length === 0) {
      if (total === 0) {
        this.empty.append(
          h('h2', { text: this.device ? 'No experiments on this device yet' : 'No experiments yet' }),
          h('p', { text: 'Start one from your code through the agent on the device, then report timings under its id:' }),
          h('pre', { text: 'curl -s -X POST 127.0.0.1:7262/v1/experiments -d \'{"name":"resnet18-int8","params":11689512}\'' }),
        );
      } else {
        this.empty.append(h('p', { class: 'muted', text: 'No experiment matches this filter.' }));
      }
    }
    this.renderSelection();
  }

  private row(e: ExperimentSummary, now: number, color: string): HTMLTableRowElement {
    const check = h('input', { attrs: { type: 'checkbox', 'aria-label': `Pick ${e.name}` }, data: { pick: e.id } });
    check.checked = this.selected.includes(e.id);
    check.addEventListener('change', () => {
      this.selected = check.checked ? [...this.selected.filter((id) => id !== e.id), e.id] : this.selected.filter((id) => id !== e.id);
      this.renderSelection();
    });
    const dot = h('span', { class: 'exp-dot' });
    dot.style.background = color;
    const running = e.end === null;
    const tags = h('td', { class: 'exp-tags', data: { col: 'tags', label: 'Tags' } });
    for (const [k, v] of Object.entries(e.tags ?? {})) tags.append(h('span', { class: 'tag', text: `${k}=${v}`, attrs: { title: `${k}=${v}` } }));
    return h(
      'tr',
      { data: { 'experiment-id': e.id, running: String(running) } },
      h('td', { class: 'exp-pick-col' }, h('label', { class: 'exp-pick' }, check, h('span', { class: 'exp-baseline-tag', text: 'baseline' }))),
      h(
        'td',
        { class: 'exp-name-cell', data: { col: 'name' } },
        dot,
        h('a', {
          class: 'exp-name-link',
          text: e.name,
          attrs: { href: deviceHref(e.deviceId, running ? 'live' : rangeFor(e.start, now)), title: e.name },
        }),
        running ? h('span', { class: 'badge badge-online', text: 'running' }) : null,
        timedOutBadge(e),
      ),
      h('td', { class: 'exp-device-cell', data: { col: 'device', label: 'Device' }, text: e.deviceName || e.deviceId, attrs: { title: e.deviceId } }),
      h('td', { data: { col: 'start', label: 'Start' }, text: shortTime.format(new Date(e.start)), attrs: { title: fullTime(e.start) } }),
      h('td', { data: { col: 'duration', label: 'Duration', start: e.start, end: e.end ?? '' }, text: durationText(e, now) }),
      h('td', { class: 'exp-models', data: { col: 'models', label: 'Models' }, text: (e.models ?? []).join(', ') || '—' }),
      h('td', { class: 'num', data: { col: 'inferences', label: 'Inferences' }, text: formatInteger(e.inferences) }),
      h('td', { class: 'num', data: { col: 'params', label: 'Params' }, text: formatCount(e.params), attrs: { title: e.params === null ? null : formatInteger(e.params) } }),
      h('td', { class: 'num', data: { col: 'modelBytes', label: 'Model size' }, text: formatModelBytes(e.modelBytes) }),
      tags,
    );
  }

  private renderDurations(): void {
    const now = Date.now();
    for (const e of this.list) {
      if (e.end !== null) continue;
      const cell = this.body.querySelector(`tr[data-experiment-id="${CSS.escape(e.id)}"] [data-col="duration"]`);
      if (cell) setText(cell, durationText(e, now));
    }
  }

  private renderSelection(): void {
    const n = this.selected.length;
    this.compareBtn.disabled = n < 2;
    setText(this.compareBtn, n >= 2 ? `Compare ${n}` : 'Compare');
    this.el.dataset.selected = this.selected.join(',');
    for (const tr of this.body.querySelectorAll<HTMLElement>('tr[data-experiment-id]')) {
      const id = tr.dataset.experimentId!;
      tr.classList.toggle('is-picked', this.selected.includes(id));
      tr.classList.toggle('is-baseline', n >= 1 && this.selected[0] === id);
    }
  }
}

const shortTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

function timedOutBadge(e: ExperimentSummary): HTMLElement | null {
  const badge = endedByBadge(e);
  return badge ? h('span', { class: 'badge badge-offline', text: badge.text, data: { 'ended-by': 'timeout' }, attrs: { title: badge.title } }) : null;
}

function durationText(e: Pick<ExperimentSummary, 'start' | 'end'>, now: number): string {
  // Device clock vs browser clock: a running experiment's age is approximate.
  return e.end === null ? `${formatDuration(Math.max(0, now - e.start) / 1000)} so far` : formatDuration((e.end - e.start) / 1000);
}
