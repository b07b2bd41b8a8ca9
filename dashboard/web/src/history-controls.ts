// The device page's history controls beside the presets: ◀ earlier, zoom in, zoom out, later ▶;
// a custom from/to range in local time; "Compare with…" (the previous window, the same time
// yesterday or last week, or a chosen start) and the legend naming both ranges. Every change
// becomes a new hash (through `navigate`), so the back button and a copied link work.
import { COMPARE_PRESETS, compareOffset, compareStart, compareWindow, parseCompareDate, presetFor, type ComparePreset } from './history-compare.js';
import { h, setText } from './dom.js';
import { formatWindow } from './history-format.js';
import type { DeviceView } from './history-href.js';
import { canPanLater, panWindow, parseRangeInputs, toLocalInput, utcOffsetLabel, zoomInWindow, zoomOutWindow, type TimeWindow } from './history-range.js';

export interface HistoryState {
  view: DeviceView;
  /** The window the charts show now (a preset resolved against `now`). */
  shown: TimeWindow;
  /** Device clock, ms. */
  now: number;
}

let nextId = 0;

export class HistoryControls {
  /** ◀ − + ▶, for the toolbar row. */
  readonly nav: HTMLElement;
  /** Custom range, compare control, their messages and the compare legend. */
  readonly el: HTMLElement;
  private readonly fromInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly rangeError = h('p', { class: 'range-error', attrs: { role: 'alert' }, data: { error: 'range' } });
  private readonly compareSelect: HTMLSelectElement;
  private readonly compareForm: HTMLFormElement;
  private readonly compareInput: HTMLInputElement;
  private readonly compareError = h('p', { class: 'range-error', attrs: { role: 'alert' }, data: { error: 'compare' } });
  private readonly legend = h('p', { class: 'compare-legend', data: { field: 'compare-legend' } });
  private readonly legendA = h('span', { class: 'compare-a' });
  private readonly legendB = h('span', { class: 'compare-b' });
  private readonly tz = h('span', { class: 'range-tz' });
  private readonly buttons: Record<'earlier' | 'later' | 'zoom-in' | 'zoom-out', HTMLButtonElement>;
  private state: HistoryState | null = null;
  /** The inputs hold what the user typed: re-rendering must not overwrite it. */
  private edited = false;
  private viewKey = '';

  constructor(private readonly navigate: (view: DeviceView) => void) {
    const id = `hist-${++nextId}`;
    const button = (action: string, text: string, label: string, fn: () => void) =>
      h('button', { class: 'btn nav-btn', text, attrs: { type: 'button', 'aria-label': label, title: label }, data: { action }, on: { click: fn } });
    this.buttons = {
      earlier: button('pan-earlier', '◀', 'Earlier: move back half a window', () => this.pan(-1)),
      'zoom-out': button('zoom-out', '−', 'Zoom out: twice as long', () => this.zoom('out')),
      'zoom-in': button('zoom-in', '+', 'Zoom in: half as long', () => this.zoom('in')),
      later: button('pan-later', '▶', 'Later: move forward half a window', () => this.pan(1)),
    };
    this.nav = h('div', { class: 'history-nav', attrs: { role: 'group', 'aria-label': 'Move or zoom the time range' } }, ...Object.values(this.buttons));

    const input = (name: string) =>
      h('input', {
        class: 'range-input',
        attrs: { type: 'datetime-local', id: `${id}-${name}`, name, step: 60, required: true, 'aria-describedby': `${id}-tz ${id}-err` },
        on: { input: () => (this.edited = true) },
      });
    this.fromInput = input('from');
    this.toInput = input('to');
    this.tz.id = `${id}-tz`;
    this.rangeError.id = `${id}-err`;
    this.rangeError.hidden = true;
    const rangeForm = h(
      'form',
      { class: 'range-form', data: { form: 'custom-range' }, attrs: { novalidate: true, 'aria-label': 'Custom time range' }, on: { submit: (e) => this.applyRange(e) } },
      h('label', { class: 'range-field' }, h('span', { text: 'From' }), this.fromInput),
      h('label', { class: 'range-field' }, h('span', { text: 'To' }), this.toInput),
      h('button', { class: 'btn', text: 'Show', attrs: { type: 'submit' }, data: { action: 'apply-range' } }),
      this.tz,
    );

    this.compareSelect = h(
      'select',
      { attrs: { id: `${id}-cmp`, name: 'compare' }, data: { field: 'compare' }, on: { change: () => this.pickCompare() } },
      h('option', { text: 'nothing', attrs: { value: '' } }),
      ...COMPARE_PRESETS.map((p) => h('option', { text: p.label, attrs: { value: p.key } })),
      h('option', { text: 'A start I choose…', attrs: { value: 'date' } }),
    );
    this.compareInput = h('input', {
      class: 'range-input',
      attrs: { type: 'datetime-local', id: `${id}-vs`, name: 'vs', step: 60, 'aria-label': 'Start of range B (local time)', 'aria-describedby': `${id}-cmp-err` },
    });
    this.compareError.id = `${id}-cmp-err`;
    this.compareError.hidden = true;
    this.compareForm = h(
      'form',
      { class: 'compare-date', data: { form: 'compare-date' }, attrs: { novalidate: true }, on: { submit: (e) => this.applyCompareDate(e) } },
      this.compareInput,
      h('button', { class: 'btn', text: 'Compare', attrs: { type: 'submit' }, data: { action: 'apply-compare' } }),
    );
    this.compareForm.hidden = true;
    const compare = h(
      'div',
      { class: 'compare-control' },
      h('label', { class: 'range-field', attrs: { for: `${id}-cmp` } }, h('span', { text: 'Compare with' })),
      this.compareSelect,
      this.compareForm,
    );

    this.legend.append(
      h('span', { class: 'compare-item' }, h('span', { class: 'compare-key compare-key-a', attrs: { 'aria-hidden': 'true' } }), this.legendA),
      h('span', { class: 'compare-item' }, h('span', { class: 'compare-key compare-key-b', attrs: { 'aria-hidden': 'true' } }), this.legendB),
      h('button', { class: 'link-btn', text: 'Stop comparing', attrs: { type: 'button' }, data: { action: 'stop-compare' }, on: { click: () => this.setCompare(null) } }),
    );
    this.legend.hidden = true;
    this.el = h('div', { class: 'history-bar' }, h('div', { class: 'history-row' }, rangeForm, compare), this.rangeError, this.compareError, this.legend);
  }

