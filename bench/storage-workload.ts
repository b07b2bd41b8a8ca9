// A deterministic fleet of simulated devices for the storage benchmark: what 20 real agents
// would send, one sample a second each, without running 20 agents. Compression ratios depend
// on the signal (a constant compresses to nothing, white noise to nothing useful), so the
// values come from real captures in test/fixtures, read by the agent's own parsers (metric
// names and ranges are therefore real), and are replayed for as long as asked with the texture
// real signals have: clocks that sit on DVFS levels, temperatures that drift at the sensor's
// resolution, power that is noisy, utilisation that bursts with the load, counters turned into
// rates by the collectors' arithmetic, values the firmware refreshes every 5 s held in between,
// and inference metrics that come and go with the model. Everything is quantized the way the
// agent does before sending (shared/quantize.ts).
import { existsSync, readFileSync } from 'node:fs';
import { utilisation } from '../agent/collectors/cpu.js';
import { perSecond } from '../agent/collectors/counters.js';
import { parseNvidiaSmi } from '../agent/parsers/nvidia-smi/index.js';
import { decodeRevisionCode, parseCpuinfo } from '../agent/parsers/proc/cpuinfo.js';
import { parseMeminfo } from '../agent/parsers/proc/meminfo.js';
import { parseProcStat, type CpuTimes } from '../agent/parsers/proc/stat.js';
import { parseSensors } from '../agent/parsers/sensors/index.js';
import { parseTegrastats } from '../agent/parsers/tegrastats/index.js';
import { parseVcgencmd, type ParseVcgencmdOptions } from '../agent/parsers/vcgencmd/index.js';
import { unitOf, type Unit } from '../shared/catalog.js';
import type { Sample } from '../shared/protocol.js';
import { quantizeValues } from '../shared/quantize.js';

/**
 * test/fixtures: one level up from bench/ and dist/ (dist/bench.mjs, dist/edgewatch.mjs), two
 * from a code-split chunk (dist/chunks/, where `edgewatch demo` loads this from).
 */
export const FIXTURES = ['../test/fixtures/', '../../test/fixtures/'].map((rel) => new URL(rel, import.meta.url)).find((u) => existsSync(u)) ?? new URL('../test/fixtures/', import.meta.url);
const MiB = 1_048_576;
/** The agent's tick phase (agent/sampler.ts GRID_PHASE_MS): samples fall at …:07.300, …:08.300. */
const TICK_PHASE_MS = 300;

// ---------------------------------------------------------------------------------------------
// Seeded randomness: the same seed gives the same fleet, byte for byte.

export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

// ---------------------------------------------------------------------------------------------
// Captures, parsed once per process.

const fixture = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');
const cache = new Map<string, Record<string, number>[]>();

function captured(key: string, parse: () => Record<string, number>[]): Record<string, number>[] {
  let lines = cache.get(key);
  if (!lines) {
    lines = parse();
    if (lines.length === 0) throw new Error(`storage workload: ${key} parsed to no samples`);
    cache.set(key, lines);
  }
  return lines;
}

const tegrastats = (file: string) => captured(file, () => parseTegrastats(fixture(`tegrastats/${file}`)).samples.map((s) => s.m));
const sensors = (file: string) => captured(file, () => parseSensors(fixture(`sensors/${file}`)).samples.map((s) => s.m));
const vcgencmd = (file: string, hints: ParseVcgencmdOptions = {}) =>
  captured(`${file}:${JSON.stringify(hints)}`, () => parseVcgencmd(fixture(`raspberry-pi/${file}`), hints).samples.map((s) => s.m));
/** The H200 stream the agent's long-lived `nvidia-smi -lms` prints, with the fields it asked for. */
const h200Stream = () =>
  captured('h200', () => {
    const fields = fixture('nvidia-smi/h200/QUERY_FIELDS.txt').trim().split(',');
    return parseNvidiaSmi(fixture('nvidia-smi/h200/busy_stream_lms500.txt'), { fields }).samples.map((s) => s.m);
  });
const rtx3090 = () => captured('rtx3090', () => parseNvidiaSmi(fixture('nvidia-smi/q-x_telegraf_rtx-3090-v12_xml.txt')).samples.map((s) => s.m));

/** Per-core busy shares (0–1) between the two captured /proc/stat readings of the x86 VM. */
function capturedCoreLoad(): number[] {
  const a = parseProcStat(fixture('sysroot/x86-vm/proc/stat'));
  const b = parseProcStat(fixture('sysroot/x86-vm-tick2/proc/stat'));
  const out: number[] = [];
  for (const [core, times] of b.cores) {
    const u = utilisation(a.cores.get(core)!, times);
    if (u) out.push(u.util / 100);
  }
  return out;
}

function capturedMemTotal(kind: 'x86' | 'pi'): number {
  if (kind === 'x86') return parseMeminfo(fixture('sysroot/x86-vm/proc/meminfo')).get('MemTotal')!;
  const revision = parseCpuinfo(fixture('raspberry-pi/proc-cpuinfo_rpi-cm4-8gb-rev1.1_aarch64.txt')).revision!;
  return decodeRevisionCode(revision)!.memoryBytes!;
}

// ---------------------------------------------------------------------------------------------
// One tick of one device, shared by its sources.

