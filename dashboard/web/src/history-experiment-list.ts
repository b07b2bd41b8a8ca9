// "Experiments in this range": one button per experiment overlapping the window shown, in its
// band's colour; a click zooms to the experiment (as a click on its band does). Names are
// untrusted: textContent only.
import { clear, h } from './dom.js';
import type { ExperimentSummary } from './experiment-types.js';
import { bandColors } from './experiments-model.js';

/** Buttons shown at most; the rest are counted. */
const MAX_SHOWN = 12;

export class ExperimentJumpList {
  readonly el = h('div', { class: 'exp-jump', data: { field: 'experiment-list' } });
  private readonly list = h('div', { class: 'exp-jump-list' });

  constructor(private readonly onPick: (e: ExperimentSummary) => void) {
    this.el.append(h('span', { class: 'exp-jump-label', text: 'Experiments in this range — zoom to:' }), this.list);
    this.el.hidden = true;
  }

  render(experiments: readonly ExperimentSummary[]): void {
    clear(this.list);
    this.el.hidden = experiments.length === 0;
    const colors = bandColors(experiments.map((e) => e.name));
    const sorted = [...experiments].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
    for (const e of sorted.slice(0, MAX_SHOWN)) {
      const dot = h('span', { class: 'exp-dot', attrs: { 'aria-hidden': 'true' } });
      dot.style.background = colors.get(e.name) ?? '';
      this.list.append(
        h(
          'button',
          { class: 'exp-chip exp-jump-btn', attrs: { type: 'button', title: `Zoom to ${e.name}` }, data: { 'experiment-id': e.id }, on: { click: () => this.onPick(e) } },
          dot,
          h('span', { class: 'exp-chip-name', text: e.name }),
        ),
      );
    }
    if (sorted.length > MAX_SHOWN) this.list.append(h('span', { class: 'muted', text: `+${sorted.length - MAX_SHOWN} more` }));
  }
}
