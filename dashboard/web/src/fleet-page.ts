// The fleet page: one card per device, updated in place from the live feed.
import { formatAge, formatValue } from '../../../shared/format.js';
import type { DeviceSummary } from '../../../shared/live.js';
import { getSeries, listDevices } from './api.js';
import { clockWarning, deviceFacts, osLine, type DeviceFacts, type GpuFacts } from './device-facts.js';
import { clear, h, setData, setText } from './dom.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';
import { Sparkline } from './sparkline.js';
import { SPARK_WINDOW_MS, type FleetStore } from './store.js';

/** Backfilled sparkline points are buckets of the 10-minute window, this many. */
const SPARK_BACKFILL_POINTS = 150;

/** A pause longer than this breaks the sparkline (a missed sample or two does not). */
function gapFor(d: DeviceSummary): number {
  return Math.max(3 * (d.intervalMs ?? 5000), 2.5 * (SPARK_WINDOW_MS / SPARK_BACKFILL_POINTS));
}

class DeviceCard {
  readonly el: HTMLAnchorElement;
  private readonly name = h('h2', { class: 'device-name' });
  private readonly host = h('div', { class: 'device-host' });
  private readonly badge = h('span', { class: 'badge', data: { field: 'status' } });
  /** `edgewatch demo`'s replayed devices: never mistaken for a real board. */
  private readonly demoBadge = h('span', { class: 'badge badge-demo', text: 'demo', data: { field: 'demo' }, attrs: { title: 'a replayed device of edgewatch demo, not a real board' } });
  private readonly seen = h('div', { class: 'device-seen', data: { field: 'last-seen' } });
  private readonly cpu = h('span', { class: 'big-value', data: { field: 'cpu' } });
  private readonly mem = h('dd', { data: { field: 'mem' } });
  private readonly memBar = h('span', { class: 'bar-fill' });
  private readonly gpuRows = h('div', { class: 'gpu-rows' });
  private readonly hot = h('dd', { data: { field: 'hottest' } });
  private readonly hotRow: HTMLElement;
  private readonly load = h('dd', { data: { field: 'load' } });
  private readonly loadRow: HTMLElement;
  private readonly disk = h('dd', { data: { field: 'disk' } });
  private readonly diskBar = h('span', { class: 'bar-fill' });
  private readonly diskRow: HTMLElement;
  private readonly net = h('dd', { data: { field: 'net' }, attrs: { title: 'received ↓ and sent ↑, all interfaces but virtual ones' } });
  private readonly netRow: HTMLElement;
  private readonly first = h('dd', { data: { field: 'first-seen' } });
  private readonly os = h('div', { class: 'device-os' });
  private readonly clockWarn = h('div', { class: 'clock-warning', attrs: { role: 'note' } });
  private readonly spark = new Sparkline(SPARK_WINDOW_MS, 100, 'CPU over the last 10 minutes');
  private gpuKey = '';

  constructor(readonly id: string) {
    this.hotRow = h('div', { class: 'stat', data: { stat: 'hottest' } }, h('dt', { text: 'Hottest' }), this.hot);
    this.loadRow = h('div', { class: 'stat', data: { stat: 'load' }, attrs: { title: 'Load average over 1 minute' } }, h('dt', { text: 'Load 1 min' }), this.load);
    this.diskRow = h(
      'div',
      { class: 'stat', data: { stat: 'disk' }, attrs: { title: 'Root filesystem (/) in use' } },
      h('dt', { text: 'Disk /' }),
      this.disk,
      h('span', { class: 'bar' }, this.diskBar),
    );
    this.netRow = h('div', { class: 'stat', data: { stat: 'net' } }, h('dt', { text: 'Network' }), this.net);
    // The agent reports no uptime metric: this is when the hub first heard from the device.
    const firstRow = h(
      'div',
      { class: 'stat', data: { stat: 'first-seen' }, attrs: { title: 'When this hub first heard from the device (the agent reports no uptime)' } },
      h('dt', { text: 'First seen' }),
      this.first,
    );
    this.el = h(
      'a',
      { class: 'device-card', attrs: { href: deviceHref(id) }, data: { 'device-id': id } },
      h('div', { class: 'card-head' }, h('div', { class: 'card-title' }, this.name, this.host), h('div', { class: 'card-badges' }, this.demoBadge, this.badge)),
      this.seen,
      h(
        'div',
        { class: 'card-cpu' },
        h('div', { class: 'cpu-reading' }, h('span', { class: 'stat-label', text: 'CPU' }), this.cpu),
        this.spark.el,
      ),
      h(
        'dl',
        { class: 'card-stats' },
        h('div', { class: 'stat' }, h('dt', { text: 'Memory' }), this.mem, h('span', { class: 'bar' }, this.memBar)),
        this.loadRow,
        this.diskRow,
        this.netRow,
        this.gpuRows,
        this.hotRow,
        firstRow,
      ),
      this.os,
      this.clockWarn,
    );
  }

