// One frame of `edgewatch top`: a snapshot in, the screen's lines out, at a given width and
// height. Pure (no terminal, no clock of its own), so every layout is unit-tested. Lines never
// exceed `width` columns; a finite `height` is filled exactly (sections shrink, the process
// table takes what is left); `height: Infinity` (--once) shows everything.
import { formatBytes, formatRate, formatValue } from '../../shared/format.js';
import type { ProcessRow } from '../../shared/protocol.js';
import type { ModelStat } from './models.js';
import type { TopSnapshot } from './snapshot.js';
import { bar, fit, padEnd, padStart, painter, sanitize, visibleWidth, type Painter } from './text.js';

export type SortKey = 'cpu' | 'mem';

export type TopSource =
  | { readonly kind: 'agent'; readonly url: string }
  | { readonly kind: 'direct'; readonly why: string };

export interface FrameOptions {
  readonly width: number;
  readonly height: number;
  readonly sort: SortKey;
  readonly help: boolean;
  readonly color: boolean;
  /** Wall clock for the header and ages (ms). */
  readonly now: number;
  readonly source: TopSource;
  readonly models: readonly ModelStat[];
  /** A problem to show under the header, e.g. the agent stopped answering. */
  readonly status?: string;
}

interface Section {
  readonly lines: string[];
  /** Fewest lines it can be cut to; 0 lets it be dropped. */
  readonly min: number;
  /** Lower is cut first when the screen is short. */
  readonly priority: number;
}

const MIN_WIDTH = 40;
const CORE_CELL = 26;

export function renderFrame(snap: TopSnapshot, opts: FrameOptions): string[] {
  const width = Math.max(MIN_WIDTH, Math.floor(opts.width));
  const height = opts.height === Infinity ? Infinity : Math.max(5, Math.floor(opts.height));
  const p = painter(opts.color);
  const m = snap.sample?.m ?? {};
  const header = headerLine(snap, opts, p);
  const footer = footerLine(snap, opts, p);
  const top: string[] = [header];
  if (opts.status) top.push(p(sanitize(opts.status), 'yellow', 'bold'));

  let body: string[];
  if (opts.help) {
    body = helpLines(p);
  } else if (!snap.sample) {
    body = ['waiting for the first sample…'];
  } else {
    const sections: Section[] = [
      { lines: [cpuLine(m, p)], min: 1, priority: 9 },
      { lines: coreLines(m, width, p), min: 1, priority: 1 },
      { lines: [memLine(m, p)], min: 1, priority: 9 },
      { lines: boardLines(snap, m, width, p), min: 1, priority: 6 },
      { lines: wrapItems('Sensors', sensorItems(m), width, p), min: 0, priority: 2 },
      { lines: wrapItems('I/O', ioItems(m), width, p), min: 0, priority: 3 },
      { lines: modelLines(opts.models, snap.modelNames, width, p), min: 0, priority: 4 },
      { lines: experimentLines(snap, opts.now, p), min: 0, priority: 5 },
    ];
    const tableMin = snap.processes ? 4 : 1;
    const budget = height - top.length - 1 - tableMin;
    const kept = shrink(sections, budget);
    body = kept.flatMap((s) => s.lines);
    const tableRows = height === Infinity ? Infinity : height - top.length - 1 - body.length;
    body.push(...processLines(snap, opts.sort, width, tableRows, opts.now, p));
  }
  let lines = [...top, ...body];
  if (height !== Infinity) {
    lines = lines.slice(0, height - 1);
    while (lines.length < height - 1) lines.push('');
  }
  lines.push(footer);
  return lines.map((l) => fit(l, width));
}

