// The Jetson panel on the device page: GPU and memory-controller clocks, the hardware
// engines (encoders, decoders, DLA, VIC…) as a grid, the power rails with the board total,
// and the nvpmodel power mode. Rail and engine names come from the device: textContent only.
import { formatValue } from '../../../shared/format.js';
import type { Inventory } from '../../../shared/protocol.js';
import { jetsonRelease, jetsonView, powerModeLabel, type JetsonView } from './board-model.js';
import { clear, h, setText } from './dom.js';

export class JetsonPanel {
  readonly el: HTMLElement;
  private readonly sub = h('span', { class: 'panel-sub' });
  private readonly mode = h('span', { class: 'pill', data: { field: 'power-mode' } });
  private readonly gpuValue = h('span', { class: 'tile-value', data: { field: 'gpu-freq' } });
  private readonly gpuSub = h('span', { class: 'tile-sub', data: { field: 'gpu-util' } });
  private readonly emcValue = h('span', { class: 'tile-value', data: { field: 'emc-freq' } });
  private readonly emcSub = h('span', { class: 'tile-sub', data: { field: 'emc-util' } });
  private readonly boardValue = h('span', { class: 'tile-value', data: { field: 'board-power' } });
  private readonly boardSub = h('span', { class: 'tile-sub', data: { field: 'board-avg' } });
  private readonly engines = h('div', { class: 'engine-grid' });
  private readonly enginesBlock: HTMLElement;
  private readonly railsBody = h('tbody');
  private readonly railsBlock: HTMLElement;
  private readonly avgHead = h('th', { class: 'num', text: 'Average' });
  private structure = '';
  private readonly tiles = h(
    'div',
    { class: 'tiles' },
    h('div', { class: 'tile' }, h('span', { class: 'tile-label', text: 'GPU clock' }), this.gpuValue, this.gpuSub),
    h('div', { class: 'tile' }, h('span', { class: 'tile-label', text: 'Memory (EMC)' }), this.emcValue, this.emcSub),
    h('div', { class: 'tile tile-power' }, h('span', { class: 'tile-label', text: 'Board power' }), this.boardValue, this.boardSub),
  );

  constructor() {
    this.enginesBlock = h('div', { class: 'panel-block' }, h('h3', { text: 'Engines' }), this.engines);
    this.railsBlock = h(
      'div',
      { class: 'panel-block' },
      h('h3', { text: 'Power rails' }),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table rails-table' },
          h('thead', null, h('tr', null, h('th', { text: 'Rail' }), h('th', { class: 'num', text: 'Now' }), this.avgHead)),
          this.railsBody,
        ),
      ),
    );
    this.el = h(
      'section',
      { class: 'panel jetson-panel', data: { panel: 'jetson' } },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Jetson' }), this.sub, this.mode),
      h('div', { class: 'jetson-body' }, h('div', { class: 'jetson-main' }, this.tiles, this.enginesBlock), this.railsBlock),
    );
  }

  render(m: Readonly<Record<string, number>>, inventory: Inventory | undefined): void {
    const v = jetsonView(m);
    const j = inventory?.jetson;
    setText(this.sub, [jetsonRelease(inventory), j?.soc].filter(Boolean).join(' · '));
    const mode = powerModeLabel(inventory);
    setText(this.mode, mode ? `Power mode ${mode}` : '');
    this.mode.hidden = !mode;
    setText(this.gpuValue, formatValue(v.gpu.freq, 'MHz'));
    setText(this.gpuSub, v.gpu.util === undefined ? '' : `load ${formatValue(v.gpu.util, '%')}`);
    setText(this.emcValue, formatValue(v.emc.freq, 'MHz'));
    setText(this.emcSub, v.emc.util === undefined ? '' : `load ${formatValue(v.emc.util, '%')}`);
    setText(this.boardValue, formatValue(v.board.now, 'W'));
    setText(this.boardSub, v.board.avg === undefined ? '' : `average ${formatValue(v.board.avg, 'W')}`);
    this.renderStructure(v);
    for (const e of v.engines) {
      const cell = this.engines.querySelector<HTMLElement>(`[data-engine="${e.key}"]`);
      if (!cell) continue;
      const off = e.on === false;
      cell.classList.toggle('is-off', off);
      cell.dataset.on = e.on === null ? 'unknown' : String(e.on);
      setText(cell.querySelector('.engine-state')!, off ? 'off' : e.on ? 'on' : '');
      setText(cell.querySelector('.engine-util')!, off || e.util === undefined ? '' : formatValue(e.util, '%'));
      setText(cell.querySelector('.engine-freq')!, off || e.freq === undefined ? '' : formatValue(e.freq, 'MHz'));
    }
    const rows = this.railsBody.children;
    v.rails.forEach((r, i) => {
      const tr = rows[i] as HTMLElement | undefined;
      if (!tr) return;
      setText(tr.children[1]!, formatValue(r.now, 'W'));
      setText(tr.children[2]!, formatValue(r.avg, 'W'));
    });
    const total = this.railsBody.querySelector<HTMLElement>('tr.is-total');
    if (total) {
      setText(total.children[1]!, formatValue(v.board.now, 'W'));
      setText(total.children[2]!, formatValue(v.board.avg, 'W'));
    }
  }

  /** Rebuilds the engine cells and rail rows only when the set of engines or rails changes. */
  private renderStructure(v: JetsonView): void {
    const key = JSON.stringify([v.engines.map((e) => e.key), v.rails.map((r) => r.key), v.board.now !== undefined]);
    if (key === this.structure) return;
    this.structure = key;
    clear(this.engines);
    for (const e of v.engines) {
      this.engines.append(
        h(
          'div',
          { class: 'engine', data: { engine: e.key } },
          h('span', { class: 'engine-row' }, h('span', { class: 'engine-name', text: e.name, attrs: { title: e.name } }), h('span', { class: 'engine-state' })),
          h('span', { class: 'engine-row' }, h('span', { class: 'engine-util' }), h('span', { class: 'engine-freq' })),
        ),
      );
    }
    this.enginesBlock.hidden = v.engines.length === 0;
    clear(this.railsBody);
    for (const r of v.rails) {
      this.railsBody.append(h('tr', { data: { rail: r.key } }, h('td', { class: 'mono', text: r.name }), h('td', { class: 'num' }), h('td', { class: 'num' })));
    }
    if (v.board.now !== undefined) {
      this.railsBody.append(h('tr', { class: 'is-total', data: { rail: 'board' } }, h('td', { text: 'Board total' }), h('td', { class: 'num' }), h('td', { class: 'num' })));
    }
    this.railsBlock.hidden = this.railsBody.children.length === 0;
  }
}
