// CPU package, core, uncore, DRAM and platform power from RAPL energy counters (Intel, and
// AMD Zen through the same intel-rapl powercap driver): /sys/class/powercap/intel-rapl:N and
// its subzones intel-rapl:N:M, each with {name, energy_uj, max_energy_range_uj}. The counters
// hold energy, so power is the increase over the interval: power.rapl.<domain> in W.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { monotonicMs, perSecond, TimedCounterFile, wrappingDelta, type MonotonicClock } from './counters.js';
import { readText } from './sysfs.js';

// Since Linux 5.10 (the PLATYPUS power side channel, CVE-2020-8694) energy_uj is 0400 root.
const PERMISSION_HINT =
  'RAPL energy counters (energy_uj) are readable by root only since Linux 5.10; to report power.rapl.* run the agent as root, ' +
  'or let its group read them with a udev rule such as SUBSYSTEM=="powercap", ACTION=="add", ' +
  'RUN+="/bin/chgrp edgewatch /sys%p/energy_uj", RUN+="/bin/chmod g+r /sys%p/energy_uj" ' +
  '(they were made root-only because fine-grained energy readings can leak secrets through a side channel)';

// No RAPL domain draws this much (the largest server sockets stay under 1 kW). Half of the
// counter's range, the wrap test's limit, is hundreds of kJ: a counter reset to near 0 would
// pass it as a wrap and show tens of kW for one interval.
const MAX_WATTS = 5000;

export interface RaplZone {
  /** `0` for intel-rapl:0, `0:1` for intel-rapl:0:1. */
  readonly id: string;
  readonly dir: string;
  /** The zone's `name`, e.g. `package-0`, `core`, `dram`, `psys`. */
  readonly name: string;
  /** For a subzone, its package's `name`. */
  readonly parentName?: string;
}

/**
 * RAPL zones under `<sysRoot>/class/powercap`, packages first then their subzones. The class
 * directory links every zone, subzones included; a copied tree may only nest subzones inside
 * their package, so both places are looked at. intel-rapl-mmio:N is skipped: it is the same
 * package counter read through MMIO, and reporting it would count the package twice.
 */
