// The Raspberry Pi panel: the firmware's throttling and under-voltage flags as badges (red:
// happening now, amber: happened since boot, green: never), each set flag with the time it was
// last seen in the selected range, read from the series API; plus the ARM and core clocks and
// the core voltage.
import { formatAge, formatValue } from '../../../shared/format.js';
import { getSeries } from './api.js';
import { flagState, flagTiming, flagWhen, PI_CONDITIONS, refineTiming, type FlagTiming, type PiCondition } from './board-model.js';
import { h, setText } from './dom.js';

/** Points per flag series: enough to place an event within a few minutes of a day. */
const FLAG_POINTS = 720;

export interface FlagWindow {
  from: number;
  to: number;
  /** "the last 24 h", "this range": what "not in …" refers to. */
  label: string;
}

const fmtToday = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fmtOther = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fmtFull = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function shortTime(t: number): string {
  const d = new Date(t);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? fmtToday.format(d) : fmtOther.format(d);
}

export class PiPanel {
  readonly el: HTMLElement;
  private readonly badges = h('div', { class: 'flag-badges' });
  private readonly tiles = h('div', { class: 'tiles' });
  private readonly timing = new Map<PiCondition, FlagTiming>();
  private window: FlagWindow | null = null;
  private stepMs = 0;
  private abort: AbortController | null = null;
  private lastStates = '';
  private values: Readonly<Record<string, number>> = {};
  private timingAt = 0;

  constructor(private readonly deviceId: string) {
    for (const c of PI_CONDITIONS) {
      this.badges.append(
        h(
          'div',
          { class: 'flag', data: { flag: c.key, state: 'unknown' }, attrs: { role: 'status' } },
          h('span', { class: 'flag-dot', attrs: { 'aria-hidden': 'true' } }),
          h('span', { class: 'flag-label', text: c.label }),
          h('span', { class: 'flag-when' }),
        ),
      );
    }
    this.el = h(
      'section',
      { class: 'panel pi-panel', data: { panel: 'pi' } },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Raspberry Pi' }), h('span', { class: 'panel-sub', text: 'firmware throttling flags' })),
      h('div', { class: 'pi-body' }, this.badges, this.tiles),
    );
  }

  destroy(): void {
    this.abort?.abort();
  }

  /** Latest values from the device (live feed or summary). */
  render(m: Readonly<Record<string, number>>): void {
    this.values = m;
    const states = PI_CONDITIONS.map((c) => flagState(m, c.key)).join(',');
    // A flag that changed state (or a stale answer in live mode) asks the series API again.
    if (this.window && states !== this.lastStates && this.lastStates !== '') void this.loadTiming(this.window);
    this.lastStates = states;
    this.renderBadges();
    this.renderTiles(m);
  }

  /** Looks up, for every flag, when it was last set within `w`. */
  async loadTiming(w: FlagWindow): Promise<void> {
    this.window = w;
    this.abort?.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    const metrics = PI_CONDITIONS.map((c) => `pi.throttle.${c.key}`);
    try {
      const res = await getSeries(this.deviceId, { metrics, from: w.from, to: w.to, points: FLAG_POINTS }, ctl.signal);
      if (ctl.signal.aborted) return;
      const timing = new Map<PiCondition, FlagTiming>();
      for (const c of PI_CONDITIONS) timing.set(c.key, flagTiming(res.series[`pi.throttle.${c.key}`] ?? [], res.stepMs));
      let step = res.stepMs;
      if (res.stepMs > 0) {
        // Buckets place an event within stepMs; the raw samples of that one bucket place it exactly.
        await Promise.all(
          PI_CONDITIONS.map(async (c) => {
            const coarse = timing.get(c.key)!;
            // A run that reaches the newest point is sharpened at its start (for a run that covers
            // the whole range, the first raw sample); otherwise the last time the flag was set.
            // Decided from the series, not from the latest live values, which may not have
            // arrived yet when this runs.
            const which = coarse.runStart !== null ? 'run' : 'last';
            const t = which === 'run' ? coarse.runStart : coarse.last;
            if (t === null) return;
            const fine = await getSeries(
              this.deviceId,
              { metrics: [`pi.throttle.${c.key}`], from: t, to: t + res.stepMs, points: 5000 },
              ctl.signal,
            );
            timing.set(c.key, refineTiming(coarse, which, fine.series[`pi.throttle.${c.key}`] ?? []));
            if (fine.stepMs === 0) step = 0;
          }),
        );
        if (ctl.signal.aborted) return;
      }
      this.stepMs = step;
      this.timing.clear();
      for (const [k, v] of timing) this.timing.set(k, v);
      this.timingAt = Date.now();
      this.el.dataset.timing = 'loaded';
    } catch {
      if (ctl.signal.aborted) return;
      this.timing.clear();
      this.el.dataset.timing = 'failed';
    }
    this.renderBadges();
  }