interface Tick {
  readonly second: number;
  /** Time since the previous sample on the device's clock: what rates are divided by. */
  readonly elapsedMs: number;
  readonly rng: Rng;
  /** 0 … 1: a device-wide burst of work (a job started), which every load-driven signal follows. */
  readonly burst: number;
  /** Busy cores this tick (Σ busy shares), for the load average and the running count. */
  runnable: number;
}

/**
 * The values of one tick, in slots: sources register their metric names once, when the
 * device is built, and then write numbers, so a tick allocates nothing until the sample's
 * object is made.
 */
class Frame {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private values = new Float64Array(64);
  private stamps = new Uint32Array(64);
  private tickNo = 1;

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
      if (id >= this.values.length) {
        const values = new Float64Array(this.values.length * 2);
        const stamps = new Uint32Array(this.values.length * 2);
        values.set(this.values);
        stamps.set(this.stamps);
        this.values = values;
        this.stamps = stamps;
      }
    }
    return id;
  }

  set(id: number, v: number): void {
    this.values[id] = v;
    this.stamps[id] = this.tickNo;
  }

  get(id: number): number | undefined {
    return this.stamps[id] === this.tickNo ? this.values[id] : undefined;
  }

  /** Forgets this tick's values. */
  next(): void {
    this.tickNo++;
  }

  /** Which slots hold a value this tick, as a string key ('1' set, '0' absent). */
  presence(): string {
    let key = '';
    for (let i = 0; i < this.names.length; i++) key += this.stamps[i] === this.tickNo ? '1' : '0';
    return key;
  }

  read(): Float64Array {
    return this.values;
  }
}

interface Source {
  sample(tick: Tick, out: Frame): void;
}

// ---------------------------------------------------------------------------------------------
// Replay: capture lines as anchors, a random walk around them at the capture's resolution.

type Behaviour = 'constant' | 'level' | 'walk';

function behaviourOf(name: string, unit: Unit | undefined): Behaviour {
  if (/\.(total|size|limit)$|^pi\.throttle\./.test(name)) return 'constant';
  if (unit === 'MHz' || unit === 'flag' || unit === 'count') return 'level';
  return 'walk';
}

const GRAINS_BYTES = [MiB, 4096, 1024, 1];
const GRAINS = [1, 0.5, 0.25, 0.1, 1 / 32, 0.01, 0.001];

/**
 * The coarsest step every captured value sits on: tegrastats prints whole percent and MB,
 * Orin thermal zones step by 1/32 °C (printed to 3 decimals), nvidia-smi power by 0.01 W.
 */
export function grainOf(values: readonly number[], unit: Unit | undefined): number {
  const grains = unit === 'bytes' ? GRAINS_BYTES : GRAINS;
  for (const g of grains) if (values.every((v) => Math.abs(v - Math.round(v / g) * g) < 0.0011)) return g;
  return grains[grains.length - 1]!;
}

/** Random-walk scale (σ per second, as a share of the anchor or absolute) and pull back to the anchor. */
function walkShape(name: string, unit: Unit | undefined): { sigmaRel: number; sigmaAbs: number; revert: number; follows: boolean } {
  const smooth = name.endsWith('.avg') ? 0.2 : 1;
  switch (unit) {
    case '%':
      return { sigmaRel: 0, sigmaAbs: 2 * smooth, revert: 0.3, follows: true };
    case '°C':
      return { sigmaRel: 0, sigmaAbs: 0.04, revert: 0.01, follows: true };
    case 'W':
      return { sigmaRel: 0.03 * smooth, sigmaAbs: 0.005, revert: 0.5, follows: true };
    case 'bytes':
      return { sigmaRel: 0.001, sigmaAbs: 0, revert: 0.01, follows: true };
    default:
      return { sigmaRel: 0.005, sigmaAbs: 0, revert: 0.3, follows: false };
  }
}

class ReplayChannel {
  private offset = 0;
  /** °C above the anchor that a burst of work has built up: silicon heats and cools over a minute or so. */
  private heat = 0;
  private level: number;
  private readonly levels: number[];
  private readonly grain: number;
  private readonly unit: Unit | undefined;
  private readonly behaviour: Behaviour;
  private readonly shape: ReturnType<typeof walkShape>;

  constructor(
    readonly name: string,
    captures: readonly number[],
  ) {
    this.unit = unitOf(name);
    this.behaviour = behaviourOf(name, this.unit);
    this.grain = grainOf(captures, this.unit);
    this.shape = walkShape(name, this.unit);
    this.levels = [...new Set(captures)];
    // One captured clock level would freeze DVFS for the whole run; real governors move.
    if (this.unit === 'MHz' && this.levels.length === 1 && this.levels[0]! > 0) {
      const v = this.levels[0]!;
      this.levels.push(this.snap(v * 0.7), this.snap(v * 1.3));
    }
    this.level = captures[0]!;
  }

  private snap(v: number): number {
    return Math.round(v / this.grain) * this.grain;
  }