/** Cuts the lowest-priority sections first, each to its minimum, then drops them, until the lines fit in `budget`. */
function shrink(sections: Section[], budget: number): Section[] {
  const out = sections.map((s) => ({ ...s, lines: [...s.lines] }));
  const count = (): number => out.reduce((n, s) => n + s.lines.length, 0);
  if (budget === Infinity || count() <= budget) return out;
  const order = [...out].sort((a, b) => a.priority - b.priority);
  for (const s of order) {
    const over = count() - budget;
    if (over <= 0) break;
    const keep = Math.max(Math.min(s.min, s.lines.length), s.lines.length - over);
    s.lines.length = keep;
  }
  for (const s of order) {
    if (count() <= budget) break;
    s.lines.length = 0;
  }
  return out;
}

function headerLine(snap: TopSnapshot, opts: FrameOptions, p: Painter): string {
  const source = opts.source.kind === 'agent' ? `attached to agent ${hostPort(opts.source.url)}` : `sampling directly (${opts.source.why})`;
  const time = new Date(opts.now).toTimeString().slice(0, 8);
  const name = sanitize(snap.device.name).slice(0, 24);
  // The program's name is the first thing a narrow screen gives up.
  const title = opts.width >= 100 ? `${p('edgewatch top', 'bold')} · ` : '';
  return `${title}${p(name, 'cyan', 'bold')} · ${p(source, opts.source.kind === 'agent' ? 'green' : 'yellow')} · every ${formatSeconds(snap.intervalMs)} · ${time}`;
}

function footerLine(snap: TopSnapshot, opts: FrameOptions, p: Painter): string {
  if (opts.help) return p('h or Esc: close help · q: quit', 'inverse');
  const age = snap.processes ? ` · table ${Math.max(0, Math.round((opts.now - snap.processes.t) / 1000))} s old` : '';
  return `${p('q', 'inverse')} quit ${p('s', 'inverse')} sort CPU ${p('m', 'inverse')} sort memory ${p('h', 'inverse')} help · sort: ${opts.sort === 'cpu' ? 'CPU' : 'memory'}${age}`;
}

function helpLines(p: Painter): string[] {
  return [
    '',
    p('edgewatch top: keys', 'bold'),
    '',
    '  s        sort the process table by CPU',
    '  m        sort the process table by memory (RSS)',
    '  h, ?     show or hide this help',
    '  q, ^C    quit (the terminal is restored)',
    '',
    'The view refreshes at the agent\'s interval. Attached to a running agent it shows what the',
    'agent records (nothing is sampled twice); without one it samples this device itself.',
    'CPU% is of one core (a process on 4 cores shows up to 400). `edgewatch top --once` prints',
    'one plain frame for scripts and bug reports.',
  ];
}

function cpuLine(m: Record<string, number>, p: Painter): string {
  const util = m['cpu.util'];
  const parts = [`${p('CPU', 'bold')}  [${p(bar(util, 20), barColor(util))}] ${padStart(pct(util), 5)}`];
  if (m['cpu.freq'] !== undefined) parts.push(formatValue(m['cpu.freq'], 'MHz'));
  if (m['cpu.iowait'] !== undefined) parts.push(`iowait ${pct(m['cpu.iowait'])}`);
  if (m['load.1'] !== undefined) parts.push(`load ${[m['load.1'], m['load.5'], m['load.15']].map((v) => formatValue(v, 'load')).join(' ')}`);
  if (m['procs.count'] !== undefined) parts.push(`procs ${m['procs.count']}${m['procs.running'] !== undefined ? ` (${m['procs.running']} running)` : ''}`);
  return parts.join('  ');
}

