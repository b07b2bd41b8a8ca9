// What a Jetson shows in sysfs without tegrastats: the nvgpu load file, the GPU's devfreq
// clock, and the INA3221 power monitors (hwmon on L4T 35+, the older `ina3221x` iio driver on
// L4T 32). Sources are found once; each tick reads a few small files. Thermal zones are the
// thermal collector's, so none are read here.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import { parseDevfreqHz, parseGpuLoad, parseSysfsInt } from '../parsers/jetson/sysfs.js';
import { boardPowerWatts } from '../parsers/tegrastats/line.js';
import { listNumbered, readText } from './sysfs.js';

/** nvgpu device names across generations (Nano gm20b, TX2 gp10b, Xavier gv11b, Orin ga10b, Thor gb10b). */
const GPU_DEVICE = /(?:^|[.\-_])(?:gpu|gk20a|gm20b|gp10b|gv11b|ga10b|gb10b)(?:$|[.\-_])/i;

interface RailSource {
  /** Metric segment, e.g. `vdd_in`. */
  readonly rail: string;
  /** mV */
  readonly voltage?: string;
  /** mA */
  readonly current?: string;
  /** mW (iio driver only; hwmon has no power file for the INA3221). */
  readonly power?: string;
}

export interface JetsonSysfsSources {
  /** Per-mille GPU load file. */
  readonly gpuLoad?: string;
  /** devfreq `cur_freq` of the GPU, Hz. */
  readonly gpuFreq?: string;
  readonly rails: readonly RailSource[];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function findGpuLoad(sysRoot: string): string | undefined {
  const direct = join(sysRoot, 'devices/gpu.0/load');
  if (existsSync(direct)) return direct;
  // L4T 32.x Xavier and later put nvgpu under the platform bus (…/platform/17000000.gv11b,
  // …/platform/bus@0/17000000.gpu on JetPack 6).
  for (const base of [join(sysRoot, 'devices/platform'), join(sysRoot, 'devices/platform/bus@0')]) {
    for (const name of listDir(base)) {
      if (!GPU_DEVICE.test(name)) continue;
      const load = join(base, name, 'load');
      if (existsSync(load)) return load;
    }
  }
  return undefined;
}

function findGpuFreq(sysRoot: string): string | undefined {
  const dir = join(sysRoot, 'class/devfreq');
  for (const name of listDir(dir)) {
    if (!GPU_DEVICE.test(name)) continue;
    const file = join(dir, name, 'cur_freq');
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** INA3221 channels of hwmon chips named `ina3221`: `in<N>_label`, `in<N>_input` (mV), `curr<N>_input` (mA). */
function hwmonRails(sysRoot: string, taken: Set<string>): RailSource[] {
  const classDir = join(sysRoot, 'class/hwmon');
  const rails: RailSource[] = [];
  for (const { name } of listNumbered(classDir, /^hwmon(\d+)$/)) {
    let dir = join(classDir, name);
    if (!existsSync(join(dir, 'name')) && existsSync(join(dir, 'device/name'))) dir = join(dir, 'device');
    if (!/^ina3221/.test(readText(join(dir, 'name'))?.trim() ?? '')) continue;
    for (const { n } of listNumbered(dir, /^in(\d+)_input$/)) {
      const label = readText(join(dir, `in${n}_label`))?.trim();
      const current = join(dir, `curr${n}_input`);
      // An unlabelled channel has no stable name; one without a current (the shunt-voltage
      // sum on Orin) is no rail.
      if (!label || !existsSync(current)) continue;
      rails.push({ rail: uniqueSegment(metricSegment(label), taken), voltage: join(dir, `in${n}_input`), current });
    }
  }
  return rails;
}

/** The L4T 32 iio driver: /sys/bus/i2c/drivers/ina3221x/<addr>/iio:device<N>/rail_name_<k>. */
function iioRails(sysRoot: string, taken: Set<string>): RailSource[] {
  const driverDir = join(sysRoot, 'bus/i2c/drivers/ina3221x');
  const rails: RailSource[] = [];
  for (const addr of listDir(driverDir)) {
    for (const dev of listDir(join(driverDir, addr))) {
      if (!/^iio:device\d+$/.test(dev)) continue;
      const dir = join(driverDir, addr, dev);
      for (const { n } of listNumbered(dir, /^rail_name_(\d+)$/)) {
        const label = readText(join(dir, `rail_name_${n}`))?.trim();
        if (!label) continue;
        const file = (f: string) => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
        const voltage = file(`in_voltage${n}_input`);
        const current = file(`in_current${n}_input`);
        const power = file(`in_power${n}_input`);
        rails.push({
          rail: uniqueSegment(metricSegment(label), taken),
          ...(voltage ? { voltage } : {}),
          ...(current ? { current } : {}),
          ...(power ? { power } : {}),
        });
      }
    }
  }
  return rails;
}

export function discoverJetsonSysfs(sysRoot: string): JetsonSysfsSources {
  const taken = new Set<string>();
  const gpuLoad = findGpuLoad(sysRoot);
  const gpuFreq = findGpuFreq(sysRoot);
  return {
    ...(gpuLoad ? { gpuLoad } : {}),
    ...(gpuFreq ? { gpuFreq } : {}),
    rails: [...hwmonRails(sysRoot, taken), ...iioRails(sysRoot, taken)],
  };
}

export function hasJetsonSysfs(sources: JetsonSysfsSources): boolean {
  return sources.gpuLoad !== undefined || sources.gpuFreq !== undefined || sources.rails.length > 0;
}

/** Reads every source once; `add` decides whether a value may be written. */
export function readJetsonSysfs(sources: JetsonSysfsSources, add: (name: string, value: number) => void): void {
  const load = sources.gpuLoad === undefined ? undefined : parseGpuLoad(readText(sources.gpuLoad));
  if (load !== undefined) add('gpu.0.util', load);
  const freq = sources.gpuFreq === undefined ? undefined : parseDevfreqHz(readText(sources.gpuFreq));
  if (freq !== undefined) add('gpu.0.clock.gr', freq);
  const railsMw = new Map<string, number>();
  for (const r of sources.rails) {
    const mV = r.voltage === undefined ? undefined : parseSysfsInt(readText(r.voltage));
    const mA = r.current === undefined ? undefined : parseSysfsInt(readText(r.current));
    const mW = r.power === undefined ? undefined : parseSysfsInt(readText(r.power));
    if (mV !== undefined) add(`volt.${r.rail}`, mV / 1000);
    if (mA !== undefined) add(`current.${r.rail}`, mA / 1000);
    // The driver's own power reading where it has one; else V × A (mV × mA = µW).
    const power = mW ?? (mV !== undefined && mA !== undefined ? (mV * mA) / 1000 : undefined);
    if (power === undefined) continue;
    railsMw.set(r.rail, power);
    add(`power.rail.${r.rail}`, power / 1000);
  }
  const board = boardPowerWatts(railsMw);
  if (board !== undefined) add('power.board', board);
}