  value(anchor: number, tick: Tick): number {
    const { rng, burst } = tick;
    if (this.behaviour === 'constant') return anchor;
    if (this.behaviour === 'level') {
      // Mostly on the captured level; now and then another one (a governor step, an engine waking).
      if (rng.chance(this.unit === 'MHz' ? 0.03 : 0.001)) this.level = rng.chance(0.6) ? anchor : rng.pick(this.levels);
      return this.level;
    }
    const s = this.shape;
    this.offset = this.offset * (1 - s.revert) + rng.normal() * (s.sigmaAbs + s.sigmaRel * Math.abs(anchor));
    let target = anchor;
    if (this.unit === '°C') {
      this.heat += (10 * burst - this.heat) * 0.02;
      target = anchor + this.heat;
    } else if (s.follows && burst > 0) {
      if (this.unit === '%') target = anchor + burst * (95 - anchor);
      else if (this.unit === 'W') target = anchor * (1 + 0.8 * burst);
      else if (this.unit === 'bytes') target = anchor * (1 + 0.05 * burst);
    }
    let v = target + this.offset;
    // A lone spike: a short burst of work between two samples, a power transient.
    if ((this.unit === '%' || this.unit === 'W') && rng.chance(0.001)) v *= 1.5;
    if (this.unit === '%') v = Math.min(100, v);
    return this.snap(Math.max(0, v));
  }
}

/**
 * Replays a capture's lines as anchors, one line for a while (dwell), then the next. Sources
 * the agent refreshes less often than every tick (vcgencmd every 5 s) hold their last values.
 */
class ReplaySource implements Source {
  private readonly channels: ReplayChannel[];
  /** Frame slots of the metrics as sent (renamed where asked), parallel to channels. */
  private readonly slots: number[];
  /** Per line, per channel: the anchor, carried forward from earlier lines where a line lacks it. */
  private readonly anchors: (number | undefined)[][];
  private readonly held: (number | undefined)[];
  private line = 0;
  private nextLineAt = 0;

  constructor(
    frame: Frame,
    lines: readonly Record<string, number>[],
    private readonly refreshEverySec = 1,
    rename: (name: string) => string = (n) => n,
  ) {
    const names = [...new Set(lines.flatMap((m) => Object.keys(m)))];
    this.channels = names.map((n) => new ReplayChannel(n, lines.map((m) => m[n]).filter((v): v is number => v !== undefined)));
    this.slots = names.map((n) => frame.id(rename(n)));
    const last: (number | undefined)[] = names.map((n) => lines.findLast((m) => m[n] !== undefined)?.[n]);
    this.anchors = lines.map((m) => names.map((n, i) => (last[i] = m[n] ?? last[i])));
    this.held = new Array<number | undefined>(names.length);
  }

