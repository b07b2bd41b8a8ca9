// The process table's columns and sorting. Pure data (no DOM), unit-tested in node;
// process-table.ts renders it.
import type { ProcessRow } from '../../../shared/protocol.js';

export type ProcKey = 'pid' | 'name' | 'user' | 'cmd' | 'cpu' | 'rss' | 'readBps' | 'writeBps' | 'gpuMem';
export type SortDir = 'asc' | 'desc';

export interface ProcColumn {
  key: ProcKey;
  label: string;
  numeric: boolean;
  /** Tooltip on the header. */
  title: string;
}

export const PROC_COLUMNS: readonly ProcColumn[] = [
  { key: 'pid', label: 'PID', numeric: true, title: 'Process id' },
  { key: 'name', label: 'Name', numeric: false, title: 'Process name (comm)' },
  { key: 'user', label: 'User', numeric: false, title: 'Owner' },
  { key: 'cmd', label: 'Command', numeric: false, title: 'Command line (hover a row for all of it)' },
  { key: 'cpu', label: 'CPU', numeric: true, title: 'CPU, % of one core' },
  { key: 'rss', label: 'RSS', numeric: true, title: 'Resident memory' },
  { key: 'readBps', label: 'Read', numeric: true, title: 'Storage reads per second' },
  { key: 'writeBps', label: 'Write', numeric: true, title: 'Storage writes per second' },
  { key: 'gpuMem', label: 'GPU mem', numeric: true, title: 'GPU memory held by the process' },
];

export interface SortState {
  key: ProcKey;
  dir: SortDir;
}

export const DEFAULT_SORT: SortState = { key: 'cpu', dir: 'desc' };

/** Clicking a header: the same column flips; another starts descending (numbers) or A→Z (text). */
export function nextSort(current: SortState, key: ProcKey): SortState {
  if (current.key === key) return { key, dir: current.dir === 'desc' ? 'asc' : 'desc' };
  const col = PROC_COLUMNS.find((c) => c.key === key);
  return { key, dir: col?.numeric ? 'desc' : 'asc' };
}

/**
 * Rows in the given order; rows without a value for the column (no I/O or GPU reading) go
 * last either way, and ties keep a stable order by pid.
 */
export function sortRows(rows: readonly ProcessRow[], sort: SortState): ProcessRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return [...rows].sort((a, b) => {
    const va = a[sort.key];
    const vb = b[sort.key];
    const missA = va === undefined || va === '';
    const missB = vb === undefined || vb === '';
    if (missA !== missB) return missA ? 1 : -1;
    let c = 0;
    if (!missA) {
      c = typeof va === 'number' && typeof vb === 'number' ? va - vb : text(va).localeCompare(text(vb), 'en', { numeric: true, sensitivity: 'base' });
    }
    return c !== 0 ? sign * c : a.pid - b.pid;
  });
}

/** A command line cut to `max` characters with an ellipsis; the full text goes in a title. */
export function shortenCommand(cmd: string, max = 60): string {
  const oneLine = cmd.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
