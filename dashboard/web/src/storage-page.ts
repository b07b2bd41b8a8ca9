// The storage page (`#/storage`): how big the database is and where its bytes go. The file's
// size and the bytes in use, bytes per raw value, the size cap and each tier's retention; then
// one table per device with bytes, values, oldest and newest data per tier (raw samples,
// 1-minute and 1-hour rollups), largest device first; the other tables last, folded. Device names are
// untrusted: textContent only.
import { formatAge, formatBytes } from '../../../shared/format.js';
import { STORAGE_TIERS, type DeviceStorage, type StorageResponse, type TierUsage } from '../../../shared/live.js';
import { ApiError } from './api.js';
import { append, clear, h, setText } from './dom.js';
import { getStorage } from './storage-api.js';
import { formatDateTime, formatRetention, TIER_NAMES } from './history-format.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';

const COUNT = new Intl.NumberFormat(undefined);

export class StoragePage implements Page {
  readonly el: HTMLElement;
  private readonly sub = h('p', { class: 'fleet-summary', attrs: { 'aria-live': 'polite' } });
  private readonly content = h('div', { class: 'storage-content' });
  private abort: AbortController | null = null;

  constructor() {
    this.el = h(
      'section',
      { class: 'page storage-page', data: { page: 'storage' } },
      h(
        'div',
        { class: 'page-head' },
        h('h1', { text: 'Storage' }),
        this.sub,
        h('button', { class: 'btn', text: 'Refresh', attrs: { type: 'button' }, data: { action: 'refresh' }, on: { click: () => void this.load() } }),
      ),
      this.content,
    );
  }

  mount(): void {
    document.title = 'Storage · edgewatch';
    void this.load();
  }

  destroy(): void {
    this.abort?.abort();
  }

  private async load(): Promise<void> {
    this.abort?.abort();
    const ctl = new AbortController();
    this.abort = ctl;
    this.el.dataset.loading = 'true';
    setText(this.sub, 'Loading…');
    try {
      const res = await getStorage(ctl.signal);
      if (ctl.signal.aborted) return;
      this.render(res);
      this.el.dataset.state = 'ok';
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.el.dataset.state = 'error';
      clear(this.content);
      const status = err instanceof ApiError ? err.status : 0;
      setText(
        this.sub,
        status === 404
          ? 'This hub does not report storage use (GET /api/v1/storage is missing): update the hub.'
          : `Could not load storage use: ${(err as Error).message ?? err}. Refresh to try again.`,
      );
    } finally {
      if (!ctl.signal.aborted) this.el.dataset.loading = 'false';
    }
  }

  private render(res: StorageResponse): void {
    const devices = [...res.devices].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
    setText(this.sub, `${formatBytes(res.fileBytes)} on disk · ${devices.length} ${devices.length === 1 ? 'device' : 'devices'}`);
    clear(this.content);
    append(this.content, this.summary(res), ...devices.map((d) => this.deviceTable(d)), this.otherTables(res.otherBytes));
    if (devices.length === 0) this.content.append(h('p', { class: 'muted', text: 'No device has stored any data yet.' }));
  }

  private summary(res: StorageResponse): HTMLElement {
    const rows: [string, string, string][] = [
      ['file', 'Database file', `${formatBytes(res.fileBytes)} (with its write-ahead log)`],
      ['used', 'In use', `${formatBytes(res.usedBytes)}${res.fileBytes > 0 ? ` (${Math.round((100 * res.usedBytes) / res.fileBytes)} %; the rest is free pages, reused before the file grows)` : ''}`],
      ['per-value', 'Per raw value', res.rawBytesPerValue === null ? '— (no raw samples yet)' : `${res.rawBytesPerValue.toFixed(1)} bytes`],
      ['cap', 'Size cap', res.sizeCapBytes === null ? 'none: only retention bounds the size' : `${formatBytes(res.sizeCapBytes)}: beyond it the oldest data is dropped`],
      ...STORAGE_TIERS.map((t): [string, string, string] => [`retention-${t}`, `${TIER_NAMES[t]} kept`, formatRetention(res.retentionMs[t])]),
      ['retention-pass', 'Last clean-up', res.lastRetentionAt === null ? 'not yet' : `${formatDateTime(res.lastRetentionAt)} (${formatAge(Date.now() - res.lastRetentionAt)})`],
    ];
    return h(
      'section',
      { class: 'panel storage-summary' },
      h('h2', { text: 'Database' }),
      h('dl', { class: 'storage-facts' }, ...rows.map(([key, k, v]) => h('div', { class: 'inv-row', data: { fact: key } }, h('dt', { text: k }), h('dd', { text: v })))),
    );
  }

  private deviceTable(d: DeviceStorage): HTMLElement {
    const byTier = new Map(d.tiers.map((t) => [t.tier, t] as const));
    const empty: Omit<TierUsage, 'tier'> = { bytes: 0, values: 0, oldest: null, newest: null };
    const when = (t: number | null) => (t === null ? '—' : formatDateTime(t));
    return h(
      'section',
      { class: 'panel storage-device', data: { 'device-id': d.deviceId } },
      h(
        'div',
        { class: 'storage-device-head' },
        h('h2', null, h('a', { text: d.name, attrs: { href: deviceHref(d.deviceId) } })),
        h('span', { class: 'muted mono', text: d.name === d.deviceId ? '' : d.deviceId }),
        h('span', { class: 'storage-total', text: formatBytes(d.bytes), data: { field: 'bytes' } }),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table storage-table' },
          h('thead', null, h('tr', null, ...['Tier', 'Size', 'Values', 'Oldest', 'Newest'].map((t, i) => h('th', { text: t, class: i === 1 || i === 2 ? 'num' : undefined, data: { col: t.toLowerCase() } })))),
          h(
            'tbody',
            null,
            ...STORAGE_TIERS.map((tier) => {
              const u = { ...empty, ...byTier.get(tier) };
              return h(
                'tr',
                { data: { tier } },
                h('td', { text: TIER_NAMES[tier] }),
                h('td', { class: 'num', text: formatBytes(u.bytes), data: { col: 'bytes' } }),
                h('td', { class: 'num', text: COUNT.format(u.values), data: { col: 'values' } }),
                h('td', { text: when(u.oldest), data: { col: 'oldest' } }),
                h('td', { text: when(u.newest), data: { col: 'newest' } }),
              );
            }),
          ),
        ),
      ),
    );
  }

  /** Folded: a list of every table is for the curious, the total is what counts. */
  private otherTables(other: Record<string, number>): HTMLElement | null {
    const rows = Object.entries(other).sort((a, b) => b[1] - a[1]);
    if (rows.length === 0) return null;
    const total = rows.reduce((sum, [, bytes]) => sum + bytes, 0);
    return h(
      'details',
      { class: 'panel storage-other' },
      h(
        'summary',
        null,
        h('h2', { text: 'Other tables' }),
        h('span', { class: 'storage-total', text: formatBytes(total), data: { field: 'other-bytes' } }),
      ),
      h('p', { class: 'muted', text: `Process tables, inference histograms, experiments, logins and the rest: ${rows.length} tables.` }),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table' },
          h('tbody', null, ...rows.map(([name, bytes]) => h('tr', null, h('td', { class: 'mono', text: name }), h('td', { class: 'num', text: formatBytes(bytes) })))),
        ),
      ),
    );
  }
}