function coreLines(m: Record<string, number>, width: number, p: Painter): string[] {
  const cores: number[] = [];
  for (const name of Object.keys(m)) {
    const c = /^cpu\.core\.(\d+)\.util$/.exec(name);
    if (c) cores.push(Number(c[1]));
  }
  cores.sort((a, b) => a - b);
  if (cores.length === 0) return [];
  const columns = Math.max(1, Math.floor((width + 1) / (CORE_CELL + 1)));
  // A longer label (cpu127) takes its columns from the bar, so the cell stays CORE_CELL wide.
  const labelW = `cpu${cores.at(-1)}`.length + 1;
  const barW = Math.max(4, CORE_CELL - labelW - 2 - 5 - 1 - 5);
  const rows = Math.ceil(cores.length / columns);
  const lines: string[] = [];
  // Column-major, as htop does: cpu0 … cpu(n-1) read down each column.
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) {
      const core = cores[c * rows + r];
      if (core === undefined) continue;
      const util = m[`cpu.core.${core}.util`];
      const freq = m[`cpu.core.${core}.freq`];
      const cell = `${padEnd(`cpu${core}`, labelW)}[${p(bar(util, barW), barColor(util))}]${padStart(pct(util), 5)} ${freq === undefined ? '' : shortMHz(freq)}`;
      cells.push(padEnd(cell, CORE_CELL));
    }
    lines.push(cells.join(' ').trimEnd());
  }
  return lines;
}

function memLine(m: Record<string, number>, p: Painter): string {
  const total = m['mem.total'];
  const used = m['mem.used'];
  const util = m['mem.util'] ?? (total && used !== undefined ? (used / total) * 100 : undefined);
  const parts = [`${p('Mem', 'bold')}  [${p(bar(util, 20), barColor(util))}] ${formatBytes(used ?? NaN)} / ${formatBytes(total ?? NaN)}`];
  if (m['mem.cached'] !== undefined) parts.push(`cache ${formatBytes(m['mem.cached'])}`);
  if (m['swap.total'] !== undefined) parts.push(`${p('Swap', 'bold')} ${m['swap.total'] === 0 ? 'none' : `${formatBytes(m['swap.used'] ?? 0)} / ${formatBytes(m['swap.total'])}`}`);
  return parts.join('  ').replace(/NaN B/g, '—');
}

function boardLines(snap: TopSnapshot, m: Record<string, number>, width: number, p: Painter): string[] {
  const caps = new Set(snap.capabilities);
  const lines: string[] = [];
  if (caps.has('jetson')) lines.push(...jetsonLines(snap, m, width, p));
  else if (caps.has('nvidia-gpu') || m['gpu.0.util'] !== undefined) lines.push(...gpuLines(snap, m, width, p));
  if (caps.has('raspberry-pi')) lines.push(...piLines(m, width, p));
  return lines;
}

function gpuLines(snap: TopSnapshot, m: Record<string, number>, width: number, p: Painter): string[] {
  const indexes = new Set<number>();
  for (const name of Object.keys(m)) {
    const g = /^gpu\.(\d+)\./.exec(name);
    if (g) indexes.add(Number(g[1]));
  }
  const lines: string[] = [];
  for (const i of [...indexes].sort((a, b) => a - b)) {
    const g = (k: string): number | undefined => m[`gpu.${i}.${k}`];
    const inv = snap.inventory.gpus?.find((x) => x.index === i);
    const name = sanitize(inv?.name ?? '').replace(/^NVIDIA\s+/, '').slice(0, 24);
    const util = g('util');
    const memTotal = g('mem.total');
    const memUsed = g('mem.used');
    const first = [`${p(`GPU${i}`, 'bold')} ${name}`.trimEnd(), `[${p(bar(util, 12), barColor(util))}] ${padStart(pct(util), 5)}`];
    if (memUsed !== undefined) first.push(`mem ${formatBytes(memUsed)}${memTotal ? ` / ${formatBytes(memTotal)}` : ''}`);
    const second: string[] = [];
    if (g('power') !== undefined) second.push(`${formatValue(g('power'), 'W')}${g('power.limit') !== undefined ? ` / ${formatValue(g('power.limit'), 'W')}` : ''}`);
    if (g('temp') !== undefined) second.push(`${formatValue(g('temp'), '°C')}${g('temp.mem') !== undefined ? ` (mem ${formatValue(g('temp.mem'), '°C')})` : ''}`);
    if (g('clock.sm') !== undefined) second.push(`sm ${formatValue(g('clock.sm'), 'MHz')}`);
    if (g('clock.mem') !== undefined) second.push(`mem ${formatValue(g('clock.mem'), 'MHz')}`);
    if (g('fan') !== undefined) second.push(`fan ${pct(g('fan'))}`);
    if (g('pstate') !== undefined) second.push(`P${g('pstate')}`);
    const one = `${first.join('  ')}  ${second.join('  ')}`;
    if (visibleWidth(one) <= width) lines.push(one);
    else lines.push(first.join('  '), `      ${second.join('  ')}`);
  }
  return lines;
}

