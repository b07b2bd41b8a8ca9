// The storage page (`#/storage`): how big the database is and where its bytes go. The file's
// size and the bytes in use, bytes per raw value, the size cap and each tier's retention; then
// one table per device with bytes, values, oldest and newest data per tier (raw samples,
// 1-minute and 1-hour rollups), largest device first; the other tables last, folded. Raw values
// are shown sealed and not yet sealed, with why the per-value figure starts high (a window's
// values are compressed only once it is sealed). The device tables scroll sideways on a phone,
// with a cue. Device names are untrusted: textContent only.
import { formatAge, formatBytes } from '../../../shared/format.js';
import { STORAGE_TIERS, type DeviceStorage, type RawSealUsage, type RemoteWriteStatus, type StorageResponse, type TierUsage } from '../../../shared/live.js';
import { ApiError } from './api.js';
import { append, clear, h, setText } from './dom.js';
import { getStorage } from './storage-api.js';
import { formatDateTime, formatRetention, TIER_NAMES } from './history-format.js';
import type { Page } from './page.js';
import { deviceHref } from './router.js';
import { scrollCue } from './scroll-cue.js';

const COUNT = new Intl.NumberFormat(undefined);

export class StoragePage implements Page {
  readonly el: HTMLElement;
  private readonly sub = h('p', { class: 'fleet-summary', attrs: { 'aria-live': 'polite' } });
  private readonly content = h('div', { class: 'storage-content' });
  private abort: AbortController | null = null;
  /** Scroll cues of the rendered tables: stopped on the next render and on destroy. */
  private disposers: (() => void)[] = [];

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
    this.stopCues();
  }

  private stopCues(): void {
    for (const d of this.disposers) d();
    this.disposers = [];
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
    this.stopCues();
    append(this.content, this.summary(res), this.remoteWrite(res.remoteWrite ?? []), ...devices.map((d) => this.deviceTable(d)), this.otherTables(res.otherBytes));
    if (devices.length === 0) this.content.append(h('p', { class: 'muted', text: 'No device has stored any data yet.' }));
  }

  private summary(res: StorageResponse): HTMLElement {
    const rows: [string, string, string][] = [
      ['file', 'Database file', `${formatBytes(res.fileBytes)} (with its write-ahead log)`],
      ['used', 'In use', `${formatBytes(res.usedBytes)}${res.fileBytes > 0 ? ` (${Math.round((100 * res.usedBytes) / res.fileBytes)} %; the rest is free pages, reused before the file grows)` : ''}`],
      ['per-value', 'Per raw value', res.rawBytesPerValue === null ? '— (no raw samples yet)' : `${res.rawBytesPerValue.toFixed(1)} bytes${res.rawSealed && res.rawUnsealed ? ' (all raw values, sealed or not)' : ''}`],
      ...(res.rawSealed && res.rawUnsealed
        ? ([
            ['sealed', 'Sealed values', sealLine(res.rawSealed, 'none yet: no 15-minute window has been sealed')],
            ['unsealed', 'Not yet sealed', sealLine(res.rawUnsealed, 'none: every window is sealed')],
          ] as [string, string, string][])
        : []),
      ['cap', 'Size cap', res.sizeCapBytes === null ? 'none: only retention bounds the size' : `${formatBytes(res.sizeCapBytes)}: beyond it the oldest data is dropped`],
      ...STORAGE_TIERS.map((t): [string, string, string] => [`retention-${t}`, `${TIER_NAMES[t]} kept`, formatRetention(res.retentionMs[t])]),
      ['retention-pass', 'Last clean-up', res.lastRetentionAt === null ? 'not yet' : `${formatDateTime(res.lastRetentionAt)} (${formatAge(Date.now() - res.lastRetentionAt)})`],
    ];
    return h(
      'section',
      { class: 'panel storage-summary' },
      h('h2', { text: 'Database' }),
      h('dl', { class: 'storage-facts' }, ...rows.map(([key, k, v]) => h('div', { class: 'inv-row', data: { fact: key } }, h('dt', { text: k }), h('dd', { text: v })))),
      sealingNote(res),
    );
  }

  private deviceTable(d: DeviceStorage): HTMLElement {
    const byTier = new Map(d.tiers.map((t) => [t.tier, t] as const));
    const empty: Omit<TierUsage, 'tier'> = { bytes: 0, values: 0, oldest: null, newest: null };
    const when = (t: number | null) => (t === null ? '—' : formatDateTime(t));
    const rows: HTMLElement[] = [];
    for (const tier of STORAGE_TIERS) {
      const u = { ...empty, ...byTier.get(tier) };
      rows.push(
        h(
          'tr',
          { data: { tier } },
          h('td', { text: TIER_NAMES[tier] }),
          h('td', { class: 'num', text: formatBytes(u.bytes), data: { col: 'bytes' } }),
          h('td', { class: 'num', text: COUNT.format(u.values), data: { col: 'values' } }),
          h('td', { text: when(u.oldest), data: { col: 'oldest' } }),
          h('td', { text: when(u.newest), data: { col: 'newest' } }),
        ),
      );
      // The raw tier's two parts: compressed windows, and the rows still waiting for their window to close.
      if (tier === 'raw' && u.sealed && u.unsealed) {
        const sub = (key: string, label: string, part: { values: number; bytes: number }, note: string) =>
          h(
            'tr',
            { class: 'storage-subrow', data: { tier: key } },
            h('td', { text: label }),
            h('td', { class: 'num', text: formatBytes(part.bytes), data: { col: 'bytes' } }),
            h('td', { class: 'num', text: COUNT.format(part.values), data: { col: 'values' } }),
            h('td', { class: 'storage-subnote', text: note, attrs: { colspan: 2 }, data: { col: 'note' } }),
          );
        const perValue = (p: { values: number; bytes: number }) => (p.values > 0 ? `${(p.bytes / p.values).toFixed(1)} B a value` : '');
        rows.push(sub('raw-sealed', 'sealed', u.sealed, perValue(u.sealed)));
        const waits = u.unsealed.windowEnd === null ? '' : `window ends ${formatDateTime(u.unsealed.windowEnd)}`;
        rows.push(sub('raw-unsealed', 'not yet sealed', u.unsealed, [perValue(u.unsealed), waits].filter(Boolean).join(' · ')));
      }
    }
    const table = h(
      'table',
      { class: 'data-table storage-table' },
      h('thead', null, h('tr', null, ...['Tier', 'Size', 'Values', 'Oldest', 'Newest'].map((t, i) => h('th', { text: t, class: i === 1 || i === 2 ? 'num' : undefined, data: { col: t.toLowerCase() } })))),
      h('tbody', null, ...rows),
    );
    const cue = scrollCue(h('div', { class: 'table-wrap' }, table), 'Scroll sideways for the newest data →');
    this.disposers.push(cue.dispose);
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
      cue.el,
    );
  }

  /** One row per remote-write destination: whether it keeps up, and what went wrong last. */
  private remoteWrite(destinations: readonly RemoteWriteStatus[]): HTMLElement | null {
    if (destinations.length === 0) return null;
    const row = (d: RemoteWriteStatus) =>
      h(
        'tr',
        { data: { destination: d.name } },
        h('td', null, h('div', { text: d.name }), h('div', { class: 'muted mono', text: d.url })),
        h('td', { class: 'num', text: COUNT.format(d.sent), data: { col: 'sent' } }),
        h('td', { class: `num${d.pending > 0 ? ' storage-behind' : ''}`, text: COUNT.format(d.pending), data: { col: 'pending' } }),
        h('td', { class: `num${d.failed > 0 ? ' storage-failed' : ''}`, text: COUNT.format(d.failed), data: { col: 'failed' } }),
        h('td', { class: 'num', text: d.pending === 0 ? 'caught up' : `${formatAge(d.lagSeconds * 1000).replace(/ ago$/, '')} behind`, data: { col: 'lag' } }),
        h('td', {
          text: d.lastError === null ? '—' : `${d.lastError}${d.lastErrorAt === null ? '' : ` (${formatAge(Date.now() - d.lastErrorAt)})`}`,
          class: 'storage-error',
          data: { col: 'error' },
        }),
      );
    const table = h(
      'table',
      { class: 'data-table storage-table' },
      h('thead', null, h('tr', null, ...['Destination', 'Sent', 'Pending', 'Failed', 'Lag', 'Last error'].map((t, i) => h('th', { text: t, class: i >= 1 && i <= 4 ? 'num' : undefined })))),
      h('tbody', null, ...destinations.map(row)),
    );
    const cue = scrollCue(h('div', { class: 'table-wrap' }, table), 'Scroll sideways for the last error →');
    this.disposers.push(cue.dispose);
    return h(
      'section',
      { class: 'panel storage-remote-write', data: { panel: 'remote-write' } },
      h('h2', { text: 'Remote write' }),
      h('p', {
        class: 'muted',
        text: 'Every committed sample is queued here and sent in order; pending samples stay on disk until the receiver accepts them. Counts are since the hub started.',
      }),
      cue.el,
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

/** "2.5 bytes a value · 30,600 values · 76 KiB", or what an empty part means. */
function sealLine(u: RawSealUsage, none: string): string {
  if (u.values === 0 || u.bytesPerValue === null) return `— (${none})`;
  return `${u.bytesPerValue.toFixed(1)} bytes a value · ${COUNT.format(u.values)} values · ${formatBytes(u.bytes)}`;
}

/**
 * Why the per-value figure starts high and falls: samples wait one row per sample time until
 * their 15-minute window is sealed, then each metric is compressed into a column.
 */
function sealingNote(res: StorageResponse): HTMLElement | null {
  const s = res.sealing;
  if (!s) return null;
  const n = (ms: number) => Math.round(ms / 60_000);
  const minutes = (ms: number) => (n(ms) === 1 ? 'a minute' : `${n(ms)} minutes`);
  const early = res.rawSealed !== undefined && res.rawSealed.values === 0 && (res.rawUnsealed?.values ?? 0) > 0;
  return h(
    'p',
    { class: 'storage-note', data: { note: 'sealing', state: early ? 'unsealed-only' : 'sealed' } },
    `Raw values shrink once their ${n(s.windowMs)}-minute window is sealed. Until then a device's samples are kept one row per sample time, ` +
      `several bytes a value; about ${minutes(s.graceMs)} after a window ends (or ${minutes(s.idleMs)} after, for a device that went quiet) ` +
      `it is sealed: each metric is compressed into one column, a fraction of the bytes. ` +
      (early
        ? 'No window has been sealed yet, so the figure above is the unsealed cost; it falls as windows are sealed, towards a byte or less a value once days of data are stored.'
        : 'The overall figure mixes both and falls towards the sealed one as more windows are sealed; with little data, part-filled database pages still add to it.'),
  );
}
