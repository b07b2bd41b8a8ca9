// Which charts a device page shows, decided from the metric names the device actually has.
// Pure data: charts.ts turns each ChartDef into a chart.js chart.
import { describeMetric, type MetricGroup, type Unit } from '../../../shared/catalog.js';

export interface SeriesDef {
  metric: string;
  label: string;
  color: string;
  /** Line width in CSS px; per-core lines are thin. */
  width: number;
  dash?: number[];
  /** 'main' lines get a min/max band in history mode; 'detail' lines are faint; 'limit' lines are dashed ceilings. */
  role: 'main' | 'detail' | 'limit';
  /** Shown in the legend. Per-core lines are not (there can be dozens). */
  legend: boolean;
}

export interface ChartDef {
  id: string;
  title: string;
  group: MetricGroup;
  unit: Unit;
  min?: number;
  max?: number;
  series: SeriesDef[];
  /** A short line under the title ("thin lines: per core"). */
  note?: string;
  /**
   * Rates and latencies: a few outlying points (one burst) must not flatten the rest, so the y
   * axis stops at robustAxisMax of what is shown, the points above are marked with their real
   * values, and a toggle shows the full scale.
   */
  robust?: boolean;
}

export interface PagePlan {
  charts: ChartDef[];
  /** Mount segments (fs.<mount>.*) for the filesystem table. */
  filesystems: string[];
  /** Every metric the page needs from the series API and the live feed. */
  metrics: string[];
  /**
   * Virtual interfaces the device reports (ifb0, dummy0…) beside real ones: left off the
   * network chart unless PlanOptions.showVirtual. Empty when there are none, or nothing else.
   */
  virtualInterfaces: string[];
  /** Hardware the device reported nothing for (no GPU, no temperature sensors…), in page order. */
  absent: AbsentPanel[];
}

export interface PlanOptions {
  /** Chart the virtual interfaces too. */
  showVirtual?: boolean;
  /** The collectors the agent announced (hello `capabilities`). */
  capabilities?: readonly string[];
}

export type AbsentKind = 'gpu' | 'temp' | 'fan' | 'power';

export interface AbsentPanel {
  kind: AbsentKind;
  /** What the panel would be: "GPU". */
  title: string;
  /** "no GPU found". */
  text: string;
  /** Where the agent looked. */
  detail: string;
}

/**
 * Interfaces that are virtual and carry no traffic of their own: loopback, the host ends of
 * container links, and the fallback devices the kernel creates when a module loads (ifb0/ifb1
 * for ingress shaping, dummy0, tunl0, sit0, gre0…), which stay at zero on almost every machine.
 * Bridges (docker0, br-…, cni0) and VPNs (wg0, tun0) are real traffic and are kept.
 */
const VIRTUAL_IFACE_RE = /^(?:lo|veth\w*|ifb\d+|dummy\d+|tunl0|sit0|ip6tnl0|ip_vti0|ip6_vti0|ip6gre0|gre0|gretap0|erspan0|teql0|nlmon\d+)$/;

/** Whether a network interface (metric segment) is virtual and charted only on request. */
export function isVirtualInterface(iface: string): boolean {
  return VIRTUAL_IFACE_RE.test(iface);
}

/** Collectors that read a GPU: with one of them, a GPU without readings is "not reporting", not "not found". */
const GPU_CAPABILITIES = new Set(['nvidia-gpu', 'nvidia-smi', 'tegrastats', 'jetson']);

/**
 * The GPU, temperature, fan and power panels a device has nothing for, so the page can say so
 * instead of leaving a silent gap. Nothing while the device has reported no metrics at all.
 */