function jetsonLines(snap: TopSnapshot, m: Record<string, number>, width: number, p: Painter): string[] {
  const util = m['gpu.0.util'];
  const gpu = [`${p('GPU', 'bold')}  [${p(bar(util, 12), barColor(util))}] ${padStart(pct(util), 5)}${m['gpu.0.clock.gr'] !== undefined ? ` @ ${formatValue(m['gpu.0.clock.gr'], 'MHz')}` : ''}`];
  if (m['jetson.emc.util'] !== undefined || m['jetson.emc.freq'] !== undefined) {
    gpu.push(`${p('EMC', 'bold')} ${pct(m['jetson.emc.util'])}${m['jetson.emc.freq'] !== undefined ? ` @ ${formatValue(m['jetson.emc.freq'], 'MHz')}` : ''}`);
  }
  const j = snap.inventory.jetson;
  if (j?.powerMode) gpu.push(`mode ${sanitize(j.powerMode)}`);
  if (j?.l4t) gpu.push(`L4T ${sanitize(j.l4t)}`);
  const lines = [gpu.join('   ')];
  const engines: string[] = [];
  for (const name of Object.keys(m).sort()) {
    const e = /^jetson\.engine\.([a-z0-9_]+)\.(freq|on|util)$/.exec(name);
    if (!e || (e[2] !== 'freq' && m[`jetson.engine.${e[1]}.freq`] !== undefined)) continue;
    if (e[2] === 'util' && m[`jetson.engine.${e[1]}.on`] !== undefined) continue;
    const on = m[`jetson.engine.${e[1]}.on`];
    const freq = m[`jetson.engine.${e[1]}.freq`];
    const u = m[`jetson.engine.${e[1]}.util`];
    const text = on === 0 ? 'off' : [u !== undefined ? pct(u) : '', freq !== undefined ? formatValue(freq, 'MHz') : on === 1 ? 'on' : ''].filter(Boolean).join(' @ ');
    engines.push(`${e[1]!.toUpperCase()} ${text}`);
  }
  lines.push(...wrapItems('Engines', engines, width, p).slice(0, 2));
  const rails: string[] = [];
  for (const name of Object.keys(m).sort()) {
    const r = /^power\.rail\.([a-z0-9_]+)$/.exec(name);
    if (!r) continue;
    const avg = m[`${name}.avg`];
    rails.push(`${r[1]!.toUpperCase()} ${formatValue(m[name], 'W')}${avg !== undefined ? ` (avg ${formatValue(avg, 'W')})` : ''}`);
  }
  if (m['power.board'] !== undefined) rails.unshift(`${p('board', 'bold')} ${formatValue(m['power.board'], 'W')}`);
  lines.push(...wrapItems('Rails', rails, width, p).slice(0, 3));
  return lines;
}

const PI_FLAGS: readonly [string, string][] = [
  ['under_voltage', 'under-voltage'],
  ['freq_capped', 'frequency capped'],
  ['throttled', 'throttled'],
  ['soft_temp_limit', 'soft temperature limit'],
];

