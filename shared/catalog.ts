// The metric catalog: every metric name the agent may send, with its unit and meaning.
// Agent, hub and browser all read this one table, so a name means the same thing everywhere.
// Names are dotted and lowercase; dynamic parts (a core number, an interface, a sensor) are
// whole segments, written here as <placeholders>. Values are in base units: bytes, bytes/s,
// W, °C, % (0–100), MHz for clocks, V, A. A `flag` is 0 or 1 (a Pi throttling bit, an engine
// that is powered on).

export type Unit = '%' | 'bytes' | 'B/s' | '°C' | 'W' | 'MHz' | 'load' | 'count' | 'rpm' | 'V' | 'A' | 'flag' | 'ms' | '/s';
export type MetricKind = 'gauge' | 'rate';
/** The UI groups charts by this. */
export type MetricGroup =
  | 'cpu'
  | 'load'
  | 'memory'
  | 'disk'
  | 'fs'
  | 'net'
  | 'temp'
  | 'gpu'
  | 'power'
  | 'fan'
  | 'volt'
  | 'jetson'
  | 'pi'
  | 'procs'
  | 'inference';

export interface MetricSpec {
  /** Dotted name with <placeholders> for dynamic segments, e.g. `cpu.core.<n>.util`. */
  readonly pattern: string;
  readonly unit: Unit;
  readonly kind: MetricKind;
  readonly group: MetricGroup;
  readonly description: string;
}