export function absentPanels(metricNames: Iterable<string>, capabilities: readonly string[] = []): AbsentPanel[] {
  let any = false;
  let gpu = false;
  let temp = false;
  let fan = false;
  let power = false;
  for (const name of metricNames) {
    const match = describeMetric(name);
    if (!match) continue;
    any = true;
    const p = match.spec.pattern;
    if (p.startsWith('gpu.')) gpu = true;
    if (p === 'temp.<sensor>' || p === 'gpu.<i>.temp' || p === 'gpu.<i>.temp.mem') temp = true;
    if (match.spec.group === 'fan' || p === 'gpu.<i>.fan') fan = true;
    if (match.spec.group === 'power' && p !== 'battery.<name>.capacity') power = true;
    if (p === 'gpu.<i>.power') power = true;
  }
  if (!any) return [];
  const out: AbsentPanel[] = [];
  if (!gpu) {
    const reader = capabilities.find((c) => GPU_CAPABILITIES.has(c));
    out.push(
      reader
        ? { kind: 'gpu', title: 'GPU', text: 'no GPU readings', detail: `The agent's ${reader} collector is on but has sent no GPU metrics.` }
        : { kind: 'gpu', title: 'GPU', text: 'no GPU found', detail: 'The agent found no NVIDIA GPU (NVML, nvidia-smi) and no Jetson GPU.' },
    );
  }
  if (!temp) {
    out.push({ kind: 'temp', title: 'Temperatures', text: 'no temperature sensors found', detail: 'No thermal zones or hwmon temperature inputs: usual in a VM or container.' });
  }
  if (!fan) out.push({ kind: 'fan', title: 'Fans', text: 'no fan sensors found', detail: 'No hwmon fan inputs: the board may have no fan, or no tachometer on it.' });
  if (!power) {
    out.push({ kind: 'power', title: 'Power', text: 'no power sensors found', detail: 'No power rails, RAPL energy counters, hwmon power inputs or battery.' });
  }
  return out;
}

export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#8c8c8c'];
const DETAIL_COLOR = 'rgba(110, 130, 160, 0.45)';

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** Groups metric names by catalog pattern: pattern → list of placeholder values (or [''] for fixed names). */
function index(names: Iterable<string>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const name of names) {
    const match = describeMetric(name);
    if (!match) continue;
    const key = Object.values(match.params).join('/');
    let m = out.get(match.spec.pattern);
    if (!m) out.set(match.spec.pattern, (m = new Map()));
    m.set(key, name);
  }
  return out;
}

/**
 * @param modelNames metric segment → the model's own name (`resnet18_int8` → `resnet18-int8`),
 *   where known, for the inference charts' legends.
 */