function piLines(m: Record<string, number>, width: number, p: Painter): string[] {
  const now = PI_FLAGS.filter(([k]) => m[`pi.throttle.${k}`] === 1).map(([, label]) => p(label.toUpperCase(), 'red', 'bold'));
  const since = PI_FLAGS.filter(([k]) => m[`pi.throttle.${k}_since_boot`] === 1).map(([, label]) => p(label, 'yellow'));
  const known = m['pi.throttle.bits'] !== undefined || m['pi.throttle.under_voltage'] !== undefined;
  const status = !known ? 'throttle state unknown' : `now: ${now.length ? now.join(', ') : p('ok', 'green')}   since boot: ${since.length ? since.join(', ') : p('none', 'green')}`;
  const lines = [`${p('Pi', 'bold')}   ${status}`];
  const clocks: string[] = [];
  const volts: string[] = [];
  for (const name of Object.keys(m).sort()) {
    const c = /^pi\.clock\.([a-z0-9_]+)$/.exec(name);
    if (c) clocks.push(`${c[1]} ${formatValue(m[name], 'MHz')}`);
    const v = /^pi\.volt\.([a-z0-9_]+)$/.exec(name);
    if (v) volts.push(`${v[1]} ${formatValue(m[name], 'V')}`);
  }
  lines.push(...wrapItems('Clocks', [...clocks, ...(volts.length ? [p('volts', 'bold'), ...volts] : [])], width, p).slice(0, 2));
  return lines;
}

function sensorItems(m: Record<string, number>): string[] {
  const temps: [string, number][] = [];
  const other: string[] = [];
  for (const [name, value] of Object.entries(m)) {
    const t = /^temp\.([a-z0-9_]+)$/.exec(name);
    if (t) temps.push([t[1]!, value]);
    const f = /^fan\.([a-z0-9_]+)$/.exec(name);
    if (f) other.push(`fan ${f[1]} ${formatValue(value, 'rpm')}`);
    const r = /^power\.(rapl|hwmon)\.([a-z0-9_]+)$/.exec(name);
    if (r) other.push(`${r[2]} ${formatValue(value, 'W')}`);
    const b = /^battery\.([a-z0-9_]+)\.capacity$/.exec(name);
    if (b) other.push(`battery ${b[1]} ${pct(value)}`);
  }
  // Hottest first: what matters when a board throttles.
  temps.sort((a, b) => b[1] - a[1]);
  return [...temps.map(([n, v]) => `${n} ${formatValue(v, '°C')}`), ...other.sort()];
}

function ioItems(m: Record<string, number>): string[] {
  const nets = new Map<string, { rx: number; tx: number }>();
  const disks = new Map<string, { r: number; w: number }>();
  for (const [name, value] of Object.entries(m)) {
    const n = /^net\.([a-z0-9_]+)\.(rx|tx)_bps$/.exec(name);
    if (n) {
      const e = nets.get(n[1]!) ?? { rx: 0, tx: 0 };
      e[n[2] as 'rx' | 'tx'] = value;
      nets.set(n[1]!, e);
    }
    const d = /^disk\.([a-z0-9_]+)\.(read|write)_bps$/.exec(name);
    if (d) {
      const e = disks.get(d[1]!) ?? { r: 0, w: 0 };
      e[d[2] === 'read' ? 'r' : 'w'] = value;
      disks.set(d[1]!, e);
    }
  }
  // Busiest first, so a narrow screen keeps the interface or disk that is doing something.
  const netItems = [...nets].sort((a, b) => b[1].rx + b[1].tx - (a[1].rx + a[1].tx) || a[0].localeCompare(b[0])).map(([k, v]) => `${k} rx ${formatRate(v.rx)} tx ${formatRate(v.tx)}`);
  const diskItems = [...disks].sort((a, b) => b[1].r + b[1].w - (a[1].r + a[1].w) || a[0].localeCompare(b[0])).map(([k, v]) => `${k} r ${formatRate(v.r)} w ${formatRate(v.w)}`);
  return [...netItems.map((s) => `net ${s}`), ...diskItems.map((s) => `disk ${s}`)];
}