  update(d: DeviceSummary, store: FleetStore, now: number): void {
    const f = deviceFacts(d);
    setText(this.name, d.name);
    setText(this.host, d.hostname ?? '');
    this.host.hidden = !d.hostname || d.hostname === d.name;
    this.el.title = d.hostname && d.hostname !== d.name ? `${d.name} (${d.hostname})` : d.name;
    setData(this.el, { online: String(d.online) });
    setText(this.badge, d.online ? 'online' : 'offline');
    this.badge.className = `badge ${d.online ? 'badge-online' : 'badge-offline'}`;
    this.demoBadge.hidden = d.demo !== true;
    this.el.classList.toggle('is-offline', !d.online);
    // Offline, every value below is the last one it sent: dimmed, and the line above says when.
    setData(this.el, { stale: String(!d.online) });
    const clock = clockWarning(d);
    setText(this.clockWarn, clock ?? '');
    this.clockWarn.hidden = clock === null;
    if (d.online) {
      this.seen.hidden = true;
    } else {
      this.seen.hidden = false;
      setText(this.seen, d.lastSeen === null ? 'never sent data' : `last seen ${formatAge(now - d.lastSeen)} · values from then`);
    }
    setText(this.cpu, formatValue(f.cpuUtil, '%'));
    setText(
      this.mem,
      f.memUsed === undefined ? '—' : f.memTotal ? `${formatValue(f.memUsed, 'bytes')} / ${formatValue(f.memTotal, 'bytes')}` : formatValue(f.memUsed, 'bytes'),
    );
    const memPct = f.memUsed !== undefined && f.memTotal ? Math.min(100, (100 * f.memUsed) / f.memTotal) : 0;
    this.memBar.style.width = `${memPct.toFixed(1)}%`;
    this.updateGpus(f.gpus);
    this.updateSystem(f);
    setText(this.first, formatAge(now - d.firstSeen));
    setText(this.os, osLine(d));
    this.spark.update(store.cpuHistory(d.id), gapFor(d));
  }

  /** Load, root filesystem, network and the hottest sensor: rows shown when the device reports them. */
  private updateSystem(f: DeviceFacts): void {
    this.loadRow.hidden = f.load1 === undefined;
    setText(this.load, formatValue(f.load1, 'load'));
    this.diskRow.hidden = f.rootfs === null;
    if (f.rootfs) {
      const { used, size, util } = f.rootfs;
      const parts = [formatValue(util, '%')];
      if (used !== undefined && size) parts.push(`${formatValue(used, 'bytes')} / ${formatValue(size, 'bytes')}`);
      setText(this.disk, parts.join(' · '));
      const pct = Math.max(0, Math.min(100, util ?? 0));
      this.diskBar.style.width = `${pct.toFixed(1)}%`;
      this.diskBar.classList.toggle('is-high', pct >= 90);
    }
    this.netRow.hidden = f.net === null;
    if (f.net) setText(this.net, `↓ ${formatValue(f.net.rx, 'B/s')} ↑ ${formatValue(f.net.tx, 'B/s')}`);
    // "no sensors" once the device has reported something; nothing while it has not.
    this.hotRow.hidden = !f.hottest && !f.reported;
    const key = f.hottest ? `${f.hottest.value}:${f.hottest.sensor}` : 'none';
    if (this.hot.dataset.key !== key) {
      this.hot.dataset.key = key;
      clear(this.hot);
      if (f.hottest) this.hot.append(formatValue(f.hottest.value, '°C'), ' ', h('small', { text: f.hottest.sensor }));
      else this.hot.append(h('small', { text: 'no sensors' }));
    }
  }

  private updateGpus(gpus: GpuFacts[]): void {
    const key = gpus.map((g) => `${g.index}:${g.name ?? ''}`).join('|');
    const shown = gpus.slice(0, 4);
    if (key !== this.gpuKey) {
      this.gpuKey = key;
      clear(this.gpuRows);
      for (const g of shown) {
        this.gpuRows.append(
          h(
            'div',
            { class: 'stat', data: { gpu: g.index } },
            h('dt', { text: gpus.length > 1 ? `GPU ${g.index}` : 'GPU', attrs: { title: g.name ?? '' } }),
            h('dd', { data: { field: `gpu-${g.index}` } }),
          ),
        );
      }
      if (gpus.length > shown.length) this.gpuRows.append(h('div', { class: 'stat more', text: `+${gpus.length - shown.length} more GPUs` }));
    }
    for (const g of shown) {
      const dd = this.gpuRows.querySelector(`[data-field="gpu-${g.index}"]`);
      if (dd) {
        const parts = [formatValue(g.util, '%')];
        if (g.temp !== undefined) parts.push(formatValue(g.temp, '°C'));
        if (g.memUsed !== undefined && g.memTotal) parts.push(`${formatValue(g.memUsed, 'bytes')} / ${formatValue(g.memTotal, 'bytes')}`);
        setText(dd, parts.join(' · '));
      }
    }
  }
}