export function planPage(
  metricNames: Iterable<string>,
  gpuNames: ReadonlyMap<number, string> = new Map(),
  modelNames: ReadonlyMap<string, string> = new Map(),
  opts: PlanOptions = {},
): PagePlan {
  const names = [...metricNames];
  const idx = index(names);
  const has = (pattern: string) => idx.get(pattern)?.get('') !== undefined;
  const keys = (pattern: string, sort = byName) => [...(idx.get(pattern)?.keys() ?? [])].sort(sort);
  const charts: ChartDef[] = [];

  // Inference first: when a device runs models, their timings are what the page is for.
  charts.push(...inferenceCharts(idx, modelNames));

  // CPU: total and iowait bold, every core thin.
  {
    const series: SeriesDef[] = [];
    if (has('cpu.util')) series.push({ metric: 'cpu.util', label: 'total', color: color(0), width: 2, role: 'main', legend: true });
    if (has('cpu.iowait'))
      series.push({ metric: 'cpu.iowait', label: 'iowait', color: color(1), width: 1.5, dash: [4, 3], role: 'main', legend: true });
    const cores = keys('cpu.core.<n>.util', byNumber);
    for (const n of cores) {
      series.push({ metric: `cpu.core.${n}.util`, label: `core ${n}`, color: DETAIL_COLOR, width: 1, role: 'detail', legend: false });
    }
    if (series.length > 0) {
      charts.push({
        id: 'cpu',
        title: 'CPU',
        group: 'cpu',
        unit: '%',
        min: 0,
        max: 100,
        series,
        note: cores.length > 0 ? `thin lines: ${cores.length} cores` : undefined,
      });
    }
  }

  // CPU frequency: mean bold, per-core thin.
  {
    const series: SeriesDef[] = [];
    if (has('cpu.freq')) series.push({ metric: 'cpu.freq', label: 'mean', color: color(0), width: 2, role: 'main', legend: true });
    const cores = keys('cpu.core.<n>.freq', byNumber);
    for (const n of cores) {
      series.push({ metric: `cpu.core.${n}.freq`, label: `core ${n}`, color: DETAIL_COLOR, width: 1, role: 'detail', legend: false });
    }
    if (series.length > 0) {
      charts.push({
        id: 'cpu-freq',
        title: 'CPU frequency',
        group: 'cpu',
        unit: 'MHz',
        min: 0,
        series,
        note: cores.length > 0 ? 'thin lines: per core' : undefined,
      });
    }
  }

  simple(charts, idx, 'load', 'Load average', 'load', 'load', [
    ['load.1', '1 min'],
    ['load.5', '5 min'],
    ['load.15', '15 min'],
  ]);

  {
    const series: SeriesDef[] = [];
    if (has('mem.used')) series.push({ metric: 'mem.used', label: 'used', color: color(0), width: 2, role: 'main', legend: true });
    if (has('mem.cached')) series.push({ metric: 'mem.cached', label: 'cached', color: color(3), width: 1.5, role: 'main', legend: true });
    if (has('swap.used')) series.push({ metric: 'swap.used', label: 'swap used', color: color(2), width: 1.5, role: 'main', legend: true });
    if (series.length > 0 && has('mem.total')) {
      series.push({ metric: 'mem.total', label: 'total', color: color(9), width: 1, dash: [6, 4], role: 'limit', legend: true });
    }
    if (series.length > 0) charts.push({ id: 'memory', title: 'Memory', group: 'memory', unit: 'bytes', min: 0, series });
  }

  // GPUs: one chart per quantity, one line per GPU.
  const gpus = new Set<string>();
  // Keys are `<i>` or, for per-cluster metrics (gpu.<i>.gpc.<n>.freq), `<i>/<n>`.
  for (const [pattern, m] of idx) if (pattern.startsWith('gpu.')) for (const k of m.keys()) gpus.add(k.split('/')[0]!);
  const gpuList = [...gpus].sort(byNumber);
  // Name GPUs only when a box mixes models; "GPU 0 NVIDIA A100-SXM4-80GB" ×8 is just noise.
  const distinctNames = new Set(gpuList.map((i) => gpuNames.get(Number(i)) ?? ''));
  const gpuLabel = (i: string) => {
    const name = gpuNames.get(Number(i));
    return distinctNames.size > 1 && name ? `GPU ${i} ${name}` : `GPU ${i}`;
  };
  const gpuChart = (
    id: string,
    title: string,
    pattern: string,
    unit: Unit,
    opts: { min?: number; max?: number; limit?: { pattern: string; label: string } } = {},
  ) => {
    const series: SeriesDef[] = [];
    gpuList.forEach((i, n) => {
      const metric = idx.get(pattern)?.get(i);
      if (!metric) return;
      series.push({ metric, label: gpuLabel(i), color: color(n), width: 2, role: 'main', legend: true });
      const limit = opts.limit && idx.get(opts.limit.pattern)?.get(i);
      if (limit && opts.limit) {
        series.push({
          metric: limit,
          label: `${gpuLabel(i)} ${opts.limit.label}`,
          color: color(n),
          width: 1,
          dash: [6, 4],
          role: 'limit',
          legend: true,
        });
      }
    });
    if (series.length > 0) charts.push({ id, title, group: 'gpu', unit, min: opts.min, max: opts.max, series });
  };
  gpuChart('gpu-util', 'GPU utilisation', 'gpu.<i>.util', '%', { min: 0, max: 100 });
  gpuChart('gpu-mem', 'GPU memory used', 'gpu.<i>.mem.used', 'bytes', {
    min: 0,
    limit: { pattern: 'gpu.<i>.mem.total', label: 'total' },
  });
  gpuChart('gpu-power', 'GPU power', 'gpu.<i>.power', 'W', { min: 0, limit: { pattern: 'gpu.<i>.power.limit', label: 'limit' } });
  gpuChart('gpu-temp', 'GPU temperature', 'gpu.<i>.temp', '°C', { limit: { pattern: 'gpu.<i>.temp.mem', label: 'memory' } });
  gpuChart('gpu-clock', 'GPU SM clock', 'gpu.<i>.clock.sm', 'MHz', { min: 0 });
  // A Jetson's integrated GPU reports a graphics clock (the fastest cluster) and, on Orin and
  // later, a clock per graphics processing cluster (GPC): thinner lines under the GPU's.
  {
    const existing = charts.find((c) => c.id === 'gpu-clock');
    const series: SeriesDef[] = [];
    if (!existing) {
      gpuList.forEach((i, n) => {
        const metric = idx.get('gpu.<i>.clock.gr')?.get(i);
        if (metric) series.push({ metric, label: gpuLabel(i), color: color(n), width: 2, role: 'main', legend: true });
      });
    }
    const offset = (existing?.series.length ?? 0) + series.length;
    keys('gpu.<i>.gpc.<n>.freq', byGpc).forEach((k, n) => {
      const [i, c] = k.split('/');
      series.push({
        metric: `gpu.${i}.gpc.${c}.freq`,
        label: `${gpuList.length > 1 ? `GPU ${i} ` : ''}GPC ${c}`,
        color: color(offset + n),
        width: 1,
        dash: [4, 3],
        role: 'main',
        legend: true,
      });
    });
    if (existing) existing.series.push(...series);
    else if (series.length > 0) charts.push({ id: 'gpu-clock', title: 'GPU clock', group: 'gpu', unit: 'MHz', min: 0, series });
  }

  {
    const sensors = keys('temp.<sensor>');
    const series = sensors.map(
      (s, n): SeriesDef => ({ metric: `temp.${s}`, label: s, color: color(n), width: 1.5, role: 'main', legend: true }),
    );
    if (series.length > 0) charts.push({ id: 'temp', title: 'Temperatures', group: 'temp', unit: '°C', series });
  }

  // Power: the board total bold, then every rail, RAPL domain, hwmon sensor and battery thin.
  {
    const series: SeriesDef[] = [];
    if (has('power.board')) series.push({ metric: 'power.board', label: 'board', color: color(0), width: 2.5, role: 'main', legend: true });
    let n = 1;
    const add = (pattern: string, metric: (k: string) => string, label: (k: string) => string) => {
      for (const k of keys(pattern)) {
        series.push({ metric: metric(k), label: label(k), color: color(n++), width: 1.5, role: 'main', legend: true });
      }
    };
    add('power.rail.<rail>', (k) => `power.rail.${k}`, (k) => k.toUpperCase());
    add('power.rapl.<domain>', (k) => `power.rapl.${k}`, (k) => `RAPL ${k}`);
    add('power.hwmon.<sensor>', (k) => `power.hwmon.${k}`, (k) => k);
    add('battery.<name>.power', (k) => `battery.${k}.power`, (k) => `battery ${k}`);
    if (series.length > 0) {
      charts.push({
        id: 'power',
        title: 'Power',
        group: 'power',
        unit: 'W',
        // Only a discharging battery goes below zero.
        min: keys('battery.<name>.power').length > 0 ? undefined : 0,
        series,
        note: has('power.board') && series.length > 1 ? 'bold: whole board' : undefined,
      });
    }
  }
  sensorChart(charts, idx, 'fans', 'Fans', 'fan', 'rpm', [['fan.<sensor>', (k) => `fan.${k}`, (k) => k]], 0);
  sensorChart(charts, idx, 'fan-pwm', 'Fan drive', 'fan', '%', [['fan.<sensor>.pwm', (k) => `fan.${k}.pwm`, (k) => k]], 0, 100);
  sensorChart(charts, idx, 'volt', 'Voltages', 'volt', 'V', [
    ['volt.<sensor>', (k) => `volt.${k}`, (k) => k],
    ['pi.volt.<rail>', (k) => `pi.volt.${k}`, (k) => k],
  ]);
  sensorChart(charts, idx, 'current', 'Currents', 'power', 'A', [['current.<sensor>', (k) => `current.${k}`, (k) => k]], 0);

  const ifaces = [...new Set([...(idx.get('net.<iface>.rx_bps')?.keys() ?? []), ...(idx.get('net.<iface>.tx_bps')?.keys() ?? [])])];
  const virtualInterfaces = ifaces.some((k) => !isVirtualInterface(k)) ? ifaces.filter(isVirtualInterface).sort(byName) : [];
  pairChart(charts, idx, 'net', 'Network', 'net', 'net.<iface>.rx_bps', 'net.<iface>.tx_bps', 'rx', 'tx', opts.showVirtual ? () => true : (k) => !isVirtualInterface(k));
  pairChart(charts, idx, 'disk', 'Disk I/O', 'disk', 'disk.<dev>.read_bps', 'disk.<dev>.write_bps', 'read', 'write');

  const filesystems = keys('fs.<mount>.used').filter((k) => idx.get('fs.<mount>.size')?.has(k) || idx.get('fs.<mount>.util')?.has(k));
  const metrics = new Set<string>();
  for (const c of charts) for (const s of c.series) metrics.add(s.metric);
  for (const fs of filesystems) {
    for (const q of ['used', 'size', 'util']) if (idx.get(`fs.<mount>.${q}`)?.has(fs)) metrics.add(`fs.${fs}.${q}`);
  }
  return { charts, filesystems, metrics: [...metrics], virtualInterfaces, absent: absentPanels(names, opts.capabilities) };
}