/** `Label  a  b  c` over as many lines as it takes, continuation lines indented under the items. */
function wrapItems(label: string, items: readonly string[], width: number, p: Painter): string[] {
  if (items.length === 0) return [];
  const indent = 9;
  const lines: string[] = [];
  let line = padEnd(p(label, 'bold'), indent);
  let empty = true;
  for (const item of items) {
    const add = (empty ? '' : '   ') + item;
    if (!empty && visibleWidth(line) + visibleWidth(add) > width) {
      lines.push(line);
      line = ' '.repeat(indent) + item;
    } else {
      line += add;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

function modelLines(models: readonly ModelStat[], names: Readonly<Record<string, string>>, width: number, p: Painter): string[] {
  if (models.length === 0) return [];
  const nameW = Math.max(12, Math.min(40, width - 40));
  const lines = [p(`${padEnd('Model', nameW)} ${padStart('calls/s', 9)} ${padStart('p50', 9)} ${padStart('p99', 9)}`, 'bold')];
  for (const row of models) {
    lines.push(`${padEnd(sanitize(names[row.model] ?? row.model), nameW)} ${padStart(row.rate === undefined ? '—' : formatValue(row.rate, '/s').replace('/s', ''), 9)} ${padStart(formatValue(row.p50, 'ms'), 9)} ${padStart(formatValue(row.p99, 'ms'), 9)}`);
  }
  return lines;
}

function experimentLines(snap: TopSnapshot, now: number, p: Painter): string[] {
  return snap.experiments.map((e) => `${p('Experiment', 'bold', 'magenta')} ${sanitize(e.name)} (${sanitize(e.id)}) running ${formatDuration(now - e.start)}`);
}

function processLines(snap: TopSnapshot, sort: SortKey, width: number, rows: number, now: number, p: Painter): string[] {
  const table = snap.processes;
  if (!table) {
    const off = !snap.capabilities.includes('processes');
    return [p(off ? 'no process table (turned off, or /proc is not readable here)' : 'process table: waiting for the first one…', 'dim')];
  }
  const wide = width >= 110;
  const sorted = sortRows(table.rows, sort);
  const cpuHead = sort === 'cpu' ? p(padStart('CPU%', 6), 'inverse') : padStart('CPU%', 6);
  const memHead = sort === 'mem' ? p(padStart('MEM', 9), 'inverse') : padStart('MEM', 9);
  const extraHead = wide ? ` ${padStart('GPU MEM', 9)} ${padStart('READ', 10)} ${padStart('WRITE', 10)}` : '';
  const head = `${padStart('PID', 7)} ${padEnd('USER', 9)} ${cpuHead} ${memHead}${extraHead}  ${'COMMAND'}`;
  const lines = [p(head, 'bold')];
  const limit = Math.max(0, rows - 1);
  for (const r of sorted.slice(0, limit === Infinity ? undefined : limit)) {
    const extra = wide
      ? ` ${padStart(r.gpuMem === undefined ? '' : formatBytes(r.gpuMem), 9)} ${padStart(r.readBps === undefined ? '' : formatRate(r.readBps), 10)} ${padStart(r.writeBps === undefined ? '' : formatRate(r.writeBps), 10)}`
      : '';
    const cmd = sanitize(r.cmd || r.name);
    lines.push(`${padStart(String(r.pid), 7)} ${padEnd(sanitize(r.user ?? ''), 9)} ${padStart(r.cpu.toFixed(1), 6)} ${padStart(formatBytes(r.rss), 9)}${extra}  ${cmd}`);
  }
  void now;
  return lines;
}

export function sortRows(rows: readonly ProcessRow[], sort: SortKey): ProcessRow[] {
  return [...rows].sort((a, b) => (sort === 'cpu' ? b.cpu - a.cpu || b.rss - a.rss : b.rss - a.rss || b.cpu - a.cpu) || a.pid - b.pid);
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(v >= 10 || v === 0 ? 0 : 1)}%`;
}

function barColor(v: number | undefined): 'green' | 'yellow' | 'red' {
  return v === undefined || v < 60 ? 'green' : v < 85 ? 'yellow' : 'red';
}

/** 2.40G, 800M: a core's clock in five columns. */
function shortMHz(mhz: number): string {
  return mhz >= 1000 ? `${(mhz / 1000).toFixed(2)}G` : `${Math.round(mhz)}M`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h > 0 ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