export function listRaplZones(sysRoot: string): RaplZone[] {
  const base = join(sysRoot, 'class/powercap');
  const zones = new Map<string, RaplZone>();
  const packages = entries(base).filter((e) => /^intel-rapl:\d+$/.test(e)).sort(byNumbers);
  for (const pkg of packages) {
    const dir = join(base, pkg);
    const id = pkg.slice('intel-rapl:'.length);
    const name = zoneName(dir, pkg);
    zones.set(id, { id, dir, name });
    const nested = entries(dir).filter((e) => e.startsWith(`intel-rapl:${id}:`));
    const linked = entries(base).filter((e) => e.startsWith(`intel-rapl:${id}:`));
    const subzones = [...new Set([...linked, ...nested])].filter((e) => /^intel-rapl:\d+:\d+$/.test(e)).sort(byNumbers);
    for (const sub of subzones) {
      const subDir = linked.includes(sub) ? join(base, sub) : join(dir, sub);
      const subId = sub.slice('intel-rapl:'.length);
      zones.set(subId, { id: subId, dir: subDir, name: zoneName(subDir, sub), parentName: name });
    }
  }
  return [...zones.values()];
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function byNumbers(a: string, b: string): number {
  const na = a.split(':').slice(1).map(Number);
  const nb = b.split(':').slice(1).map(Number);
  return (na[0]! - nb[0]!) || ((na[1] ?? -1) - (nb[1] ?? -1));
}

function zoneName(dir: string, fallback: string): string {
  return readText(join(dir, 'name'))?.trim() || fallback;
}

/**
 * The metric segment of a domain: `package-0` → package_0; a subzone of package 1 gets the
 * package number (`dram_1`) so two sockets' DRAM are told apart by which socket, not by
 * listing order. Package 0's subzones keep the bare names the catalog lists (core, dram…).
 */
export function domainSegment(zone: RaplZone): string {
  const segment = metricSegment(zone.name);
  const pkg = zone.parentName === undefined ? undefined : /^package-(\d+)$/.exec(zone.parentName)?.[1];
  return pkg !== undefined && pkg !== '0' ? `${segment}_${pkg}` : segment;
}

interface Domain {
  readonly metric: string;
  readonly counter: TimedCounterFile;
  /** Energy at which energy_uj wraps to 0; undefined when unreadable (a drop is then skipped). */
  readonly rangeUj: number | undefined;
  prevUj: number | undefined;
  failing: boolean;
}

export interface RaplOptions {
  readonly clock?: MonotonicClock;
  /** How detect reads a file; tests replace it to produce EACCES when they run as root. */
  readonly readFile?: (path: string) => string;
}

export function createRaplCollector(options: RaplOptions = {}): CollectorFactory {
  const clock = options.clock ?? monotonicMs;
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  return {
    name: 'rapl',
    async detect(ctx) {
      const domains = raplDomains(ctx, clock, readFile);
      if (domains.length === 0) return null;
      ctx.log.debug({ domains: domains.map((d) => d.metric) }, 'RAPL domains');
      return new RaplCollector(domains, ctx.log);
    },
  };
}

export const raplCollector = createRaplCollector();

function raplDomains(ctx: CollectorContext, clock: MonotonicClock, readFile: (path: string) => string): Domain[] {
  const taken = new Set<string>();
  const domains: Domain[] = [];
  const denied: string[] = [];
  for (const zone of listRaplZones(ctx.sysRoot)) {
    const path = join(zone.dir, 'energy_uj');
    try {
      readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') denied.push(path);
      else ctx.log.debug({ path, code }, 'RAPL energy counter unreadable; zone skipped');
      continue;
    }
    const range = Number(readText(join(zone.dir, 'max_energy_range_uj'))?.trim());
    domains.push({
      metric: `power.rapl.${uniqueSegment(domainSegment(zone), taken)}`,
      counter: new TimedCounterFile(path, clock),
      rangeUj: Number.isFinite(range) && range > 0 ? range : undefined,
      prevUj: undefined,
      failing: false,
    });
  }
  // Once, at start: the fix is a deployment change, not something a later tick can recover.
  if (denied.length > 0) ctx.log.info({ denied }, PERMISSION_HINT);
  return domains;
}

class RaplCollector implements Collector {
  readonly name = 'rapl';

  constructor(
    private readonly domains: readonly Domain[],
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    for (const d of this.domains) {
      const watts = this.read(d);
      if (watts === undefined) continue;
      out[d.metric] = watts;
    }
  }

  private read(d: Domain): number | undefined {
    const read = d.counter.read();
    const text = read?.text.trim();
    const uj = text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
    if (read === undefined || uj === undefined) {
      if (!d.failing) this.log.debug({ path: d.counter.path, raw: text?.slice(0, 40) ?? null }, 'no RAPL energy reading; left out');
      d.failing = true;
      d.prevUj = undefined;
      return undefined;
    }
    d.failing = false;
    const prev = d.prevUj;
    d.prevUj = uj;
    // The first reading, and the first after a failed one, only starts an interval.
    if (prev === undefined || read.elapsedMs <= 0) return undefined;
    const delta = d.rangeUj === undefined ? (uj >= prev ? uj - prev : undefined) : wrappingDelta(prev, uj, d.rangeUj);
    if (delta === undefined) {
      this.log.debug({ path: d.counter.path, prev, cur: uj, range: d.rangeUj ?? null }, 'RAPL counter went down by more than a wrap explains; interval skipped');
      return undefined;
    }
    const watts = perSecond(delta, read.elapsedMs) / 1_000_000;
    if (watts > MAX_WATTS) {
      this.log.debug({ path: d.counter.path, prev, cur: uj, watts }, 'RAPL counter step is no power a CPU draws (reset, not wrap); interval skipped');
      return undefined;
    }
    return watts;
  }
}