/** Models with any infer.<model>.* metric, sorted by name. */
export function inferenceModels(metricNames: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const name of metricNames) {
    const m = describeMetric(name);
    if (m?.spec.group === 'inference' && m.params.model !== undefined) out.add(m.params.model);
  }
  return [...out].sort(byName);
}

/**
 * "Inference throughput" (calls/s solid, items/s dashed) and "Inference latency" (p50 solid,
 * p99 dashed), one colour per model.
 */
function inferenceCharts(idx: Map<string, Map<string, string>>, modelNames: ReadonlyMap<string, string>): ChartDef[] {
  const models = [
    ...new Set(
      ['infer.<model>.rate', 'infer.<model>.items_rate', 'infer.<model>.latency.p50', 'infer.<model>.latency.p99'].flatMap((p) => [
        ...(idx.get(p)?.keys() ?? []),
      ]),
    ),
  ].sort(byName);
  if (models.length === 0) return [];
  const label = (k: string) => modelNames.get(k) ?? k;
  const rate: SeriesDef[] = [];
  const latency: SeriesDef[] = [];
  models.forEach((k, n) => {
    const c = color(n);
    const get = (pattern: string) => idx.get(pattern)?.get(k);
    const calls = get('infer.<model>.rate');
    const items = get('infer.<model>.items_rate');
    const p50 = get('infer.<model>.latency.p50');
    const p99 = get('infer.<model>.latency.p99');
    if (calls) rate.push({ metric: calls, label: `${label(k)} calls/s`, color: c, width: 2, role: 'main', legend: true });
    if (items) rate.push({ metric: items, label: `${label(k)} items/s`, color: c, width: 1.5, dash: [5, 3], role: 'main', legend: true });
    if (p50) latency.push({ metric: p50, label: `${label(k)} p50`, color: c, width: 2, role: 'main', legend: true });
    if (p99) latency.push({ metric: p99, label: `${label(k)} p99`, color: c, width: 1.5, dash: [5, 3], role: 'main', legend: true });
  });
  const charts: ChartDef[] = [];
  if (rate.length > 0) {
    charts.push({
      id: 'infer-rate',
      title: 'Inference throughput',
      group: 'inference',
      unit: '/s',
      min: 0,
      series: rate,
      note: 'solid: calls/s, dashed: items/s',
      robust: true,
    });
  }
  if (latency.length > 0) {
    charts.push({
      id: 'infer-latency',
      title: 'Inference latency',
      group: 'inference',
      unit: 'ms',
      min: 0,
      series: latency,
      note: 'solid: p50, dashed: p99',
      robust: true,
    });
  }
  return charts;
}

