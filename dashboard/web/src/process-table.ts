// The process table on the device page: the device's top processes by CPU and memory,
// sortable by any column (the choice survives live updates). Names, users and commands come
// from the device and only ever reach the page as text.
import { formatBytes, formatRate } from '../../../shared/format.js';
import type { ProcessRow, ProcessTable } from '../../../shared/protocol.js';
import { clear, h, setText } from './dom.js';
import { scrollCue } from './scroll-cue.js';
import { DEFAULT_SORT, nextSort, PROC_COLUMNS, shortenCommand, sortRows, type ProcColumn, type ProcKey, type SortState } from './process-model.js';
import { fullTime } from './time-axis.js';

/** Columns hidden when no row has a value for them. */
const OPTIONAL: readonly ProcKey[] = ['user', 'readBps', 'writeBps', 'gpuMem'];

export class ProcessTableView {
  readonly el: HTMLElement;
  private readonly meta = h('span', { class: 'panel-sub', data: { field: 'procs-meta' } });
  private readonly headRow = h('tr');
  private readonly body = h('tbody');
  private readonly table: HTMLTableElement;
  private readonly empty = h('p', { class: 'muted procs-empty', text: 'No process table yet.' });
  private sort: SortState = DEFAULT_SORT;
  private current: { t: number; table: ProcessTable } | null = null;
  private columns: readonly ProcColumn[] = PROC_COLUMNS;
  /** A phone shows part of the table: "scroll sideways" and a fade while there is more. */
  private readonly cue: { el: HTMLElement; dispose: () => void };

  constructor() {
    this.table = h('table', { class: 'data-table proc-table' }, h('thead', null, this.headRow), this.body);
    this.cue = scrollCue(h('div', { class: 'table-wrap' }, this.table), 'Scroll sideways for all columns →');
    this.el = h(
      'section',
      { class: 'panel procs-panel', data: { panel: 'processes' } },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Processes' }), this.meta),
      this.cue.el,
      this.empty,
    );
    this.el.dataset.sort = `${this.sort.key}:${this.sort.dir}`;
    this.renderHead();
    this.show(null, null);
  }

  destroy(): void {
    this.cue.dispose();
  }

  /** Time (device clock) of the table shown, or null. */
  get time(): number | null {
    return this.current?.t ?? null;
  }

  /** Shows a table (null: none at this time, with `emptyText` saying why). */
  show(t: number | null, table: ProcessTable | null, emptyText = 'No process table yet.'): void {
    this.current = t !== null && table ? { t, table } : null;
    this.el.dataset.t = t === null ? '' : String(t);
    if (!this.current) {
      clear(this.body);
      this.table.hidden = true;
      this.empty.hidden = false;
      setText(this.empty, emptyText);
      setText(this.meta, '');
      this.el.dataset.rows = '0';
      return;
    }
    this.table.hidden = false;
    this.empty.hidden = true;
    this.render();
  }

  private render(): void {
    const cur = this.current;
    if (!cur) return;
    const rows = cur.table.rows;
    const columns = PROC_COLUMNS.filter((c) => !OPTIONAL.includes(c.key) || rows.some((r) => r[c.key] !== undefined && r[c.key] !== ''));
    if (columns.map((c) => c.key).join() !== this.columns.map((c) => c.key).join()) {
      this.columns = columns;
      this.renderHead();
    }
    const shown = `${rows.length} of ${cur.table.total} processes`;
    setText(this.meta, `${shown} · ${fullTime(cur.t)}`);
    this.el.dataset.rows = String(rows.length);
    this.el.dataset.total = String(cur.table.total);
    const sorted = sortRows(rows, this.sort);
    const frag = document.createDocumentFragment();
    for (const r of sorted) frag.append(this.row(r));
    clear(this.body);
    this.body.append(frag);
  }

  private row(r: ProcessRow): HTMLElement {
    const tr = h('tr', { data: { pid: r.pid } });
    for (const c of this.columns) {
      switch (c.key) {
        case 'pid':
          tr.append(h('td', { class: 'num', data: { col: 'pid' }, text: String(r.pid) }));
          break;
        case 'name':
          tr.append(h('td', { class: 'proc-name', data: { col: 'name' }, text: r.name, attrs: { title: [r.user ? `${r.name} (${r.user})` : r.name, r.cmd].join('\n') } }));
          break;
        case 'user':
          tr.append(h('td', { class: 'proc-user', data: { col: 'user' }, text: r.user ?? '' }));
          break;
        case 'cmd':
          tr.append(h('td', { class: 'proc-cmd mono', data: { col: 'cmd' }, text: shortenCommand(r.cmd), attrs: { title: r.cmd } }));
          break;
        case 'cpu':
          tr.append(h('td', { class: 'num', data: { col: 'cpu' }, text: `${r.cpu.toFixed(r.cpu >= 100 ? 0 : 1)} %` }));
          break;
        case 'rss':
          tr.append(h('td', { class: 'num', data: { col: 'rss' }, text: formatBytes(r.rss) }));
          break;
        case 'readBps':
        case 'writeBps': {
          const v = r[c.key];
          tr.append(h('td', { class: 'num', data: { col: c.key }, text: v === undefined ? '—' : formatRate(v) }));
          break;
        }
        case 'gpuMem':
          tr.append(h('td', { class: 'num', data: { col: 'gpuMem' }, text: r.gpuMem === undefined ? '—' : formatBytes(r.gpuMem) }));
          break;
      }
    }
    return tr;
  }

  private renderHead(): void {
    clear(this.headRow);
    for (const c of this.columns) {
      const active = this.sort.key === c.key;
      const arrow = active ? (this.sort.dir === 'desc' ? ' ▼' : ' ▲') : '';
      this.headRow.append(
        h(
          'th',
          {
            class: c.numeric ? 'num' : '',
            data: { 'sort-key': c.key },
            attrs: { 'aria-sort': active ? (this.sort.dir === 'desc' ? 'descending' : 'ascending') : null, scope: 'col' },
          },
          h('button', {
            class: `sort-btn${active ? ' is-active' : ''}`,
            text: `${c.label}${arrow}`,
            attrs: { type: 'button', title: `${c.title}: sort` },
            on: { click: () => this.setSort(nextSort(this.sort, c.key)) },
          }),
        ),
      );
    }
  }

  setSort(sort: SortState): void {
    this.sort = sort;
    this.el.dataset.sort = `${sort.key}:${sort.dir}`;
    this.renderHead();
    this.render();
  }
}