export const METRIC_CATALOG: readonly MetricSpec[] = [
  { pattern: 'cpu.util', unit: '%', kind: 'gauge', group: 'cpu', description: 'CPU utilisation over the last interval, all cores (100 % = every core busy)' },
  { pattern: 'cpu.iowait', unit: '%', kind: 'gauge', group: 'cpu', description: 'Share of CPU time spent waiting for I/O, all cores' },
  { pattern: 'cpu.freq', unit: 'MHz', kind: 'gauge', group: 'cpu', description: 'Mean current frequency across cores' },
  { pattern: 'cpu.core.<n>.util', unit: '%', kind: 'gauge', group: 'cpu', description: 'Utilisation of core <n> over the last interval' },
  { pattern: 'cpu.core.<n>.freq', unit: 'MHz', kind: 'gauge', group: 'cpu', description: 'Current frequency of core <n> (cpufreq scaling_cur_freq)' },
  { pattern: 'load.1', unit: 'load', kind: 'gauge', group: 'load', description: 'Load average over 1 minute' },
  { pattern: 'load.5', unit: 'load', kind: 'gauge', group: 'load', description: 'Load average over 5 minutes' },
  { pattern: 'load.15', unit: 'load', kind: 'gauge', group: 'load', description: 'Load average over 15 minutes' },
  { pattern: 'mem.total', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Physical memory (MemTotal)' },
  { pattern: 'mem.used', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Memory in use: MemTotal − MemAvailable' },
  { pattern: 'mem.available', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Memory available for new work without swapping (MemAvailable)' },
  { pattern: 'mem.cached', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Page cache (Cached)' },
  { pattern: 'mem.util', unit: '%', kind: 'gauge', group: 'memory', description: 'mem.used as a share of mem.total' },
  { pattern: 'swap.total', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Swap space (SwapTotal)' },
  { pattern: 'swap.used', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Swap in use: SwapTotal − SwapFree' },
  { pattern: 'disk.<dev>.read_bps', unit: 'B/s', kind: 'rate', group: 'disk', description: 'Bytes read per second from block device <dev>' },
  { pattern: 'disk.<dev>.write_bps', unit: 'B/s', kind: 'rate', group: 'disk', description: 'Bytes written per second to block device <dev>' },
  { pattern: 'disk.<dev>.util', unit: '%', kind: 'gauge', group: 'disk', description: 'Share of time block device <dev> had I/O in flight' },
  { pattern: 'fs.<mount>.used', unit: 'bytes', kind: 'gauge', group: 'fs', description: 'Bytes used on the filesystem mounted at <mount> (`/` is `rootfs`)' },
  { pattern: 'fs.<mount>.size', unit: 'bytes', kind: 'gauge', group: 'fs', description: 'Size of the filesystem mounted at <mount>' },
  { pattern: 'fs.<mount>.util', unit: '%', kind: 'gauge', group: 'fs', description: 'Share of the filesystem at <mount> in use, as df reports it' },
  { pattern: 'net.<iface>.rx_bps', unit: 'B/s', kind: 'rate', group: 'net', description: 'Bytes received per second on interface <iface>' },
  { pattern: 'net.<iface>.tx_bps', unit: 'B/s', kind: 'rate', group: 'net', description: 'Bytes sent per second on interface <iface>' },
  { pattern: 'temp.<sensor>', unit: '°C', kind: 'gauge', group: 'temp', description: 'Temperature of sensor <sensor> (thermal zone or hwmon)' },
  { pattern: 'gpu.<i>.util', unit: '%', kind: 'gauge', group: 'gpu', description: 'GPU <i> utilisation: share of time a kernel was running' },
  { pattern: 'gpu.<i>.mem.bus_util', unit: '%', kind: 'gauge', group: 'gpu', description: 'GPU <i> memory-controller utilisation: share of time memory was read or written' },
  { pattern: 'gpu.<i>.mem.used', unit: 'bytes', kind: 'gauge', group: 'gpu', description: 'GPU <i> framebuffer memory in use' },
  { pattern: 'gpu.<i>.mem.total', unit: 'bytes', kind: 'gauge', group: 'gpu', description: 'GPU <i> framebuffer memory' },
  { pattern: 'gpu.<i>.power', unit: 'W', kind: 'gauge', group: 'gpu', description: 'GPU <i> power draw' },
  { pattern: 'gpu.<i>.power.limit', unit: 'W', kind: 'gauge', group: 'gpu', description: 'GPU <i> enforced power limit' },
  { pattern: 'gpu.<i>.temp', unit: '°C', kind: 'gauge', group: 'gpu', description: 'GPU <i> core temperature' },
  { pattern: 'gpu.<i>.temp.mem', unit: '°C', kind: 'gauge', group: 'gpu', description: 'GPU <i> memory (HBM) temperature' },
  { pattern: 'gpu.<i>.clock.sm', unit: 'MHz', kind: 'gauge', group: 'gpu', description: 'GPU <i> SM clock' },
  { pattern: 'gpu.<i>.clock.mem', unit: 'MHz', kind: 'gauge', group: 'gpu', description: 'GPU <i> memory clock' },
  { pattern: 'gpu.<i>.clock.gr', unit: 'MHz', kind: 'gauge', group: 'gpu', description: 'GPU <i> graphics clock' },
  { pattern: 'gpu.<i>.fan', unit: '%', kind: 'gauge', group: 'gpu', description: 'GPU <i> fan speed as a share of its maximum' },
  { pattern: 'gpu.<i>.pstate', unit: 'count', kind: 'gauge', group: 'gpu', description: 'GPU <i> performance state (0 = P0, fastest … 15 = P15)' },
  { pattern: 'gpu.<i>.enc.util', unit: '%', kind: 'gauge', group: 'gpu', description: 'GPU <i> video encoder utilisation' },
  { pattern: 'gpu.<i>.dec.util', unit: '%', kind: 'gauge', group: 'gpu', description: 'GPU <i> video decoder utilisation' },
  { pattern: 'gpu.<i>.gpc.<n>.freq', unit: 'MHz', kind: 'gauge', group: 'gpu', description: 'Jetson GPU <i>: clock of graphics processing cluster <n> (tegrastats GR3D_FREQ @[…])' },

  // Jetson (tegrastats, or sysfs when tegrastats is absent). The GPU itself is gpu.0.*.
  { pattern: 'mem.lfb', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Jetson: largest free contiguous block of RAM (tegrastats lfb), a fragmentation signal' },
  { pattern: 'swap.cached', unit: 'bytes', kind: 'gauge', group: 'memory', description: 'Swap also held in RAM (SwapCached)' },
  { pattern: 'jetson.iram.used', unit: 'bytes', kind: 'gauge', group: 'jetson', description: 'Jetson IRAM (on-chip memory) in use' },
  { pattern: 'jetson.iram.total', unit: 'bytes', kind: 'gauge', group: 'jetson', description: 'Jetson IRAM size' },
  { pattern: 'jetson.iram.lfb', unit: 'bytes', kind: 'gauge', group: 'jetson', description: 'Jetson IRAM largest free block' },
  { pattern: 'jetson.emc.util', unit: '%', kind: 'gauge', group: 'jetson', description: 'Jetson external memory controller load (EMC_FREQ %)' },
  { pattern: 'jetson.emc.freq', unit: 'MHz', kind: 'gauge', group: 'jetson', description: 'Jetson external memory controller clock' },
  { pattern: 'jetson.engine.<engine>.util', unit: '%', kind: 'gauge', group: 'jetson', description: 'Jetson engine <engine> (nvenc, nvdec, nvjpg, vic, ofa, nvdla, pva, …) load' },
  { pattern: 'jetson.engine.<engine>.freq', unit: 'MHz', kind: 'gauge', group: 'jetson', description: 'Jetson engine <engine> clock' },
  { pattern: 'jetson.engine.<engine>.on', unit: 'flag', kind: 'gauge', group: 'jetson', description: 'Jetson engine <engine> powered on (1) or off (0)' },
  { pattern: 'jetson.mts.fg', unit: '%', kind: 'gauge', group: 'jetson', description: 'Jetson (Denver) MTS foreground time' },
  { pattern: 'jetson.mts.bg', unit: '%', kind: 'gauge', group: 'jetson', description: 'Jetson (Denver) MTS background time' },

  // Power, current, voltage, fans: on-board monitors (INA3221 rails on a Jetson, hwmon chips),
  // Intel RAPL energy counters, batteries.
  { pattern: 'power.board', unit: 'W', kind: 'gauge', group: 'power', description: 'Total board input power: the input rail (VDD_IN, POM_5V_IN) where the board has one, else the sum of its rails' },
  { pattern: 'power.rail.<rail>', unit: 'W', kind: 'gauge', group: 'power', description: 'Power on monitored rail <rail> (instantaneous)' },
  { pattern: 'power.rail.<rail>.avg', unit: 'W', kind: 'gauge', group: 'power', description: 'Power on rail <rail>, running average as tegrastats reports it' },
  { pattern: 'power.rail.<rail>.max', unit: 'W', kind: 'gauge', group: 'power', description: 'Power on rail <rail>, peak as tegrastats (JetPack 7) reports it' },
  { pattern: 'power.rapl.<domain>', unit: 'W', kind: 'gauge', group: 'power', description: 'Intel/AMD RAPL power of domain <domain> (package_0, core, uncore, dram, psys), from energy counters' },
  { pattern: 'power.hwmon.<sensor>', unit: 'W', kind: 'gauge', group: 'power', description: 'Power reported by hwmon sensor <sensor> (power*_input)' },
  { pattern: 'current.<sensor>', unit: 'A', kind: 'gauge', group: 'power', description: 'Current through sensor <sensor> (hwmon curr*_input, rail current)' },
  { pattern: 'volt.<sensor>', unit: 'V', kind: 'gauge', group: 'volt', description: 'Voltage of sensor <sensor> (hwmon in*_input, rail voltage)' },
  { pattern: 'fan.<sensor>', unit: 'rpm', kind: 'gauge', group: 'fan', description: 'Fan <sensor> speed (hwmon fan*_input)' },
  { pattern: 'fan.<sensor>.pwm', unit: '%', kind: 'gauge', group: 'fan', description: 'Fan <sensor> drive as a share of full (hwmon pwm*, 0–255 scaled)' },
  { pattern: 'battery.<name>.capacity', unit: '%', kind: 'gauge', group: 'power', description: 'Battery <name> charge' },
  { pattern: 'battery.<name>.power', unit: 'W', kind: 'gauge', group: 'power', description: 'Battery <name> charge (+) or discharge (−) power' },

  // Raspberry Pi (vcgencmd, or the firmware and hwmon nodes when vcgencmd is absent).
  { pattern: 'pi.throttle.under_voltage', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: under-voltage now (get_throttled bit 0)' },
  { pattern: 'pi.throttle.freq_capped', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: ARM frequency capped now (bit 1)' },
  { pattern: 'pi.throttle.throttled', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: throttled now (bit 2)' },
  { pattern: 'pi.throttle.soft_temp_limit', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: soft temperature limit active now (bit 3)' },
  { pattern: 'pi.throttle.under_voltage_since_boot', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: under-voltage has occurred since boot (bit 16)' },
  { pattern: 'pi.throttle.freq_capped_since_boot', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: ARM frequency capping has occurred since boot (bit 17)' },
  { pattern: 'pi.throttle.throttled_since_boot', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: throttling has occurred since boot (bit 18)' },
  { pattern: 'pi.throttle.soft_temp_limit_since_boot', unit: 'flag', kind: 'gauge', group: 'pi', description: 'Pi: soft temperature limit has occurred since boot (bit 19)' },
  { pattern: 'pi.throttle.bits', unit: 'count', kind: 'gauge', group: 'pi', description: 'Pi: raw get_throttled bit field' },
  { pattern: 'pi.clock.<block>', unit: 'MHz', kind: 'gauge', group: 'pi', description: 'Pi: measured clock of block <block> (arm, core, v3d, …); 0 can mean power-gated' },
  { pattern: 'pi.volt.<rail>', unit: 'V', kind: 'gauge', group: 'pi', description: 'Pi: voltage of <rail> (measure_volts: core, sdram_c, …)' },

  // Inference timings reported by the user's code (per model, per second; the histograms
  // themselves travel beside the metrics, see shared/inference.ts).
  { pattern: 'inference.dropped', unit: 'count', kind: 'gauge', group: 'inference', description: 'Inference timings the agent received but could not count since the previous sample (over a bound); absent when none were' },
  { pattern: 'infer.<model>.rate', unit: '/s', kind: 'gauge', group: 'inference', description: 'Inference calls per second for model <model>' },
  { pattern: 'infer.<model>.items_rate', unit: '/s', kind: 'gauge', group: 'inference', description: 'Items (batch sizes summed) per second for model <model>' },
  { pattern: 'infer.<model>.latency.mean', unit: 'ms', kind: 'gauge', group: 'inference', description: 'Mean latency of model <model> over the second' },
  { pattern: 'infer.<model>.latency.p50', unit: 'ms', kind: 'gauge', group: 'inference', description: 'Median latency of model <model> over the second' },
  { pattern: 'infer.<model>.latency.p99', unit: 'ms', kind: 'gauge', group: 'inference', description: '99th-percentile latency of model <model> over the second' },
  { pattern: 'infer.<model>.latency.max', unit: 'ms', kind: 'gauge', group: 'inference', description: 'Slowest call of model <model> in the second' },

  // Processes (the table itself travels beside the metrics; these are its totals).
  { pattern: 'procs.count', unit: 'count', kind: 'gauge', group: 'procs', description: 'Processes on the device' },
  { pattern: 'procs.running', unit: 'count', kind: 'gauge', group: 'procs', description: 'Processes running or runnable' },
];

/** Placeholders that match only a number. */
const NUMERIC_PLACEHOLDERS = new Set(['n', 'i']);
const SEGMENT = '[a-z0-9_]+';

interface CompiledSpec {
  readonly spec: MetricSpec;
  readonly regex: RegExp;
  readonly params: readonly string[];
}

function compile(spec: MetricSpec): CompiledSpec {
  const params: string[] = [];
  const source = spec.pattern
    .split('.')
    .map((segment) => {
      const placeholder = /^<([a-z]+)>$/.exec(segment);
      if (!placeholder) return segment;
      const name = placeholder[1]!;
      params.push(name);
      return NUMERIC_PLACEHOLDERS.has(name) ? '(\\d+)' : `(${SEGMENT})`;
    })
    .join('\\.');
  return { spec, regex: new RegExp(`^${source}$`), params };
}

const COMPILED = METRIC_CATALOG.map(compile);
const lookupCache = new Map<string, MetricMatch | null>();

export interface MetricMatch {
  readonly spec: MetricSpec;
  /** Values of the pattern's placeholders, e.g. `{ n: '3' }` for `cpu.core.3.util`. */
  readonly params: Readonly<Record<string, string>>;
}

/** The catalog entry a concrete metric name belongs to, or null if the catalog has none. */
export function describeMetric(name: string): MetricMatch | null {
  const cached = lookupCache.get(name);
  if (cached !== undefined) return cached;
  let found: MetricMatch | null = null;
  for (const compiled of COMPILED) {
    const m = compiled.regex.exec(name);
    if (!m) continue;
    const params: Record<string, string> = {};
    compiled.params.forEach((p, idx) => (params[p] = m[idx + 1]!));
    found = { spec: compiled.spec, params };
    break;
  }
  // The cache is bounded by the metric names a fleet actually has; cap it anyway so hostile
  // input cannot grow it without limit.
  if (lookupCache.size < 50_000) lookupCache.set(name, found);
  return found;
}

/** Unit of a metric name, or undefined when the catalog does not know the name. */
export function unitOf(name: string): Unit | undefined {
  return describeMetric(name)?.spec.unit;
}

/**
 * Turns a raw label from a tool or the kernel (an interface name, a mount point, a sensor
 * label) into one metric-name segment: lowercase letters, digits and `_`.
 */
export function metricSegment(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 48);
  return cleaned === '' ? 'unknown' : cleaned;
}

/**
 * Gives a segment already in `taken` a numeric suffix (`acpitz`, `acpitz_1`, `acpitz_2`)
 * and records the result, so two sensors or mounts never share a metric name.
 */
export function uniqueSegment(segment: string, taken: Set<string>): string {
  let unique = segment;
  for (let i = 1; taken.has(unique); i++) unique = `${segment}_${i}`;
  taken.add(unique);
  return unique;
}

/** Metric segment for a mount point: `/` → `rootfs`, `/boot/firmware` → `boot_firmware`. */
export function mountSegment(mountPoint: string): string {
  return mountPoint === '/' ? 'rootfs' : metricSegment(mountPoint);
}