export class FleetPage implements Page {
  readonly el: HTMLElement;
  private readonly grid = h('div', { class: 'fleet-grid' });
  private readonly summary = h('p', { class: 'fleet-summary' });
  private readonly emptyBox = h('div', { class: 'empty-state' });
  private readonly cards = new Map<string, DeviceCard>();
  private readonly dirty = new Set<string>();
  private order = '';
  private all = true;
  private frame = 0;
  private readonly offs: (() => void)[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly backfilled = new Set<string>();
  private readonly abort = new AbortController();

  constructor(private readonly store: FleetStore) {
    this.el = h('section', { class: 'page fleet-page', data: { page: 'fleet' } }, h('div', { class: 'page-head' }, h('h1', { text: 'Fleet' }), this.summary), this.emptyBox, this.grid);
  }

  mount(): void {
    this.offs.push(
      this.store.onChange((id) => {
        if (id === null) this.all = true;
        else this.dirty.add(id);
        this.schedule();
      }),
    );
    this.timer = setInterval(() => {
      this.all = true;
      this.schedule();
    }, 5000);
    listDevices(this.abort.signal)
      .then((r) => this.store.setDevices(r.devices))
      .catch(() => {
        /* the live socket's snapshot fills the page too */
      });
    this.render();
  }

  destroy(): void {
    for (const off of this.offs) off();
    clearInterval(this.timer);
    cancelAnimationFrame(this.frame);
    this.abort.abort();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const now = Date.now();
    const devices = [...this.store.devices.values()];
    if (this.all) {
      this.all = false;
      this.dirty.clear();
      devices.sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      for (const id of this.cards.keys()) {
        if (!this.store.devices.has(id)) {
          this.cards.get(id)!.el.remove();
          this.cards.delete(id);
        }
      }
      for (const d of devices) {
        let card = this.cards.get(d.id);
        if (!card) this.cards.set(d.id, (card = new DeviceCard(d.id)));
        card.update(d, this.store, now);
        this.backfill(d);
      }
      const order = devices.map((d) => d.id).join('\n');
      if (order !== this.order) {
        this.order = order;
        this.grid.replaceChildren(...devices.map((d) => this.cards.get(d.id)!.el));
      }
    } else {
      for (const id of this.dirty) {
        const d = this.store.devices.get(id);
        if (d) this.cards.get(id)?.update(d, this.store, now);
      }
      this.dirty.clear();
    }
    const online = devices.filter((d) => d.online).length;
    setText(this.summary, devices.length === 0 ? '' : `${devices.length} device${devices.length === 1 ? '' : 's'} · ${online} online`);
    this.renderEmpty(devices.length === 0);
  }

  private renderEmpty(empty: boolean): void {
    this.emptyBox.hidden = !empty;
    this.el.dataset.empty = String(empty && this.store.loaded);
    if (!empty) return;
    const key = this.store.loaded ? 'empty' : 'loading';
    if (this.emptyBox.dataset.state === key) return;
    this.emptyBox.dataset.state = key;
    clear(this.emptyBox);
    if (!this.store.loaded) {
      this.emptyBox.append(h('p', { text: 'Connecting to the hub…' }));
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const cmd = `edgewatch agent --hub ${scheme}://${location.host}/ws/agent`;
    this.emptyBox.append(
      h('h2', { text: 'No device has connected yet' }),
      h('p', { text: 'Start an agent on each device you want to watch:' }),
      h('pre', null, h('code', { text: cmd })),
      h('p', { class: 'muted', text: 'Devices appear here as soon as their agent connects.' }),
    );
  }

  /** Fills a card's sparkline from history, once per device per visit. */
  private backfill(d: DeviceSummary): void {
    const hist = this.store.cpuHistory(d.id);
    // Skip when the live feed already covers most of the window.
    const covered = hist.length > 0 && hist[0]!.t <= hist[hist.length - 1]!.t - 0.8 * SPARK_WINDOW_MS;
    if (this.backfilled.has(d.id) || covered) return;
    if (d.latest?.m['cpu.util'] === undefined) return;
    this.backfilled.add(d.id);
    const to = d.latest.t + 1;
    getSeries(d.id, { metrics: ['cpu.util'], from: to - SPARK_WINDOW_MS, to, points: SPARK_BACKFILL_POINTS }, this.abort.signal)
      .then((r) => {
        const pts = (r.series['cpu.util'] ?? []).map(([t, v]) => ({ t, v }));
        if (pts.length > 0) this.store.backfillCpu(d.id, pts, r.stepMs);
      })
      .catch(() => {
        /* the sparkline fills from the live feed anyway */
      });
  }
}