/** GPC keys `<i>/<n>` by GPU, then cluster. */
function byGpc(a: string, b: string): number {
  const [ai = 0, an = 0] = a.split('/').map(Number);
  const [bi = 0, bn = 0] = b.split('/').map(Number);
  return ai - bi || an - bn;
}

/** One line per sensor, from one or more patterns with a single placeholder. */
function sensorChart(
  charts: ChartDef[],
  idx: Map<string, Map<string, string>>,
  id: string,
  title: string,
  group: MetricGroup,
  unit: Unit,
  sources: [pattern: string, metric: (key: string) => string, label: (key: string) => string][],
  min?: number,
  max?: number,
): void {
  const series: SeriesDef[] = [];
  for (const [pattern, metric, label] of sources) {
    for (const k of [...(idx.get(pattern)?.keys() ?? [])].sort(byName)) {
      series.push({ metric: metric(k), label: label(k), color: color(series.length), width: 1.5, role: 'main', legend: true });
    }
  }
  if (series.length > 0) charts.push({ id, title, group, unit, min, max, series });
}

function simple(
  charts: ChartDef[],
  idx: Map<string, Map<string, string>>,
  id: string,
  title: string,
  group: MetricGroup,
  unit: Unit,
  names: [string, string][],
): void {
  const series = names
    .filter(([metric]) => idx.get(metric)?.has(''))
    .map(([metric, label], n): SeriesDef => ({ metric, label, color: color(n), width: n === 0 ? 2 : 1.5, role: 'main', legend: true }));
  if (series.length > 0) charts.push({ id, title, group, unit, min: 0, series });
}

