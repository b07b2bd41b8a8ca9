// The device page: header with inventory, a range picker, the Jetson and Raspberry Pi panels
// where the device is one, one chart per metric group the device has, the process table and a
// filesystem table. Live mode loads the last 10 minutes from the series API and then appends
// samples from the live feed; other ranges read history only: a preset (the last hour…) or a
// fixed window (custom from/to, a drag on a chart, ◀ ▶, an experiment picked), optionally
// compared with a second range of the same length. The view lives in the hash (history-href.ts).
import { describeMetric, metricSegment } from '../../../shared/catalog.js';
import { formatAge, formatValue } from '../../../shared/format.js';
import type { DeviceResponse, DeviceSummary } from '../../../shared/live.js';
import type { Sample } from '../../../shared/protocol.js';
import { ApiError, getDevice, getProcesses, getSeries, listExperiments } from './api.js';
import { isJetson, isPi } from './board-model.js';
import { planPage, type AbsentPanel, type PagePlan } from './chart-plan.js';
import { TimeChart } from './charts.js';
import { clockEventNotes, clockWarning, inventoryRows } from './device-facts.js';
import { append, clear, h, setData, setText } from './dom.js';
import type { ExperimentSummary } from './experiment-types.js';
import { experimentsHref } from './experiments-model.js';
import { compareOffset, compareWindow, shiftSeries } from './history-compare.js';
import { HistoryControls } from './history-controls.js';
import { ExperimentJumpList } from './history-experiment-list.js';
import { ExportMenu } from './history-export-menu.js';
import type { ExportSpec } from './history-export.js';
import { tierLabel, tierWidthMs } from './history-format.js';
import { historyHref, type DeviceView } from './history-href.js';
import { experimentWindow, type TimeWindow } from './history-range.js';
import { InferencePanel } from './inference-panel.js';
import { JetsonPanel } from './jetson-panel.js';
import { PiPanel, type FlagWindow } from './pi-panel.js';
import { ProcessTableView } from './process-table.js';
import type { Page } from './page.js';
import { deviceHref, RANGES, type RangeKey } from './router.js';
import { scrollCue } from './scroll-cue.js';
import type { FleetStore } from './store.js';

const MIN_POINTS = 60;
/** The tiered series API answers at most what is asked; more than ~1000 points is more than a chart shows. */
const MAX_POINTS = 1000;
const DAY_MS = 24 * 60 * 60_000;
/** How often, in live mode, the Pi panel looks up again when its flags were last set. */
const FLAG_REFRESH_MS = 60_000;