  sample(tick: Tick, out: Frame): void {
    const { channels, slots, held } = this;
    if (tick.second % this.refreshEverySec === 0) {
      if (tick.second >= this.nextLineAt) {
        this.line = (this.line + 1) % this.anchors.length;
        this.nextLineAt = tick.second + tick.rng.int(20, 300);
      }
      const anchors = this.anchors[this.line]!;
      for (let i = 0; i < channels.length; i++) {
        const anchor = anchors[i];
        held[i] = anchor === undefined ? undefined : channels[i]!.value(anchor, tick);
      }
    }
    for (let i = 0; i < slots.length; i++) if (held[i] !== undefined) out.set(slots[i]!, held[i]!);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc-style sources: counters advanced tick by tick and turned into values by the same
// arithmetic the collectors use.

type MutableCpuTimes = { -readonly [K in keyof CpuTimes]: CpuTimes[K] };

class CpuSource implements Source {
  /** Counters of each core now and at the previous tick (two objects per core, swapped). */
  private cur: MutableCpuTimes[];
  private prev: MutableCpuTimes[];
  private readonly all = [zeroTimes(), zeroTimes()];
  private readonly busyBase: number[];
  private readonly busyWalk: number[];
  private readonly carry: number[];
  private readonly freqLevel: number[];
  private readonly utilIds: number[];
  private readonly freqIds: number[];
  private readonly ids: { util: number; iowait: number; freq: number };

  constructor(
    frame: Frame,
    private readonly n: number,
    /** Per-core utilisation comes from a tool (tegrastats); /proc/stat then only gives the totals. */
    private readonly coresFromTool: boolean,
    /** cpufreq levels for cores whose frequency no tool reports; empty when one does. */
    private readonly freqLevels: readonly number[],
    rng: Rng,
  ) {
    const captured = capturedCoreLoad();
    const start = parseProcStat(fixture('sysroot/x86-vm/proc/stat'));
    this.cur = Array.from({ length: n }, (_, i) => ({ ...start.cores.get(i % start.cores.size)! }));
    this.prev = this.cur.map((c) => ({ ...c }));
    this.busyBase = Array.from({ length: n }, (_, i) => captured[i % captured.length]! * (0.2 + 0.6 * rng.next()));
    this.busyWalk = new Array<number>(n).fill(0);
    this.carry = new Array<number>(n).fill(0);
    this.freqLevel = Array.from({ length: n }, () => freqLevels[0] ?? 0);
    this.utilIds = Array.from({ length: n }, (_, i) => frame.id(`cpu.core.${i}.util`));
    this.freqIds = Array.from({ length: n }, (_, i) => frame.id(`cpu.core.${i}.freq`));
    this.ids = { util: frame.id('cpu.util'), iowait: frame.id('cpu.iowait'), freq: frame.id('cpu.freq') };
    addTimes(this.all[0]!, this.cur);
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    [this.prev, this.cur] = [this.cur, this.prev];
    let busySum = 0;
    let freqSum = 0;
    for (let i = 0; i < this.n; i++) {
      const prev = this.prev[i]!;
      const core = Object.assign(this.cur[i]!, prev);
      let busy: number;
      const reported = out.get(this.utilIds[i]!);
      if (this.coresFromTool && reported !== undefined) busy = reported / 100;
      else {
        this.busyWalk[i] = this.busyWalk[i]! * 0.7 + rng.normal() * 0.04;
        busy = this.busyBase[i]! + this.busyWalk[i]! + tick.burst * (0.9 - this.busyBase[i]!);
      }
      busy = Math.min(1, Math.max(0, busy));
      busySum += busy;
      // USER_HZ is 100: a 1 s tick is 99–101 jiffies depending on where it fell.
      const exact = tick.elapsedMs / 10 + this.carry[i]!;
      const ticks = Math.round(exact);
      this.carry[i] = exact - ticks;
      const busyTicks = Math.min(ticks, Math.max(0, Math.round(ticks * busy + rng.normal() * 0.7)));
      const ioTicks = rng.chance(0.05) ? Math.min(ticks - busyTicks, rng.int(1, 6)) : 0;
      const system = Math.round(busyTicks * 0.2);
      core.user += busyTicks - system;
      core.system += system;
      core.iowait += ioTicks;
      core.idle += ticks - busyTicks - ioTicks;
      if (!this.coresFromTool) {
        const u = utilisation(prev, core);
        if (u) out.set(this.utilIds[i]!, u.util);
      }
      if (this.freqLevels.length > 0) {
        // ondemand/schedutil: up when busy, back down when idle, not on every tick.
        if (rng.chance(0.2)) this.freqLevel[i] = this.freqLevels[Math.min(this.freqLevels.length - 1, Math.floor(busy * this.freqLevels.length * 1.5))]!;
        out.set(this.freqIds[i]!, this.freqLevel[i]!);
        freqSum += this.freqLevel[i]!;
      } else freqSum += out.get(this.freqIds[i]!) ?? 0;
    }
    const [prevAll, curAll] = this.all as [MutableCpuTimes, MutableCpuTimes];
    Object.assign(curAll, zeroTimes());
    addTimes(curAll, this.cur);
    const u = utilisation(prevAll, curAll);
    Object.assign(prevAll, curAll);
    if (u) {
      out.set(this.ids.util, u.util);
      if (u.iowait !== undefined) out.set(this.ids.iowait, u.iowait);
    }
    if (freqSum > 0) out.set(this.ids.freq, freqSum / this.n);
    tick.runnable = busySum;
  }
}

function zeroTimes(): MutableCpuTimes {
  return { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };
}

/** Adds the cores' counters into `sum`: the aggregate `cpu` line of /proc/stat. */
function addTimes(sum: MutableCpuTimes, cores: readonly CpuTimes[]): void {
  for (const c of cores) {
    sum.user += c.user;
    sum.nice += c.nice;
    sum.system += c.system;
    sum.idle += c.idle;
    sum.iowait += c.iowait;
    sum.irq += c.irq;
    sum.softirq += c.softirq;
    sum.steal += c.steal;
  }
}

/** The kernel's load average: an exponential average of the runnable count, updated every 5 s. */
class LoadSource implements Source {
  private readonly load = [0, 0, 0];
  private readonly decay = [60, 300, 900].map((s) => Math.exp(-5 / s));
  private readonly ids: number[];

  constructor(frame: Frame) {
    this.ids = ['load.1', 'load.5', 'load.15', 'procs.running'].map((n) => frame.id(n));
  }

  sample(tick: Tick, out: Frame): void {
    if (tick.second % 5 === 0) {
      const n = Math.max(0, Math.round(tick.runnable + tick.rng.normal() * 0.5));
      this.decay.forEach((e, i) => (this.load[i] = this.load[i]! * e + n * (1 - e)));
    }
    for (let i = 0; i < 3; i++) out.set(this.ids[i]!, this.load[i]!);
    out.set(this.ids[3]!, Math.max(1, Math.round(tick.runnable + Math.abs(tick.rng.normal()))));
  }
}

const MEMORY_METRICS = ['mem.total', 'mem.used', 'mem.available', 'mem.util', 'mem.cached', 'swap.total', 'swap.used', 'procs.count'] as const;

/** /proc/meminfo in kB; where a tool already reported used and total (tegrastats), those stand. */
class MemorySource implements Source {
  private availableKb: number;
  private cachedKb: number;
  private swapUsedPages = 0;
  private procs: number;
  private readonly ids: Record<(typeof MEMORY_METRICS)[number], number>;

  constructor(
    frame: Frame,
    private readonly totalBytes: number,
    private readonly swapBytes: number,
    rng: Rng,
  ) {
    this.availableKb = Math.round((totalBytes / 1024) * (0.4 + 0.4 * rng.next()));
    this.cachedKb = -1;
    this.procs = rng.int(180, 420);
    this.ids = Object.fromEntries(MEMORY_METRICS.map((n) => [n, frame.id(n)])) as typeof this.ids;
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    const ids = this.ids;
    const total = out.get(ids['mem.total']) ?? this.totalBytes;
    const totalKb = total / 1024;
    if (this.cachedKb < 0) this.cachedKb = Math.round(totalKb * (0.1 + 0.2 * rng.next()));
    this.availableKb = Math.round(Math.min(totalKb * 0.95, Math.max(totalKb * 0.05, this.availableKb + rng.normal() * 300 - tick.burst * 2000)));
    this.cachedKb = Math.round(Math.min(totalKb * 0.5, Math.max(0, this.cachedKb + (rng.chance(0.1) ? rng.normal() * 2000 : 4))));
    if (rng.chance(0.002)) this.swapUsedPages = Math.max(0, this.swapUsedPages + rng.int(-200, 400));
    const used = out.get(ids['mem.used']) ?? total - this.availableKb * 1024;
    out.set(ids['mem.total'], total);
    out.set(ids['mem.used'], used);
    out.set(ids['mem.available'], total - used);
    out.set(ids['mem.util'], (used / total) * 100);
    out.set(ids['mem.cached'], this.cachedKb * 1024);
    if (out.get(ids['swap.total']) === undefined) out.set(ids['swap.total'], this.swapBytes);
    if (out.get(ids['swap.used']) === undefined) out.set(ids['swap.used'], this.swapUsedPages * 4096);
    if (rng.chance(0.05)) this.procs += rng.int(-3, 3);
    out.set(ids['procs.count'], this.procs);
  }
}

/** A block device: mostly idle, a journal commit every few seconds, now and then a burst of reads. */
class DiskSource implements Source {
  private readBurst = 0;
  private readonly ids: number[];

  constructor(frame: Frame, name: string) {
    this.ids = [`disk.${name}.read_bps`, `disk.${name}.write_bps`, `disk.${name}.util`].map((n) => frame.id(n));
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    if (this.readBurst === 0 && rng.chance(0.003 + 0.05 * tick.burst)) this.readBurst = rng.int(2, 40);
    const readSectors = this.readBurst > 0 ? rng.int(64, 20_000) : rng.chance(0.02) ? rng.int(8, 64) : 0;
    if (this.readBurst > 0) this.readBurst--;
    const writeSectors = tick.second % 5 === 0 || rng.chance(0.05) ? rng.int(8, 512) : 0;
    const ioMs = Math.min(tick.elapsedMs, Math.round((readSectors + writeSectors) / 40 + (readSectors + writeSectors > 0 ? rng.int(0, 8) : 0)));
    out.set(this.ids[0]!, perSecond(readSectors * 512, tick.elapsedMs));
    out.set(this.ids[1]!, perSecond(writeSectors * 512, tick.elapsedMs));
    out.set(this.ids[2]!, perSecond(ioMs, tick.elapsedMs) / 10);
  }
}

/** An interface: the agent's own stream and background chatter, with the odd download. */
class NetSource implements Source {
  private download = 0;
  private readonly ids: number[];

  constructor(
    frame: Frame,
    name: string,
    private readonly chatterBps: number,
  ) {
    this.ids = [`net.${name}.rx_bps`, `net.${name}.tx_bps`].map((n) => frame.id(n));
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    if (this.download === 0 && rng.chance(0.0005)) this.download = rng.int(5, 120);
    const packets = Math.max(0, Math.round(this.chatterBps / 400 + rng.normal() * 2));
    let rx = packets * rng.int(60, 200);
    const tx = packets * rng.int(80, 500);
    if (this.download > 0) {
      rx += rng.int(1, 12) * 1_000_000 + rng.int(0, 999_999);
      this.download--;
    }
    out.set(this.ids[0]!, perSecond(rx, tick.elapsedMs));
    out.set(this.ids[1]!, perSecond(tx, tick.elapsedMs));
  }
}

/** A filesystem: size fixed, used creeping up in 4 KiB blocks (logs), dropping on log rotation. */
class FsSource implements Source {
  private usedBlocks: number;
  private readonly sizeBlocks: number;
  private readonly ids: number[];

  constructor(frame: Frame, seg: string, sizeBytes: number, rng: Rng) {
    this.ids = [`fs.${seg}.size`, `fs.${seg}.used`, `fs.${seg}.util`].map((n) => frame.id(n));
    this.sizeBlocks = Math.round(sizeBytes / 4096);
    this.usedBlocks = Math.round(this.sizeBlocks * (0.1 + 0.7 * rng.next()));
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    if (rng.chance(0.1)) this.usedBlocks += rng.int(1, 8);
    if (rng.chance(0.0002)) this.usedBlocks -= rng.int(1000, 50_000);
    this.usedBlocks = Math.min(this.sizeBlocks, Math.max(0, this.usedBlocks));
    out.set(this.ids[0]!, this.sizeBlocks * 4096);
    out.set(this.ids[1]!, this.usedBlocks * 4096);
    out.set(this.ids[2]!, (this.usedBlocks / this.sizeBlocks) * 100);
  }
}

/**
 * Values other collectors derive from what a tool reported: the thermal zones repeat
 * tegrastats' temperatures (m°C), the INA3221 hwmon gives each rail's bus voltage (8 mV steps)
 * and current, and the fan follows the hottest zone.
 */
class JetsonHwmonSource implements Source {
  /** [tegrastats slot, thermal zone slot]. */
  private readonly temps: [number, number][];
  /** [rail power slot, volt slot, current slot, bus voltage]. */
  private readonly rails: [number, number, number, number][];
  private readonly fanIds: [number, number];
  private fanRpm = 0;

  /** Built after the tegrastats source, whose metric names it derives its own from. */
  constructor(frame: Frame) {
    const names = [...frame.names];
    this.temps = names.filter((n) => /^temp\.[a-z0-9_]+$/.test(n)).map((n) => [frame.id(n), frame.id(`${n}_thermal`)]);
    this.rails = names.flatMap((n) => {
      const rail = /^power\.rail\.([a-z0-9_]+)$/.exec(n)?.[1];
      return rail ? [[frame.id(n), frame.id(`volt.ina3221_${rail}`), frame.id(`current.ina3221_${rail}`), 5] as [number, number, number, number]] : [];
    });
    this.fanIds = [frame.id('fan.pwmfan'), frame.id('fan.pwmfan.pwm')];
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    let hottest = 0;
    for (const [temp, zone] of this.temps) {
      const v = out.get(temp);
      if (v === undefined) continue;
      out.set(zone, v);
      hottest = Math.max(hottest, v);
    }
    for (const rail of this.rails) {
      const power = out.get(rail[0]);
      if (power === undefined) continue;
      if (rng.chance(0.2)) rail[3] = Math.min(5.2, Math.max(4.8, rail[3] + rng.pick([-0.008, 0.008])));
      out.set(rail[1], rail[3]);
      out.set(rail[2], power / rail[3]);
    }
    const pwm = Math.min(255, Math.max(0, Math.round((hottest - 35) * 8)));
    this.fanRpm = this.fanRpm * 0.8 + 0.2 * (pwm * 20) + rng.normal() * 15;
    out.set(this.fanIds[0], Math.max(0, Math.round(this.fanRpm)));
    out.set(this.fanIds[1], (pwm / 255) * 100);
  }
}

/**
 * One model's per-second inference metrics. Present only while the model runs (it starts and
 * stops); quantiles come from log-bucketed histograms, so they sit on ~1 % steps.
 */
class InferenceSource implements Source {
  private active: boolean;
  private switchAt = 0;
  private readonly ids: number[];

  constructor(
    frame: Frame,
    model: string,
    private readonly fps: number,
    private readonly batch: number,
    private readonly latencyMs: number,
    /** Share of the time the model runs; 1 for a service that never stops. */
    private readonly duty: number,
    rng: Rng,
  ) {
    this.active = rng.chance(duty);
    this.ids = ['rate', 'items_rate', 'latency.mean', 'latency.p50', 'latency.p99', 'latency.max'].map((m) => frame.id(`infer.${model}.${m}`));
  }

  sample(tick: Tick, out: Frame): void {
    const { rng } = tick;
    if (this.duty < 1 && tick.second >= this.switchAt) {
      this.active = rng.chance(this.duty);
      this.switchAt = tick.second + rng.int(300, 3600);
    }
    if (!this.active) return;
    const calls = Math.max(0, Math.round(this.fps + Math.sqrt(this.fps) * rng.normal()));
    if (calls === 0) return;
    const p50 = this.latencyMs * (1 + 0.3 * tick.burst) * Math.exp(0.04 * rng.normal());
    const p99 = p50 * (1.2 + 0.3 * Math.abs(rng.normal()));
    const max = p99 * (1 + 0.2 * Math.abs(rng.normal()));
    const [rate, items, mean, q50, q99, qmax] = this.ids as [number, number, number, number, number, number];
    out.set(rate, calls);
    out.set(items, calls * this.batch);
    out.set(mean, p50 * 1.05);
    out.set(q50, logBucket(p50));
    out.set(q99, logBucket(p99));
    out.set(qmax, max);
  }
}

const LOG_STEP = Math.log(1.02);
/** A histogram bucket's representative value: relative width 2 %, i.e. ±1 %. */
function logBucket(v: number): number {
  return Math.exp(Math.round(Math.log(v) / LOG_STEP) * LOG_STEP);
}

// ---------------------------------------------------------------------------------------------
// Device kinds and the fleet.

interface Model {
  name: string;
  fps: number;
  batch: number;
  latencyMs: number;
  duty: number;
}

const MODELS: readonly Model[] = [
  { name: 'yolov8n_int8', fps: 30, batch: 1, latencyMs: 11.5, duty: 1 },
  { name: 'resnet18_fp16', fps: 12, batch: 8, latencyMs: 24, duty: 0.6 },
  { name: 'whisper_tiny', fps: 2, batch: 1, latencyMs: 180, duty: 0.3 },
  { name: 'depth_anything_s', fps: 8, batch: 1, latencyMs: 60, duty: 0.8 },
  { name: 'mobilenet_v3_int8', fps: 60, batch: 1, latencyMs: 4.2, duty: 1 },
  { name: 'qwen2_0_5b_q4', fps: 1, batch: 1, latencyMs: 850, duty: 0.25 },
];

export interface DeviceKind {
  readonly kind: string;
  readonly description: string;
  build(frame: Frame, rng: Rng): Source[];
}

interface HostShape {
  cores: number;
  coresFromTool: boolean;
  freqLevels: readonly number[];
  memTotal?: number;
  swap?: number;
  disks: readonly string[];
  nets: readonly [string, number][];
  fs: readonly [string, number][];
  models: number;
}

/** What every Linux device sends from /proc, statfs and the inference SDK. */
function host(frame: Frame, rng: Rng, shape: HostShape): Source[] {
  const sources: Source[] = [
    new CpuSource(frame, shape.cores, shape.coresFromTool, shape.freqLevels, rng),
    new LoadSource(frame),
    new MemorySource(frame, shape.memTotal ?? 0, shape.swap ?? 0, rng),
  ];
  for (const d of shape.disks) sources.push(new DiskSource(frame, d));
  for (const [n, bps] of shape.nets) sources.push(new NetSource(frame, n, bps));
  for (const [seg, size] of shape.fs) sources.push(new FsSource(frame, seg, size, rng));
  for (let i = 0; i < shape.models; i++) {
    const m = MODELS[i % MODELS.length]!;
    sources.push(new InferenceSource(frame, m.name, m.fps, m.batch, m.latencyMs, m.duty, rng));
  }
  return sources;
}

const GB = 1e9;

function jetson(kind: string, description: string, capture: string, cores: number, models: number, disks: readonly string[]): DeviceKind {
  return {
    kind,
    description,
    build: (frame, rng) => [
      new ReplaySource(frame, tegrastats(capture)),
      ...host(frame, rng, {
        cores,
        coresFromTool: true,
        freqLevels: [],
        disks,
        // A developer kit's interfaces: l4tbr0 bridges the USB device-mode links usb0/usb1.
        nets: [['eth0', 4000], ['wlan0', 300], ['l4tbr0', 0], ['usb0', 0], ['usb1', 0], ['docker0', 800]],
        fs: [['rootfs', 64 * GB], ['boot_efi', 0.1 * GB], ['data', 256 * GB]],
        models,
      }),
      new JetsonHwmonSource(frame),
    ],
  };
}

function x86Gpu(kind: string, description: string, threads: number, gpus: number, gpuLines: () => Record<string, number>[], sensorsFile: string): DeviceKind {
  return {
    kind,
    description,
    build: (frame, rng) => [
      ...Array.from({ length: gpus }, (_, i) => new ReplaySource(frame, gpuLines(), 1, (n) => n.replace(/^gpu\.0\./, `gpu.${i}.`))),
      new ReplaySource(frame, sensors(sensorsFile)),
      ...host(frame, rng, {
        cores: threads,
        coresFromTool: false,
        // acpi-cpufreq P-states of a Ryzen (scaling_cur_freq in kHz / 1000).
        freqLevels: [2200, 2800, 3800],
        memTotal: capturedMemTotal('x86') * 4,
        swap: 8 * GB,
        disks: ['nvme0n1', 'nvme1n1'],
        nets: [['enp5s0', 6000], ['docker0', 1000]],
        fs: [['rootfs', 1000 * GB], ['boot_efi', 0.5 * GB], ['data', 4000 * GB]],
        models: 3,
      }),
    ],
  };
}

function raspberryPi(kind: string, description: string, throttledCapture: string): DeviceKind {
  return {
    kind,
    description,
    build: (frame, rng) => [
      // What the agent asks vcgencmd every 5 s (VCGENCMD_COMMANDS) and get_throttled every tick.
      new ReplaySource(frame, vcgencmd('vcgencmd_measure-clock-arm_temp_throttled_duckietown_rpi3bplus.txt', { clockBlock: 'arm' }), 5),
      new ReplaySource(frame, vcgencmd('vcgencmd_measure-clock-v3d_rpi2b_x3_jitter.txt', { clockBlock: 'core' }), 5),
      new ReplaySource(frame, vcgencmd('vcgencmd_measure-volts-core_monitorix-2013.txt', { voltRail: 'core' }), 5),
      new ReplaySource(frame, vcgencmd(throttledCapture)),
      new ReplaySource(frame, sensors('sensors_raspberry-pi-3_aarch64_rpi-volt-NA.txt')),
      ...host(frame, rng, {
        cores: 4,
        coresFromTool: false,
        freqLevels: [600, 1000, 1500],
        memTotal: capturedMemTotal('pi'),
        swap: 0.1 * GB,
        disks: ['mmcblk0', 'sda'],
        nets: [['eth0', 3000], ['wlan0', 200]],
        fs: [['rootfs', 32 * GB], ['boot_firmware', 0.5 * GB], ['media_ssd', 500 * GB]],
        models: 4,
      }),
    ],
  };
}

export const DEVICE_KINDS: readonly DeviceKind[] = [
  jetson('orin-nano', 'Jetson Orin Nano 8GB, JetPack 6', 'orin-nano-8gb_jp6_engines-off.txt', 6, 6, ['nvme0n1', 'mmcblk0']),
  jetson('agx-orin', 'Jetson AGX Orin 64GB, NVENC busy', 'agx-orin-64gb_l4t-r36.4.4_nvenc-active.txt', 12, 3, ['nvme0n1', 'mmcblk0']),
  x86Gpu('x86-h200', 'x86 (Ryzen, 24 threads) with 2 × H200', 24, 2, h200Stream, 'sensors_amd-ryzen9-3900_k10temp-vcore-icore_2x-nvme.txt'),
  jetson('xavier-nx', 'Jetson Xavier NX, JetPack 5.1.2', 'xavier-nx_jp5.1.2_mW-units.txt', 6, 6, ['nvme0n1', 'mmcblk0']),
  x86Gpu('x86-rtx3090', 'x86 (Ryzen 9, 32 threads) with an RTX 3090', 32, 1, rtx3090, 'sensors_ryzen7-5800x_k10temp-tdie_iwlwifi-NA_2x-nvme_partial.txt'),
  jetson('nano', 'Jetson Nano 4GB, JetPack 4.6.1', 'nano-4gb_jp4.6.1_sudo-iram.txt', 4, 6, ['mmcblk0']),
  raspberryPi('pi4-undervolt', 'Raspberry Pi 4 (CM4 8GB) with under-voltage', 'vcgencmd_measure-temp_get-throttled_rpi3_0x50005.txt'),
];

/** A sample's `m` for one set of present slots: an object literal, like what JSON.parse gives the hub. */
type Builder = (values: Float64Array) => Record<string, number>;

/** Builders kept per device; more shapes than this (models starting and stopping) start afresh. */
const MAX_BUILDERS = 256;

/** One simulated agent: call next() once per second of device time. */
export class SimDevice {
  readonly description: string;
  private readonly rng: Rng;
  private readonly frame = new Frame();
  private readonly sources: Source[];
  private readonly builders = new Map<string, Builder>();
  private second = 0;
  private lastT: number | undefined;
  private burstLeft = 0;
  private burstLevel = 0;
  private readonly skewMs: number;

  constructor(
    readonly id: string,
    readonly kind: string,
    kindSpec: DeviceKind,
    seed: number,
    /** Wall clock (ms, a whole second) of the device's first tick grid slot. */
    private readonly startMs: number,
  ) {
    this.rng = new Rng(seed);
    this.description = kindSpec.description;
    this.sources = kindSpec.build(this.frame, this.rng);
    // Device clocks disagree by a few ms even under NTP.
    this.skewMs = this.rng.int(-15, 15);
  }

  /** Every metric name this device can send. */
  metricNames(): readonly string[] {
    return this.frame.names;
  }

  /** Seconds since the first grid slot of the sample next() gives next. */
  get nextSecond(): number {
    return this.second;
  }

  /**
   * The sample of the next second: timestamp on the agent's grid plus timer jitter, values
   * quantized. `skip` seconds are left out before it (the demo's backfill thins the far past
   * this way: what it gives is still a 1 s sample, rates over one second); `burst` (0–1)
   * replaces the device's own random bursts of work, for a load the caller schedules.
   */
  next(opts: { skip?: number; burst?: number } = {}): Sample {
    const rng = this.rng;
    const skip = opts.skip ?? 0;
    this.second += skip;
    // Timers fire a few ms late, now and then tens of ms (GC, a busy core).
    const jitter = rng.chance(0.01) ? rng.int(10, 80) : Math.floor(-2 * Math.log(1 - rng.next()));
    const t = this.startMs + this.second * 1000 + TICK_PHASE_MS + this.skewMs + jitter;
    const elapsedMs = this.lastT === undefined || skip > 0 ? 1000 : t - this.lastT;
    if (this.burstLeft === 0 && rng.chance((1 + skip) / 900)) {
      this.burstLeft = rng.int(10, 600);
      this.burstLevel = 0.4 + 0.6 * rng.next();
    }
    let burst = this.burstLeft > 0 ? this.burstLevel : 0;
    this.burstLeft = Math.max(0, this.burstLeft - 1 - skip);
    if (opts.burst !== undefined) burst = opts.burst;
    const tick: Tick = { second: this.second, elapsedMs, rng, burst, runnable: 0 };
    this.frame.next();
    for (const s of this.sources) s.sample(tick, this.frame);
    const m = this.builder()(this.frame.read());
    quantizeValues(m);
    this.second++;
    this.lastT = t;
    return { t, m };
  }

  private builder(): Builder {
    const key = this.frame.presence();
    let build = this.builders.get(key);
    if (!build) {
      if (this.builders.size >= MAX_BUILDERS) this.builders.clear();
      const names = this.frame.names;
      const fields = [...key].flatMap((c, i) => (c === '1' ? [`${JSON.stringify(names[i])}: v[${i}]`] : []));
      build = new Function('v', `return { ${fields.join(', ')} };`) as Builder;
      this.builders.set(key, build);
    }
    return build;
  }
}

export interface FleetOptions {
  devices: number;
  seed: number;
  /** Wall clock (ms) of the first second; rounded down to a whole second. */
  startMs: number;
  /** Kinds to cycle through; all of DEVICE_KINDS by default. */
  kinds?: readonly DeviceKind[];
}

/** `devices` simulated agents cycling through the kinds, each with its own seeded stream. */
export function createFleet(opts: FleetOptions): SimDevice[] {
  const kinds = opts.kinds ?? DEVICE_KINDS;
  const start = Math.floor(opts.startMs / 1000) * 1000;
  return Array.from({ length: opts.devices }, (_, i) => {
    const spec = kinds[i % kinds.length]!;
    return new SimDevice(`${spec.kind}-${String(i).padStart(2, '0')}`, spec.kind, spec, (opts.seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0, start);
  });
}