  render(state: HistoryState): void {
    this.state = state;
    const key = JSON.stringify(state.view);
    if (key !== this.viewKey) {
      this.viewKey = key;
      this.edited = false;
      this.showError(this.rangeError, null);
      this.showError(this.compareError, null);
    }
    const focused = document.activeElement === this.fromInput || document.activeElement === this.toInput;
    if (!this.edited && !focused) {
      this.fromInput.value = toLocalInput(state.shown.from);
      this.toInput.value = toLocalInput(state.shown.to);
    }
    setText(this.tz, `Local time, ${utcOffsetLabel(state.shown.from)}`);
    this.buttons.later.disabled = !canPanLater(state.shown, state.now);

    const vs = state.view.vs ?? null;
    const preset = vs === null ? null : presetFor(state.shown, vs);
    if (document.activeElement !== this.compareSelect) {
      this.compareSelect.value = vs === null ? (this.compareForm.hidden ? '' : 'date') : (preset ?? 'date');
    }
    this.compareForm.hidden = this.compareSelect.value !== 'date';
    if (vs !== null && preset === null && !this.compareInput.value) this.compareInput.value = toLocalInput(vs);
    this.legend.hidden = vs === null;
    if (vs !== null) {
      setText(this.legendA, `A: ${formatWindow(state.shown)}`);
      setText(this.legendB, `B: ${formatWindow(compareWindow(state.shown, vs))}`);
    }
  }

  /** The view for window `w`, keeping a comparison at the same distance. */
  private viewFor(w: TimeWindow): DeviceView {
    const s = this.state!;
    const vs = s.view.vs ?? null;
    return { range: s.view.range, window: w, vs: vs === null ? null : w.from - compareOffset(s.shown, vs) };
  }

  private pan(direction: -1 | 1): void {
    if (!this.state) return;
    this.navigate(this.viewFor(panWindow(this.state.shown, direction, this.state.now)));
  }

  private zoom(dir: 'in' | 'out'): void {
    if (!this.state) return;
    const s = this.state;
    this.navigate(this.viewFor(dir === 'in' ? zoomInWindow(s.shown) : zoomOutWindow(s.shown, s.now)));
  }

  /** A zoom from outside (a drag on a chart, an experiment picked). */
  zoomTo(w: TimeWindow): void {
    if (this.state) this.navigate(this.viewFor(w));
  }

  private applyRange(e: SubmitEvent): void {
    e.preventDefault();
    if (!this.state) return;
    const res = parseRangeInputs(this.fromInput.value, this.toInput.value, this.state.now);
    this.fromInput.setAttribute('aria-invalid', String(!res.ok && res.field === 'from'));
    this.toInput.setAttribute('aria-invalid', String(!res.ok && res.field === 'to'));
    if (!res.ok) {
      this.showError(this.rangeError, res.message);
      (res.field === 'from' ? this.fromInput : this.toInput).focus();
      return;
    }
    this.showError(this.rangeError, null);
    this.edited = false;
    this.navigate(this.viewFor(res.window));
  }

  private pickCompare(): void {
    const v = this.compareSelect.value;
    this.showError(this.compareError, null);
    if (v === 'date') {
      this.compareForm.hidden = false;
      if (this.state && !this.compareInput.value) this.compareInput.value = toLocalInput(compareStart(this.state.shown, 'day'));
      this.compareInput.focus();
      return;
    }
    this.compareForm.hidden = true;
    this.setCompare(v === '' || !this.state ? null : compareStart(this.state.shown, v as ComparePreset));
  }

  private applyCompareDate(e: SubmitEvent): void {
    e.preventDefault();
    if (!this.state) return;
    const res = parseCompareDate(this.compareInput.value, this.state.shown, this.state.now);
    this.compareInput.setAttribute('aria-invalid', String(!res.ok));
    if (!res.ok) {
      this.showError(this.compareError, res.message);
      return;
    }
    this.setCompare(res.vs);
  }

  /** Compares with a range starting at `vs` (null: stop); pins the window shown so B stays put. */
  private setCompare(vs: number | null): void {
    const s = this.state;
    if (!s) return;
    if (vs === null) this.compareForm.hidden = true;
    this.navigate({ range: s.view.range, window: s.shown, vs });
  }

  private showError(el: HTMLElement, message: string | null): void {
    setText(el, message ?? '');
    el.hidden = message === null;
    if (message === null && el === this.rangeError) {
      this.fromInput.removeAttribute('aria-invalid');
      this.toInput.removeAttribute('aria-invalid');
    }
  }
}