export class DevicePage implements Page {
  readonly el: HTMLElement;
  private readonly head = h('header', { class: 'device-head' });
  private readonly title = h('h1', { class: 'device-title' });
  private readonly badge = h('span', { class: 'badge' });
  private readonly demoBadge = h('span', { class: 'badge badge-demo', text: 'demo', data: { field: 'demo' }, attrs: { title: 'a replayed device of edgewatch demo, not a real board' } });
  private readonly seen = h('span', { class: 'device-seen' });
  private readonly clockWarn = h('span', { class: 'clock-warning', attrs: { role: 'note' } });
  /** Clock steps the hub re-timed samples for (GET /devices/:id clockEvents). */
  private readonly clockEvents = h('ul', { class: 'clock-events', attrs: { 'aria-label': 'Clock events', hidden: '' } });
  private readonly host = h('div', { class: 'device-host' });
  private readonly inventory = h('dl', { class: 'inventory' });
  private readonly picker = h('nav', { class: 'range-picker', attrs: { 'aria-label': 'Time range' } });
  private readonly status = h('span', { class: 'range-status', attrs: { 'aria-live': 'polite' } });
  private readonly grid = h('div', { class: 'chart-grid' });
  /** "no GPU found", "no temperature sensors found"…: what this device has nothing for. */
  private readonly absentBox = h('div', { class: 'absent-panels', attrs: { role: 'list', 'aria-label': 'Not found on this device' } });
  /** Chart the virtual interfaces (ifb0, dummy0…) too; off by default. */
  private showVirtual = false;
  private readonly fsCue: { el: HTMLElement; dispose: () => void };
  private readonly boards = h('div', { class: 'board-panels' });
  private jetson: JetsonPanel | null = null;
  private pi: PiPanel | null = null;
  private inference: InferencePanel | null = null;
  /**
   * Metric segment → the model's own name, for every legend and the inference panel. The hub's
   * answer (GET /devices/:id `models`) is the source; a model seen in a live aggregate or an
   * experiment before the hub named it gets its plain segment meanwhile, and the hub is asked.
   */
  private readonly modelNames = new Map<string, string>();
  /** Segments the hub named: a guess never overrides them. */
  private readonly hubNamed = new Set<string>();
  /** Models the hub has been asked about (once each). */
  private readonly askedModels = new Set<string>();
  private namesTimer: ReturnType<typeof setTimeout> | undefined;
  private experiments: ExperimentSummary[] = [];
  private expAbort: AbortController | null = null;
  private expTimer: ReturnType<typeof setTimeout> | undefined;
  /** The range experiments were last asked for. */
  private expRange: { from: number; to: number } | null = null;
  private readonly procs = new ProcessTableView();
  private procsAbort: AbortController | null = null;
  /** A process table has been seen (API or live feed): keep the section visible. */
  private procsSeen = false;
  private panelsDirty = false;
  private readonly fsBody = h('tbody');
  private readonly fsSection: HTMLElement;
  private readonly body: HTMLElement;
  private charts: TimeChart[] = [];
  private plan: PagePlan | null = null;
  private metrics = new Set<string>();
  private device: DeviceSummary | null = null;
  private loadAbort: AbortController | null = null;
  private readonly abort = new AbortController();
  private readonly controls = new HistoryControls((view) => this.navigate(view));
  private readonly exportMenu: ExportMenu;
  private readonly expList = new ExperimentJumpList((e) => this.zoomToExperiment(e));
  /** The window the charts show (or are loading), device clock. */
  private shown: TimeWindow | null = null;
  /** The tier that answered the last history load. */
  private tier: ExportSpec['tier'];
  private buffered: Sample[] = [];
  private loading = false;
  private frame = 0;
  private fsDirty = false;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private replanTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly store: FleetStore,
    readonly id: string,
    private range: RangeKey,
    /** A fixed window instead of the preset `range`. */
    private window: TimeWindow | null = null,
    /** Start of a second range to compare with (only with a fixed window). */
    private vs: number | null = null,
  ) {
    if (!window) this.vs = null;
    this.exportMenu = new ExportMenu(id, () => this.exportSpec());
    this.fsCue = scrollCue(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'fs-table' },
          h('thead', null, h('tr', null, h('th', { text: 'Mount' }), h('th', { text: 'Used' }), h('th', { text: 'Size' }), h('th', { class: 'fs-util-col', text: 'Use' }))),
          this.fsBody,
        ),
      ),
    );
    this.fsSection = h('section', { class: 'fs-section', data: { 'metric-group': 'fs' } }, h('h2', { text: 'Filesystems' }), this.fsCue.el);
    this.fsSection.hidden = true;
    this.head.append(
      h('div', { class: 'device-title-row' }, this.title, this.badge, this.demoBadge, this.seen, this.clockWarn),
      this.clockEvents,
      this.host,
      this.inventory,
    );
    this.body = h(
      'div',
      { class: 'device-body' },
      h(
        'div',
        { class: 'toolbar' },
        this.picker,
        this.controls.nav,
        this.status,
        h(
          'div',
          { class: 'toolbar-end' },
          this.exportMenu.el,
          h('a', { class: 'toolbar-link', text: 'Experiments', attrs: { href: experimentsHref({ device: id }) }, data: { link: 'experiments' } }),
        ),
      ),
      this.controls.el,
      this.expList.el,
      this.boards,
      this.grid,
      this.absentBox,
      this.procs.el,
      this.fsSection,
    );
    this.body.hidden = true;
    this.el = h(
      'section',
      { class: 'page device-page', data: { page: 'device', 'device-id': id } },
      h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' }, text: '← Fleet' })),
      this.head,
      this.body,
    );
    this.boards.hidden = true;
    this.absentBox.hidden = true;
    this.procs.el.hidden = true;
    this.renderPicker();
  }

  mount(): void {
    setText(this.title, this.id);
    setText(this.status, 'Loading…');
    this.offs.push(
      this.store.onChange((changed) => {
        if (changed !== null && changed !== this.id) return;
        const d = this.store.devices.get(this.id);
        if (d) this.renderHeader(d);
      }),
      this.store.onSamples((deviceId, samples) => {
        if (deviceId === this.id) this.onSamples(samples);
      }),
    );
    this.tickTimer = setInterval(() => {
      if (this.device) this.renderHeader(this.store.devices.get(this.id) ?? this.device);
      this.followLiveWindow();
    }, 5000);
    void this.init();
  }

  destroy(): void {
    for (const off of this.offs) off();
    this.abort.abort();
    this.loadAbort?.abort();
    this.expAbort?.abort();
    clearTimeout(this.expTimer);
    clearTimeout(this.namesTimer);
    this.procsAbort?.abort();
    this.exportMenu.destroy();
    this.fsCue.dispose();
    this.procs.destroy();
    this.pi?.destroy();
    clearInterval(this.refreshTimer);
    clearInterval(this.tickTimer);
    clearTimeout(this.replanTimer);
    cancelAnimationFrame(this.frame);
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }

  resync(): void {
    if (this.plan && this.isLive()) void this.loadRange(true);
  }

  setRange(range: RangeKey): void {
    this.setView({ range });
  }

  /** Shows another preset or window (the hash changed). */
  setView(view: DeviceView): void {
    const window = view.window ?? null;
    const vs = window ? (view.vs ?? null) : null;
    if (view.range === this.range && sameWindow(window, this.window) && vs === this.vs) return;
    this.range = view.range;
    this.window = window;
    this.vs = vs;
    this.renderPicker();
    if (this.plan) void this.loadRange();
  }

  private view(): DeviceView {
    return { range: this.range, window: this.window, vs: this.window ? this.vs : null };
  }

  private isLive(): boolean {
    return this.window === null && this.range === 'live';
  }

  private navigate(view: DeviceView): void {
    location.hash = historyHref(this.id, view);
  }

  private deviceNow(): number {
    return Date.now() + ((this.store.devices.get(this.id) ?? this.device)?.clockOffsetMs ?? 0);
  }

  /**
   * Live, the window slides with the samples: ◀, zoom and "compare with" start from where it
   * is now, not from where it was when the page loaded.
   */
  private followLiveWindow(): void {
    const d = this.store.devices.get(this.id) ?? this.device;
    if (!this.isLive() || !this.shown || !d?.online) return;
    const to = this.deviceNow();
    this.shown = { from: to - (this.shown.to - this.shown.from), to };
    this.controls.render({ view: this.view(), shown: this.shown, now: to });
  }

  private zoomToExperiment(e: Pick<ExperimentSummary, 'start' | 'end'>): void {
    this.controls.zoomTo(experimentWindow(e.start, e.end, this.deviceNow()));
  }

  /** What the export menu offers: the window and metrics shown (live: the last 10 minutes as of now). */
  private exportSpec(): Omit<ExportSpec, 'format'> | null {
    if (!this.plan || !this.shown) return null;
    const metrics = this.plan.charts.flatMap((c) => c.series.map((s) => s.metric));
    if (this.isLive()) {
      const to = this.deviceNow();
      return { window: { from: to - (this.shown.to - this.shown.from), to }, metrics };
    }
    return { window: this.shown, metrics, tier: this.tier };
  }

  private async init(): Promise<void> {
    let res: DeviceResponse;
    try {
      res = await getDevice(this.id, this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.showError(err);
      return;
    }
    // The store may already hold fresher samples from the live feed.
    const d = this.store.devices.get(this.id) ?? res.device;
    if (!this.store.devices.has(this.id)) this.store.upsert(res.device);
    this.device = d;
    for (const m of res.metrics) this.metrics.add(m);
    for (const m of Object.keys(d.latest?.m ?? {})) this.metrics.add(m);
    this.applyHubModelNames(res.models);
    // h's `text` sets textContent: nothing here is parsed as HTML.
    const notes = clockEventNotes(res.clockEvents ?? []);
    clear(this.clockEvents);
    for (const note of notes) this.clockEvents.append(h('li', { class: 'clock-event', text: note, attrs: { role: 'note' } }));
    this.clockEvents.hidden = notes.length === 0;
    if (d.latest) this.learnModelNames([d.latest]);
    this.renderHeader(d);
    this.body.hidden = false;
    this.buildCharts();
    await this.loadRange();
  }

  private showError(err: unknown): void {
    clear(this.head);
    const notFound = err instanceof ApiError && err.status === 404;
    this.el.dataset.error = notFound ? 'not-found' : 'failed';
    append(
      this.head,
      h('h1', { text: notFound ? 'Unknown device' : 'Could not load this device' }),
      h('p', { class: 'muted', text: notFound ? `The hub has no device with id “${this.id}”.` : String((err as Error).message ?? err) }),
      notFound ? null : h('button', { class: 'retry-btn', text: 'Retry', attrs: { type: 'button' }, on: { click: () => location.reload() } }),
    );
    document.title = 'edgewatch';
  }

  private renderPicker(): void {
    clear(this.picker);
    for (const r of RANGES) {
      const active = this.window === null && r.key === this.range;
      this.picker.append(
        h('a', {
          class: `range-btn${active ? ' is-active' : ''}`,
          text: r.label,
          attrs: { href: deviceHref(this.id, r.key), 'aria-current': active ? 'true' : null },
          data: { 'range-key': r.key },
        }),
      );
    }
    this.el.dataset.range = this.window ? 'custom' : this.range;
  }

  private renderHeader(d: DeviceSummary): void {
    this.device = d;
    document.title = `${d.name} · edgewatch`;
    setText(this.title, d.name);
    setText(this.badge, d.online ? 'online' : 'offline');
    this.badge.className = `badge ${d.online ? 'badge-online' : 'badge-offline'}`;
    this.demoBadge.hidden = d.demo !== true;
    setData(this.el, { online: String(d.online) });
    setText(this.seen, !d.online && d.lastSeen !== null ? `last seen ${formatAge(Date.now() - d.lastSeen)}` : '');
    setText(this.host, d.hostname && d.hostname !== d.name ? d.hostname : '');
    const clock = clockWarning(d);
    setText(this.clockWarn, clock ?? '');
    this.clockWarn.hidden = clock === null;
    if (this.isLive() && this.plan && !this.loading) setText(this.status, liveStatus(d));
    const rows = inventoryRows(d, this.metrics);
    const key = JSON.stringify(rows);
    if (this.inventory.dataset.key !== key) {
      this.inventory.dataset.key = key;
      clear(this.inventory);
      for (const [k, v] of rows) this.inventory.append(h('div', { class: 'inv-row' }, h('dt', { text: k }), h('dd', { text: v })));
    }
  }

  private buildCharts(): void {
    for (const c of this.charts) c.destroy();
    this.plan = this.currentPlan();
    this.charts = this.plan.charts.map((def) => new TimeChart(def));
    for (const c of this.charts) {
      c.setInteraction({
        onZoom: (w) => this.controls.zoomTo(w),
        onExperiment: (id) => {
          const e = this.experiments.find((x) => x.id === id);
          if (e) this.zoomToExperiment(e);
        },
      });
    }
    this.grid.replaceChildren(...this.charts.map((c) => c.el));
    if (this.charts.length === 0) this.grid.append(h('p', { class: 'muted', text: 'This device has not reported any metrics yet.' }));
    this.addVirtualToggle(this.plan.virtualInterfaces);
    this.renderAbsent(this.plan.absent);
    for (const c of this.charts) c.mount();
    this.applyExperiments();
    this.fsSection.hidden = this.plan.filesystems.length === 0;
    this.renderFs();
    this.buildPanels();
  }

  /** On the network chart: which virtual interfaces are left off, and a button to chart them. */
  private addVirtualToggle(ifaces: readonly string[]): void {
    const net = this.charts.find((c) => c.def.id === 'net');
    const caption = net?.el.querySelector('figcaption');
    if (!caption || ifaces.length === 0) return;
    const n = ifaces.length;
    const label = this.showVirtual ? 'Hide virtual interfaces' : `Show ${n} virtual interface${n === 1 ? '' : 's'}`;
    caption.append(
      h(
        'span',
        { class: 'chart-extra' },
        h('button', {
          class: 'link-btn',
          text: label,
          attrs: { type: 'button', 'aria-pressed': String(this.showVirtual), title: 'Virtual interfaces (ifb, dummy, tunnels’ fallback devices) carry no traffic of their own' },
          data: { action: 'toggle-virtual-ifaces' },
          on: {
            click: () => {
              this.showVirtual = !this.showVirtual;
              this.buildCharts();
              void this.loadRange();
              // The button was rebuilt with the chart: keep the keyboard where it was.
              this.grid.querySelector<HTMLElement>('[data-action="toggle-virtual-ifaces"]')?.focus();
            },
          },
        }),
        h('span', { class: 'chart-note', data: { field: 'hidden-ifaces' }, text: `${this.showVirtual ? 'shown' : 'hidden'}: ${ifaces.join(', ')}` }),
      ),
    );
  }

  private renderAbsent(absent: readonly AbsentPanel[]): void {
    this.absentBox.replaceChildren(
      ...absent.map((a) =>
        h(
          'div',
          { class: 'absent-card', data: { absent: a.kind }, attrs: { role: 'listitem', title: a.detail } },
          h('span', { class: 'absent-title', text: a.title }),
          h('span', { class: 'absent-text', text: a.text }),
          h('span', { class: 'absent-detail', text: a.detail }),
        ),
      ),
    );
    this.absentBox.hidden = absent.length === 0;
    this.el.dataset.absentPanels = absent.map((a) => a.kind).join(' ');
  }

  /** Adds the Jetson and Pi panels once the device turns out to be one. */
  private buildPanels(): void {
    const inv = this.device?.inventory;
    if (!this.jetson && isJetson(this.metrics, inv)) {
      this.jetson = new JetsonPanel();
      this.boards.prepend(this.jetson.el);
    }
    if (!this.pi && isPi(this.metrics)) {
      this.pi = new PiPanel(this.id);
      this.boards.append(this.pi.el);
    }
    if (!this.inference && [...this.metrics].some((m) => m.startsWith('infer.'))) {
      this.inference = new InferencePanel(this.id);
      this.boards.prepend(this.inference.el);
      this.inference.setExperiments(this.experiments);
    }
    this.boards.hidden = !this.jetson && !this.pi && !this.inference;
    this.el.dataset.boards = [this.inference ? 'inference' : '', this.jetson ? 'jetson' : '', this.pi ? 'pi' : ''].filter(Boolean).join(' ');
    if (!this.procsSeen && [...this.metrics].some((m) => m.startsWith('procs.'))) this.procs.el.hidden = false;
    this.renderPanels();
  }

  private renderPanels(): void {
    const d = this.store.devices.get(this.id) ?? this.device;
    const m = d?.latest?.m ?? {};
    this.jetson?.render(m, d?.inventory);
    this.pi?.render(m);
    this.inference?.render(d?.latest?.t, m, this.modelNames);
  }

  /** Model names from inference aggregates (`i`): the metric names only carry a segment. True if a name was added. */
  private learnModelNames(samples: readonly Sample[]): boolean {
    let changed = false;
    for (const s of samples) for (const agg of s.i ?? []) changed = this.learnModelName(agg.model) || changed;
    return changed;
  }

  /** A model the page has not seen named: its plain segment until the hub says (see modelNames). */
  private learnModelName(model: string): boolean {
    if (this.askedModels.has(model)) return false;
    this.askedModels.add(model);
    this.scheduleModelNames();
    if ([...this.modelNames.values()].includes(model)) return false;
    const seg = metricSegment(model);
    if (this.modelNames.has(seg)) return false;
    this.modelNames.set(seg, model);
    return true;
  }

  /** The hub's segment → model mapping; true if any label changed. */
  private applyHubModelNames(models: Readonly<Record<string, string>> | undefined): boolean {
    if (!models) return false;
    let changed = false;
    const named = new Set(Object.values(models));
    // A guess for a model the hub put under another segment (a collision, numbered) goes.
    for (const [seg, model] of this.modelNames) {
      if (!this.hubNamed.has(seg) && named.has(model) && models[seg] !== model) {
        this.modelNames.delete(seg);
        changed = true;
      }
    }
    for (const [seg, model] of Object.entries(models)) {
      this.hubNamed.add(seg);
      this.askedModels.add(model);
      if (this.modelNames.get(seg) !== model) {
        this.modelNames.set(seg, model);
        changed = true;
      }
    }
    return changed;
  }

  /** Asks the hub for its model names soon (a model turned up that it had not named yet). */
  private scheduleModelNames(): void {
    if (this.namesTimer || !this.plan) return;
    this.namesTimer = setTimeout(() => {
      this.namesTimer = undefined;
      getDevice(this.id, this.abort.signal).then(
        (res) => {
          if (this.abort.signal.aborted || !this.applyHubModelNames(res.models)) return;
          if (this.plan && this.planKey(this.currentPlan()) !== this.planKey(this.plan)) {
            this.buildCharts();
            void this.loadRange(true);
          } else {
            this.panelsDirty = true;
            this.scheduleFlush();
          }
        },
        () => {},
      );
    }, 500);
  }

  private currentPlan(): PagePlan {
    const gpuNames = new Map((this.device?.inventory.gpus ?? []).map((g) => [g.index, g.name] as const));
    return planPage(this.metrics, gpuNames, this.modelNames, { showVirtual: this.showVirtual, capabilities: this.device?.capabilities ?? [] });
  }

  /** Experiments overlapping the shown range (device clock): bands on the charts. */
  private async loadExperiments(from: number, to: number): Promise<void> {
    this.expRange = { from, to };
    this.expAbort?.abort();
    const ctl = new AbortController();
    this.expAbort = ctl;
    try {
      const res = await listExperiments({ device: this.id, from, to }, ctl.signal);
      if (ctl.signal.aborted) return;
      this.experiments = res.experiments.filter((e) => e.deviceId === this.id);
      for (const e of this.experiments) for (const m of e.models ?? []) this.learnModelName(m);
      this.el.dataset.experiments = String(this.experiments.length);
      this.applyExperiments();
      this.expList.render(this.experiments);
      // The list named models the legends only knew by their metric segment: relabel.
      if (this.plan && this.planKey(this.currentPlan()) !== this.planKey(this.plan)) {
        this.buildCharts();
        void this.loadRange(true);
      }
    } catch {
      // No experiments API (an older hub) or a network hiccup: the charts just have no bands.
    }
  }

  private applyExperiments(): void {
    const spans = this.experiments.map((e) => ({ id: e.id, name: e.name, start: e.start, end: e.end }));
    for (const c of this.charts) c.setExperiments(spans);
    this.inference?.setExperiments(this.experiments);
  }

  /** An experiment started or ended (an `e` event on the live feed): fetch the list again soon. */
  private scheduleExperimentReload(): void {
    if (this.expTimer) return;
    this.expTimer = setTimeout(() => {
      this.expTimer = undefined;
      const r = this.expRange;
      if (!r) return;
      const now = Date.now() + (this.device?.clockOffsetMs ?? 0);
      void this.loadExperiments(r.from, this.isLive() ? Math.max(r.to, now + 60_000) : r.to);
    }, 300);
  }

  /** The Pi flags' look-up window and the process table, for the range being loaded. */
  private loadPanels(from: number, to: number, live: boolean, d: DeviceSummary): void {
    if (this.pi) void this.pi.loadTiming(this.flagWindow(from, to, live));
    void this.loadProcesses(live, to, d);
  }

  private flagWindow(from: number, to: number, live: boolean): FlagWindow {
    return live ? { from: to - DAY_MS, to: to + 60_000, label: 'the last 24 h' } : { from, to, label: 'this range' };
  }

  private async loadProcesses(live: boolean, to: number, d: DeviceSummary): Promise<void> {
    this.procsAbort?.abort();
    const ctl = new AbortController();
    this.procsAbort = ctl;
    try {
      const res = await getProcesses(this.id, live ? undefined : to, ctl.signal);
      if (ctl.signal.aborted) return;
      if (res.t !== null && res.table) {
        // In live mode a table from the feed may already be newer than the answer.
        if (!live || res.t >= (this.procs.time ?? 0)) this.showProcesses(res.t, res.table);
        return;
      }
    } catch {
      if (ctl.signal.aborted) return;
    }
    const latest = d.latest;
    if (live && latest?.p) this.showProcesses(latest.t, latest.p);
    else if (!live || this.procs.time === null) {
      this.procs.show(null, null, live ? 'No process table yet.' : 'No process table at the end of this range.');
    }
  }

  private showProcesses(t: number, table: NonNullable<Sample['p']>): void {
    this.procsSeen = true;
    this.procs.el.hidden = false;
    this.procs.show(t, table);
  }

  private planKey(p: PagePlan): string {
    return (
      p.charts.map((c) => `${c.id}:${c.series.map((s) => `${s.metric}=${s.label}`).join(',')}`).join('|') +
      `|fs:${p.filesystems.join(',')}|virtual:${p.virtualInterfaces.join(',')}|absent:${p.absent.map((a) => `${a.kind}=${a.text}`).join(',')}`
    );
  }

  /** Loads the selected range; `quiet` (periodic refresh, resync) keeps the charts undimmed meanwhile. */
  private async loadRange(quiet = false): Promise<void> {
    const plan = this.plan;
    const d = this.store.devices.get(this.id) ?? this.device;
    if (!plan || !d) return;
    this.loadAbort?.abort();
    const ctl = new AbortController();
    this.loadAbort = ctl;
    clearInterval(this.refreshTimer);
    const preset = RANGES.find((r) => r.key === this.range) ?? RANGES[0]!;
    const live = this.isLive();
    const rangeKey = this.window ? 'custom' : preset.key;
    const deviceNow = Date.now() + (d.clockOffsetMs ?? 0);
    let { from, to } = this.window ?? { from: 0, to: 0 };
    if (!this.window) {
      // Live on an offline device shows its last minutes rather than an empty window.
      to = live && !d.online && d.latest ? d.latest.t : deviceNow;
      from = to - preset.ms;
    }
    const shown = { from, to };
    this.shown = shown;
    const vs = this.window ? this.vs : null;
    this.controls.render({ view: this.view(), shown, now: deviceNow });
    const width = this.charts[0]?.canvas.clientWidth || 600;
    const points = Math.max(MIN_POINTS, Math.min(MAX_POINTS, Math.round(width)));
    const metrics = plan.charts.flatMap((c) => c.series.map((s) => s.metric));
    this.loading = true;
    this.buffered = [];
    if (!quiet || !live) this.loadPanels(from, to, live, d);
    void this.loadExperiments(from, live ? to + 60_000 : to);
    if (!quiet) {
      for (const c of this.charts) c.setLoading(rangeKey);
      setText(this.status, 'Loading…');
      this.el.dataset.loading = 'true';
    }
    // Range B of a comparison loads beside A; if it fails, A is still shown.
    const b = vs === null || metrics.length === 0 ? null : compareWindow(shown, vs);
    const loadB = b
      ? getSeries(this.id, { metrics, from: b.from, to: b.to, points }, ctl.signal).then(
          (r) => ({ ok: true as const, r }),
          (err: unknown) => ({ ok: false as const, err }),
        )
      : null;
    try {
      const res =
        metrics.length === 0
          ? { series: {}, stepMs: 0, from, to, deviceId: this.id, tier: undefined }
          : await getSeries(this.id, { metrics, from, to: live ? to + 60_000 : to, points }, ctl.signal);
      const resB = await loadB;
      if (ctl.signal.aborted) return;
      const interval = d.intervalMs ?? 5000;
      const gapMs = Math.max(3 * interval, 2.5 * Math.max(res.stepMs, tierWidthMs(res.tier)), 1500);
      const compare = resB?.ok && vs !== null ? { series: shiftSeries(resB.r.series, compareOffset(shown, vs)), offsetMs: compareOffset(shown, vs) } : undefined;
      this.tier = live ? undefined : res.tier;
      for (const c of this.charts) {
        c.load({ series: res.series, from, to, gapMs, bands: !live, range: rangeKey, source: live ? 'live' : 'history', tier: this.tier, compare });
      }
      this.loading = false;
      if (live && this.buffered.length) {
        for (const c of this.charts) c.append(this.buffered);
        this.scheduleFlush();
      }
      this.buffered = [];
      const failedB = resB && !resB.ok ? ` · Could not load range B: ${(resB.err as Error).message ?? resB.err}` : '';
      setText(this.status, (live ? liveStatus(d) : tierLabel(res.tier, res.stepMs)) + failedB);
      this.el.dataset.tier = this.tier ?? '';
      this.el.dataset.loading = 'false';
      this.exportMenu.update();
      if (!live && !this.window) {
        const every = Math.max(15_000, preset.ms / 60);
        this.refreshTimer = setInterval(() => void this.loadRange(true), every);
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.loading = false;
      this.el.dataset.loading = 'false';
      setText(this.status, `Could not load history: ${(err as Error).message}`);
      for (const c of this.charts) {
        c.load({ series: {}, from, to, gapMs: 5000, bands: false, range: rangeKey, source: live ? 'live' : 'history' });
      }
    }
  }

  private onSamples(samples: Sample[]): void {
    // A model's first live aggregate can rename its legends (see modelNames).
    let replan = this.learnModelNames(samples);
    if (samples.some((s) => s.e && s.e.length > 0)) this.scheduleExperimentReload();
    for (const s of samples) {
      for (const name of Object.keys(s.m)) {
        if (!this.metrics.has(name)) {
          this.metrics.add(name);
          if (describeMetric(name)) replan = true;
        }
      }
    }
    if (replan && this.plan && !this.replanTimer) {
      // A new interface, disk or sensor appeared: rebuild the charts if the plan changed.
      this.replanTimer = setTimeout(() => {
        this.replanTimer = undefined;
        if (this.plan && this.planKey(this.currentPlan()) !== this.planKey(this.plan)) {
          this.buildCharts();
          void this.loadRange();
        }
      }, 2000);
    }
    if (this.isLive()) {
      // The process table travels on some samples only (every few seconds).
      let table: Sample | undefined;
      for (const s of samples) if (s.p && (!table || s.t >= table.t)) table = s;
      if (table?.p && table.t >= (this.procs.time ?? 0)) this.showProcesses(table.t, table.p);
    }
    if (!this.plan) return;
    if (this.loading) {
      this.buffered.push(...samples);
      return;
    }
    if (this.isLive()) for (const c of this.charts) c.append(samples);
    this.fsDirty = true;
    this.panelsDirty = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const c of this.charts) c.flush();
      if (this.fsDirty) {
        this.fsDirty = false;
        this.renderFs();
      }
      if (this.panelsDirty) {
        this.panelsDirty = false;
        this.renderPanels();
        if (this.pi && this.isLive()) {
          const now = Date.now() + (this.device?.clockOffsetMs ?? 0);
          this.pi.refreshIfStale(this.flagWindow(now - DAY_MS, now, true), FLAG_REFRESH_MS);
        }
      }
    });
  }

  private renderFs(): void {
    const plan = this.plan;
    if (!plan || plan.filesystems.length === 0) return;
    const m = (this.store.devices.get(this.id) ?? this.device)?.latest?.m ?? {};
    const rows = plan.filesystems.map((fs) => {
      const used = m[`fs.${fs}.used`];
      const size = m[`fs.${fs}.size`];
      const util = m[`fs.${fs}.util`] ?? (used !== undefined && size ? (100 * used) / size : undefined);
      return { fs, used, size, util };
    });
    if (this.fsBody.children.length !== rows.length) {
      clear(this.fsBody);
      for (const r of rows) {
        this.fsBody.append(
          h(
            'tr',
            { data: { fs: r.fs } },
            h('td', { class: 'fs-mount', text: r.fs === 'rootfs' ? '/' : r.fs }),
            h('td', { data: { col: 'used' } }),
            h('td', { data: { col: 'size' } }),
            h(
              'td',
              { class: 'fs-util-col' },
              h('div', { class: 'fs-util-cell' }, h('span', { class: 'bar' }, h('span', { class: 'bar-fill' })), h('span', { class: 'fs-util', data: { col: 'util' } })),
            ),
          ),
        );
      }
    }
    rows.forEach((r, i) => {
      const tr = this.fsBody.children[i] as HTMLTableRowElement | undefined;
      if (!tr) return;
      setText(tr.querySelector('[data-col="used"]')!, formatValue(r.used, 'bytes'));
      setText(tr.querySelector('[data-col="size"]')!, formatValue(r.size, 'bytes'));
      setText(tr.querySelector('[data-col="util"]')!, formatValue(r.util, '%'));
      const fill = tr.querySelector<HTMLElement>('.bar-fill');
      if (fill) {
        const pct = Math.max(0, Math.min(100, r.util ?? 0));
        fill.style.width = `${pct.toFixed(1)}%`;
        fill.classList.toggle('is-high', pct >= 90);
      }
    });
  }
}

function liveStatus(d: DeviceSummary): string {
  return d.online ? 'Live' : 'Offline: the last 10 minutes it reported';
}

function sameWindow(a: TimeWindow | null, b: TimeWindow | null): boolean {
  return a === b || (a !== null && b !== null && a.from === b.from && a.to === b.to);
}