  /** When the last lookup is older than `maxAgeMs`, repeats it for a window ending now. */
  refreshIfStale(w: FlagWindow, maxAgeMs: number): void {
    if (Date.now() - this.timingAt > maxAgeMs) void this.loadTiming(w);
  }

  private renderBadges(): void {
    const now = Date.now();
    for (const c of PI_CONDITIONS) {
      const badge = this.badges.querySelector<HTMLElement>(`[data-flag="${c.key}"]`);
      if (!badge) continue;
      const state = flagState(this.values, c.key);
      const timing = this.timing.get(c.key) ?? null;
      badge.dataset.state = state;
      const when = flagWhen(state, this.window ? timing : null, {
        now,
        rangeLabel: this.window?.label ?? 'this range',
        format: shortTime,
        age: formatAge,
      });
      setText(badge.querySelector('.flag-when')!, when);
      let title = `${c.label}: ${when}`;
      if (timing?.last != null && (state === 'now' || state === 'since-boot')) {
        title += `\nLast set ${fmtFull.format(new Date(timing.last))}${this.stepMs > 0 ? ` (within ${Math.round(this.stepMs / 1000)} s)` : ''}`;
      }
      badge.title = title;
    }
  }

  private renderTiles(m: Readonly<Record<string, number>>): void {
    const tiles: [string, string, string][] = [];
    const clocks = Object.keys(m)
      .filter((k) => /^pi\.clock\.[a-z0-9_]+$/.test(k))
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    for (const k of clocks.slice(0, 4)) tiles.push([k, `${labelOf(k.slice('pi.clock.'.length))} clock`, formatValue(m[k], 'MHz')]);
    const volts = Object.keys(m)
      .filter((k) => /^pi\.volt\.[a-z0-9_]+$/.test(k))
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    for (const k of volts.slice(0, 2)) tiles.push([k, `${labelOf(k.slice('pi.volt.'.length))} voltage`, formatValue(m[k], 'V')]);
    const key = tiles.map((t) => t[0]).join(',');
    if (this.tiles.dataset.key !== key) {
      this.tiles.dataset.key = key;
      this.tiles.replaceChildren(
        ...tiles.map(([metric, label]) =>
          h('div', { class: 'tile', data: { metric } }, h('span', { class: 'tile-label', text: label }), h('span', { class: 'tile-value' })),
        ),
      );
    }
    tiles.forEach(([metric, , value]) => {
      const el = this.tiles.querySelector(`[data-metric="${metric}"] .tile-value`);
      if (el) setText(el, value);
    });
    this.tiles.hidden = tiles.length === 0;
  }
}

const ORDER = ['arm', 'core', 'v3d', 'sdram_c', 'sdram_i', 'sdram_p'];
function rank(metric: string): number {
  const i = ORDER.indexOf(metric.slice(metric.lastIndexOf('.') + 1));
  return i < 0 ? ORDER.length : i;
}

function labelOf(seg: string): string {
  if (seg === 'arm') return 'ARM';
  if (seg === 'v3d') return 'V3D';
  const s = seg.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
