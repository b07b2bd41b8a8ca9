// The device page's "Export" menu: CSV, JSON and NDJSON downloads of the window and metrics
// shown, straight from the hub's export API. The links are rebuilt when the menu opens, so in
// live mode they cover the window as it is then, not as it was at load.
import { h } from './dom.js';
import { EXPORT_FORMATS, exportFileName, exportUrl, type ExportSpec } from './history-export.js';

export class ExportMenu {
  readonly el: HTMLDetailsElement;
  private readonly links: { format: ExportSpec['format']; a: HTMLAnchorElement }[];
  private readonly onDocClick = (e: MouseEvent) => {
    if (this.el.open && !this.el.contains(e.target as Node)) this.el.open = false;
  };
  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && this.el.open) {
      this.el.open = false;
      this.el.querySelector('summary')?.focus();
    }
  };

  constructor(
    private readonly deviceId: string,
    /** The window and metrics to export now; null while nothing is loaded. */
    private readonly current: () => Omit<ExportSpec, 'format'> | null,
  ) {
    this.links = EXPORT_FORMATS.map((f) => ({
      format: f.format,
      a: h('a', { class: 'export-link', text: f.label, data: { export: f.format } }),
    }));
    this.el = h(
      'details',
      { class: 'export-menu', data: { menu: 'export' }, on: { toggle: () => this.el.open && this.update() } },
      h('summary', { class: 'btn', text: 'Export' }),
      h('div', { class: 'export-list', attrs: { role: 'group', 'aria-label': 'Download this range' } }, ...this.links.map((l) => l.a)),
    );
    document.addEventListener('click', this.onDocClick);
    this.el.addEventListener('keydown', this.onKey);
  }

  /** Points the links at the current window and metrics. */
  update(): void {
    const spec = this.current();
    for (const { format, a } of this.links) {
      if (!spec) {
        a.removeAttribute('href');
        continue;
      }
      const full = { ...spec, format };
      a.href = exportUrl(this.deviceId, full);
      a.download = exportFileName(this.deviceId, full);
    }
  }

  destroy(): void {
    document.removeEventListener('click', this.onDocClick);
  }
}