/** One chart with a solid line (rx/read) and a dashed line (tx/write) per interface or disk. */
function pairChart(
  charts: ChartDef[],
  idx: Map<string, Map<string, string>>,
  id: string,
  title: string,
  group: MetricGroup,
  aPattern: string,
  bPattern: string,
  aLabel: string,
  bLabel: string,
  prefer: (key: string) => boolean = () => true,
): void {
  const all = [...new Set([...(idx.get(aPattern)?.keys() ?? []), ...(idx.get(bPattern)?.keys() ?? [])])].sort(byName);
  // Hide virtual interfaces (loopback, ifb…) when there is anything else to show.
  const preferred = all.filter(prefer);
  const keys = preferred.length > 0 ? preferred : all;
  const series: SeriesDef[] = [];
  keys.forEach((k, n) => {
    const a = idx.get(aPattern)?.get(k);
    const b = idx.get(bPattern)?.get(k);
    if (a) series.push({ metric: a, label: `${k} ${aLabel}`, color: color(n), width: 1.5, role: 'main', legend: true });
    if (b) series.push({ metric: b, label: `${k} ${bLabel}`, color: color(n), width: 1.5, dash: [5, 3], role: 'main', legend: true });
  });
  if (series.length > 0) {
    charts.push({ id, title, group, unit: 'B/s', min: 0, series, note: `solid: ${aLabel}, dashed: ${bLabel}`, robust: true });
  }
}

/** Round numbers an axis may end at: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten. */
const NICE_STEPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** The smallest round number (NICE_STEPS) at or above `x` (> 0). */
export function niceCeil(x: number): number {
  const mag = 10 ** Math.floor(Math.log10(x));
  const step = NICE_STEPS.find((k) => k * mag >= x * (1 - 1e-12)) ?? 10;
  return Number((step * mag).toPrecision(12));
}

export interface RobustAxisOptions {
  /** Share of the points that may lie above the cut (at least one point): 2 %. */
  share?: number;
  /** Headroom over the highest point kept: ×1.5. */
  factor?: number;
  /** Fewer points than this are never cut: 8. */
  minPoints?: number;
}

/**
 * Where to cut a y axis so a few outlying points (one burst of 17,000/s among 36–240/s) do not
 * flatten the rest: the highest value once the top `share` of the points (at least one) is set
 * aside, × `factor`, rounded up to a round number. Null, for an axis that should fit all the
 * data: too few points, a zero (or negative) base, or nothing far enough above the cut to be
 * worth it (the highest point under twice the cut: uncut, the rest would still fill a third
 * of the height). Values that are not finite numbers are ignored.
 */
export function robustAxisMax(values: Iterable<number>, opts: RobustAxisOptions = {}): number | null {
  const { share = 0.02, factor = 1.5, minPoints = 8 } = opts;
  const v: number[] = [];
  for (const x of values) if (Number.isFinite(x)) v.push(x);
  const n = v.length;
  if (n < minPoints) return null;
  v.sort((a, b) => a - b);
  const k = Math.max(1, Math.floor(n * share));
  const kept = v[n - 1 - k]!;
  if (!(kept > 0)) return null;
  const cut = niceCeil(kept * factor);
  return v[n - 1]! > 2 * cut ? cut : null;
}

/**
 * Indexes of the points no line segment reaches: both neighbours (in x order) missing or
 * further away than `gapMs`, the distance beyond which chart.js (spanGaps) breaks a line. A
 * one-point series is all isolated. Drawn as dots, or they would not show at all.
 */
export function isolatedIndexes(xs: ArrayLike<number>, gapMs: number): number[] {
  const out: number[] = [];
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const before = i === 0 || xs[i]! - xs[i - 1]! > gapMs;
    const after = i === n - 1 || xs[i + 1]! - xs[i]! > gapMs;
    if (before && after) out.push(i);
  }
  return out;
}

/**
 * Marks for points above a cut axis, one per group of points closer together than `widthPx`
 * (a label's width): the highest of each group, where it is, and how many it stands for.
 */
export function markerClusters<T extends { px: number; value: number }>(points: readonly T[], widthPx: number): (T & { count: number })[] {
  const sorted = [...points].sort((a, b) => a.px - b.px);
  const out: (T & { count: number })[] = [];
  let start = -Infinity;
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.px - start < widthPx) {
      last.count++;
      if (p.value > last.value) Object.assign(last, p, { count: last.count });
      continue;
    }
    start = p.px;
    out.push({ ...p, count: 1 });
  }
  return out;
}
