// readRunConditions on fixture roots: a Jetson Nano tree (test/fixtures/sysroot/jetson-nano +
// jetson-nano-sysfs) with the fake `nvpmodel -q` of test/fixtures/bin; the x86 VM tree with a
// two-GPU fake nvidia-smi (test/fixtures/run-conditions, real H200/H100 captures) and the
// one-GPU H200 fake of test/fixtures/bin; the Raspberry Pi 3 tree, whose firmware node reads
// 0x50005 (under-voltage and throttling now); an empty root; and tools that hang.
//
// cpufreq and devfreq files are written by the tests into their copy of a tree. Nano values:
// cpuinfo 102000–1479000 kHz and a GPU devfreq range of 76800000–921600000 Hz (the Nano's
// lowest and highest GPU clocks; 921600000 is the `freq_request` of
// shared/fixtures/jetson-sysfs/grep-sys-devices-gpu.0_jetson-nano-gm20b_partial.txt); its 5 W
// mode caps the CPU at 918000 kHz. The Nano kernel release 4.9.140-tegra is the one
// shared/fixtures/README.md names for the Nano's thermal-zone capture; the x86 one is the
// kernel of the VM the x86-vm tree was copied from.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConditionsQuery } from '../../agent/conditions/nvidia.js';
import { readRunConditions, throttleFlagsNow, type ReadRunConditionsOptions } from '../../agent/conditions/run-conditions.js';
import { RunConditionsSchema, type RunConditions } from '../../shared/conditions.js';
import { scenarioTree, type Tree } from '../collectors/harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../fixtures/bin/', import.meta.url));
const TWO_GPU_BIN = fileURLToPath(new URL('../fixtures/run-conditions/bin/', import.meta.url));
const SWITCHES = ['FAKE_NVPMODEL_FAIL', 'FAKE_NVSMI_LOG', 'FAKE_NVSMI_REJECT', 'FAKE_NVSMI_NODE', 'FAKE_NVSMI_FAIL'];
const VERSION = '0.1.0';

const NANO_CPU_MIN = '102000';
const NANO_CPU_MAX = '1479000';
const NANO_GPU_MIN = '76800000';
const NANO_GPU_MAX = '921600000';
const NANO_GPU_DEVFREQ = 'sys/class/devfreq/57000000.gpu';

let trees: Tree[] = [];
let work: { dir: string; remove: () => void };
let callLog: string;

function tree(...scenarios: string[]): Tree {
  const t = scenarioTree(...scenarios);
  trees.push(t);
  return t;
}

/** Options for a tree: its proc/sys/host roots, no host tool directories. */
function on(t: Tree, extra: Partial<ReadRunConditionsOptions> = {}): ReadRunConditionsOptions {
  return { agentVersion: VERSION, procRoot: t.ctx.procRoot, sysRoot: t.ctx.sysRoot, hostRoot: t.ctx.hostRoot, path: '', toolDirs: [], ...extra };
}

async function read(opts: ReadRunConditionsOptions): Promise<RunConditions> {
  const c = await readRunConditions(opts);
  // Whatever the probes found, the result is what the protocol accepts.
  expect(RunConditionsSchema.parse(c)).toEqual(c);
  return c;
}

function calls(): string[][] {
  if (!existsSync(callLog)) return [];
  return readFileSync(callLog, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { args: string[]; event?: string }))
    .filter((e) => e.event === undefined || e.event === 'start')
    .map((e) => e.args);
}

interface Policy {
  governor: string;
  min: string;
  max: string;
  cpuinfoMax?: string;
  affected?: string;
}

function writePolicy(t: Tree, n: number, p: Policy): void {
  const dir = `sys/devices/system/cpu/cpufreq/policy${n}`;
  t.write(`${dir}/scaling_governor`, `${p.governor}\n`);
  t.write(`${dir}/scaling_min_freq`, `${p.min}\n`);
  t.write(`${dir}/scaling_max_freq`, `${p.max}\n`);
  t.write(`${dir}/cpuinfo_max_freq`, `${p.cpuinfoMax ?? p.max}\n`);
  t.write(`${dir}/affected_cpus`, `${p.affected ?? '0 1 2 3'}\n`);
}

function nano(cpu: Policy, gpu: { min: string; max: string } | null): Tree {
  const t = tree('jetson-nano', 'jetson-nano-sysfs');
  t.write('proc/sys/kernel/osrelease', '4.9.140-tegra\n');
  writePolicy(t, 0, { cpuinfoMax: NANO_CPU_MAX, ...cpu });
  if (gpu) {
    t.write(`${NANO_GPU_DEVFREQ}/min_freq`, `${gpu.min}\n`);
    t.write(`${NANO_GPU_DEVFREQ}/max_freq`, `${gpu.max}\n`);
  }
  return t;
}

function x86(): Tree {
  const t = tree('x86-vm');
  t.write('proc/sys/kernel/osrelease', '6.18.44-fc-v1147\n');
  return t;
}

/** A tool that never answers: records its pid, then sleeps in its place. */
function hangingTool(name: string): { dir: string; pidFile: string } {
  const dir = join(work.dir, `hang-${name}`);
  const pidFile = join(work.dir, `${name}.pid`);
  mkdirSync(dir);
  writeFileSync(join(dir, name), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`, { mode: 0o755 });
  return { dir, pidFile };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  for (const f of [join(BIN, 'nvpmodel'), join(BIN, 'nvidia-smi'), join(TWO_GPU_BIN, 'nvidia-smi')]) chmodSync(f, 0o755);
});

beforeEach(() => {
  work = tempDir('edgewatch-conditions-');
  callLog = join(work.dir, 'calls.jsonl');
  for (const s of SWITCHES) delete process.env[s];
  process.env.FAKE_NVSMI_LOG = callLog;
  process.env.FAKE_NVSMI_NODE = process.execPath;
});

afterEach(() => {
  for (const s of SWITCHES) delete process.env[s];
  for (const t of trees) t.remove();
  trees = [];
  work.remove();
});

describe('readRunConditions on a Jetson', () => {
  it('records the power mode, jetson_clocks on (CPU and GPU minimum raised to their maximum) and the hottest real zone', async () => {
    const t = nano({ governor: 'performance', min: NANO_CPU_MAX, max: NANO_CPU_MAX }, { min: NANO_GPU_MAX, max: NANO_GPU_MAX });
    expect(await read(on(t, { path: BIN }))).toEqual({
      agentVersion: VERSION,
      kernel: '4.9.140-tegra',
      powerMode: 'MAXN',
      powerModeId: 0,
      jetsonClocks: true,
      cpuGovernor: 'performance',
      cpuMinMHz: 1479,
      cpuMaxMHz: 1479,
      // CPU-therm 31 °C; PMIC-Die's constant 100000 is an alarm level, not a reading.
      startTempC: 31,
    });
    // nvidia-smi is on the PATH (the fake in test/fixtures/bin) but a Jetson's GPU is not its.
    expect(calls()).toEqual([]);
  });

  it('records jetson_clocks off under schedutil with the CPU free to scale down', async () => {
    const t = nano({ governor: 'schedutil', min: NANO_CPU_MIN, max: NANO_CPU_MAX }, { min: NANO_GPU_MIN, max: NANO_GPU_MAX });
    const c = await read(on(t, { path: BIN }));
    expect(c).toMatchObject({ powerMode: 'MAXN', jetsonClocks: false, cpuGovernor: 'schedutil', cpuMinMHz: 102, cpuMaxMHz: 1479 });
  });

  it('reads jetson_clocks off when only the CPU is pinned, and on without a GPU devfreq node', async () => {
    const cpuPinned = { governor: 'schedutil', min: NANO_CPU_MAX, max: NANO_CPU_MAX };
    expect((await read(on(nano(cpuPinned, { min: NANO_GPU_MIN, max: NANO_GPU_MAX }), { path: BIN }))).jetsonClocks).toBe(false);
    const t = nano(cpuPinned, null);
    rmSync(join(t.root, NANO_GPU_DEVFREQ), { recursive: true });
    expect((await read(on(t, { path: BIN }))).jetsonClocks).toBe(true);
  });

  it('counts clocks pinned at the power mode’s cap as jetson_clocks on, though below the silicon’s maximum', async () => {
    // jetson_clocks raises each minimum to the maximum the nvpmodel mode allows (scaling_max_freq).
    const t = nano({ governor: 'schedutil', min: '918000', max: '918000', cpuinfoMax: NANO_CPU_MAX }, { min: '640000000', max: '640000000' });
    expect(await read(on(t, { path: BIN }))).toMatchObject({ jetsonClocks: true, cpuMinMHz: 918, cpuMaxMHz: 918 });
  });

  it('leaves out a policy whose CPUs are all offline, and reports differing governors as mixed', async () => {
    const t = nano({ governor: 'schedutil', min: NANO_CPU_MIN, max: NANO_CPU_MAX }, null);
    writePolicy(t, 4, { governor: 'performance', min: '2000000', max: '2000000', affected: '' });
    expect(await read(on(t))).toMatchObject({ cpuGovernor: 'schedutil', cpuMinMHz: 102, cpuMaxMHz: 1479 });
    writePolicy(t, 4, { governor: 'performance', min: '2000000', max: '2000000', affected: '4 5' });
    expect(await read(on(t))).toMatchObject({ cpuGovernor: 'mixed (performance, schedutil)', cpuMinMHz: 102, cpuMaxMHz: 2000 });
  });

  it('goes without the power mode when nvpmodel fails or is absent', async () => {
    process.env.FAKE_NVPMODEL_FAIL = '1';
    const t = nano({ governor: 'schedutil', min: NANO_CPU_MIN, max: NANO_CPU_MAX }, null);
    const failed = await read(on(t, { path: BIN }));
    expect(failed).not.toHaveProperty('powerMode');
    expect(failed).toMatchObject({ kernel: '4.9.140-tegra', jetsonClocks: false, cpuGovernor: 'schedutil' });
    delete process.env.FAKE_NVPMODEL_FAIL;
    expect(await read(on(t))).not.toHaveProperty('powerMode');
  });

  it('knows a Jetson by /etc/nv_tegra_release alone', async () => {
    const t = nano({ governor: 'performance', min: NANO_CPU_MAX, max: NANO_CPU_MAX }, { min: NANO_GPU_MAX, max: NANO_GPU_MAX });
    rmSync(join(t.root, 'sys/firmware'), { recursive: true });
    expect(await read(on(t, { path: BIN }))).toMatchObject({ powerMode: 'MAXN', jetsonClocks: true });
    expect(calls()).toEqual([]);
  });
});

describe('readRunConditions with NVIDIA GPUs', () => {
  const H200 = { index: 0, name: 'NVIDIA H200', smClockMHz: 1980, memClockMHz: 3201, powerLimitW: 700, persistenceMode: true, pstate: 0 };
  const H100 = { index: 1, name: 'NVIDIA H100 80GB HBM3', smClockMHz: 1980, memClockMHz: 2619, powerLimitW: 700, persistenceMode: true, pstate: 0 };

  it('reads both GPUs from one query, and the CUDA version from the table header when --version fails', async () => {
    const t = x86();
    writePolicy(t, 0, { governor: 'powersave', min: '800000', max: '4500000', affected: '0' });
    writePolicy(t, 1, { governor: 'performance', min: '800000', max: '4200000', affected: '1' });
    expect(await read(on(t, { path: TWO_GPU_BIN }))).toEqual({
      agentVersion: VERSION,
      kernel: '6.18.44-fc-v1147',
      cpuGovernor: 'mixed (performance, powersave)',
      cpuMinMHz: 800,
      cpuMaxMHz: 4500,
      gpuDriver: '590.48.01',
      cudaVersion: '13.1',
      // Both captures print the application clocks as "[Requested functionality has been deprecated]".
      gpus: [H200, H100],
    });
    const query = calls().filter((a) => a[0]?.startsWith('--query-gpu='));
    expect(query).toEqual([
      [
        '--query-gpu=index,name,driver_version,clocks.sm,clocks.mem,clocks.applications.graphics,clocks.applications.memory,power.limit,persistence_mode,pstate',
        '--format=csv,noheader,nounits',
      ],
    ]);
  });

  it('takes the CUDA version from --version where the driver has it, and leaves out [N/A] values', async () => {
    const c = await read(on(x86(), { path: BIN }));
    expect(c).toMatchObject({ gpuDriver: '580.159.04', cudaVersion: '13.0' });
    // The H200 capture has no persistence_mode or application clocks: the fake prints [N/A].
    expect(c.gpus).toEqual([{ index: 0, name: 'NVIDIA H200', smClockMHz: 345, memClockMHz: 3201, powerLimitW: 700, pstate: 0 }]);
  });

  it('asks again without a field the driver rejects', async () => {
    process.env.FAKE_NVSMI_REJECT = 'persistence_mode';
    const c = await read(on(x86(), { path: TWO_GPU_BIN }));
    const strip = ({ persistenceMode: _, ...g }: typeof H200) => g;
    expect(c.gpus).toEqual([strip(H200), strip(H100)]);
    const queries = calls().filter((a) => a[0]?.startsWith('--query-gpu='));
    expect(queries).toHaveLength(2);
    expect(queries[1]![0]).not.toContain('persistence_mode');
  });

  it('goes without GPU fields when nvidia-smi cannot reach a driver', async () => {
    process.env.FAKE_NVSMI_FAIL = '1';
    const c = await read(on(x86(), { path: BIN }));
    expect(c).toEqual({ agentVersion: VERSION, kernel: '6.18.44-fc-v1147' });
  });
});

describe('readRunConditions on a Raspberry Pi', () => {
  it('records the throttle flags set now from the firmware node (0x50005: under-voltage, throttling)', async () => {
    const t = tree('raspberry-pi-3');
    writePolicy(t, 0, { governor: 'ondemand', min: '600000', max: '1400000' });
    expect(await read(on(t))).toEqual({
      agentVersion: VERSION,
      cpuGovernor: 'ondemand',
      cpuMinMHz: 600,
      cpuMaxMHz: 1400,
      // The since-boot bits (16, 18) are history, not the state at the start.
      throttleAtStart: ['under_voltage', 'throttled'],
      startTempC: 34.234,
    });
  });

  it('falls back to the rpi_volt alarm, and records [] when nothing is set', async () => {
    const t = tree('raspberry-pi-3');
    rmSync(join(t.root, 'sys/devices/platform/soc/soc:firmware/get_throttled'));
    expect(await read(on(t))).not.toHaveProperty('throttleAtStart');
    t.write('sys/class/hwmon/hwmon1/in0_lcrit_alarm', '1\n');
    expect((await read(on(t))).throttleAtStart).toEqual(['under_voltage']);
    t.write('sys/class/hwmon/hwmon1/in0_lcrit_alarm', '0\n');
    expect((await read(on(t))).throttleAtStart).toEqual([]);
    t.write('sys/devices/platform/soc/soc:firmware/get_throttled', '0\n');
    expect((await read(on(t))).throttleAtStart).toEqual([]);
  });

  it('decodes only the bits that describe now', () => {
    expect(throttleFlagsNow(0x50005)).toEqual(['under_voltage', 'throttled']);
    expect(throttleFlagsNow(0xf)).toEqual(['under_voltage', 'freq_capped', 'throttled', 'soft_temp_limit']);
    expect(throttleFlagsNow(0xf0000)).toEqual([]);
  });
});

describe('readRunConditions where there is nothing', () => {
  it('returns the agent version alone for an empty root, and for one that does not exist', async () => {
    const empty = tempDir('edgewatch-conditions-empty-');
    try {
      const opts = { agentVersion: VERSION, procRoot: join(empty.dir, 'proc'), sysRoot: join(empty.dir, 'sys'), hostRoot: empty.dir, path: '', toolDirs: [] };
      expect(await read(opts)).toEqual({ agentVersion: VERSION });
      const gone = join(empty.dir, 'missing');
      expect(await read({ ...opts, procRoot: gone, sysRoot: gone, hostRoot: gone })).toEqual({ agentVersion: VERSION });
    } finally {
      empty.remove();
    }
  });

  it('ignores thermal readings that are no temperature', async () => {
    const t = x86();
    t.write('sys/class/thermal/thermal_zone0/type', 'CV0-therm\n');
    t.write('sys/class/thermal/thermal_zone0/temp', '-256000\n');
    t.write('sys/class/thermal/thermal_zone1/type', 'acpitz\n');
    t.write('sys/class/thermal/thermal_zone1/temp', '151000\n');
    expect(await read(on(t))).not.toHaveProperty('startTempC');
    t.write('sys/class/thermal/thermal_zone2/type', 'x86_pkg_temp\n');
    t.write('sys/class/thermal/thermal_zone2/temp', '48000\n');
    expect((await read(on(t))).startTempC).toBe(48);
  });
});

describe('readRunConditions under its deadline', () => {
  async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
    const start = Date.now();
    while (!probe()) {
      if (Date.now() - start > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  it('cuts off a hanging nvpmodel, keeps what the other probes read, and kills the tool', async () => {
    const hang = hangingTool('nvpmodel');
    const t = nano({ governor: 'performance', min: NANO_CPU_MAX, max: NANO_CPU_MAX }, { min: NANO_GPU_MAX, max: NANO_GPU_MAX });
    const started = Date.now();
    const c = await read(on(t, { path: hang.dir, timeoutMs: 400 }));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(1500);
    expect(c).toEqual({ agentVersion: VERSION, kernel: '4.9.140-tegra', jetsonClocks: true, cpuGovernor: 'performance', cpuMinMHz: 1479, cpuMaxMHz: 1479, startTempC: 31 });
    expect(existsSync(hang.pidFile)).toBe(true);
    const pid = Number(readFileSync(hang.pidFile, 'utf8'));
    expect(await waitUntil(() => !alive(pid), 2000)).toBe(true);
  });

  it('cuts off a hanging nvidia-smi within the default 1.5 s', async () => {
    const hang = hangingTool('nvidia-smi');
    const started = Date.now();
    const c = await read(on(x86(), { path: hang.dir }));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(2500);
    expect(c).toEqual({ agentVersion: VERSION, kernel: '6.18.44-fc-v1147' });
  });
});

describe('parseConditionsQuery', () => {
  it('reads set application clocks and persistence off (values of a Tesla T4, driver 515)', () => {
    // From test/fixtures/nvidia-smi/q-x_telegraf_tesla-t4_xml.txt, written as the CSV row the
    // query gives: clocks 585/5000, application clocks 585/5001 MHz, 70 W, persistence Disabled, P0.
    expect(parseConditionsQuery('0, Tesla T4, 515.105.01, 585, 5000, 585, 5001, 70.00, Disabled, P0\n')).toEqual({
      driver: '515.105.01',
      gpus: [{ index: 0, name: 'Tesla T4', smClockMHz: 585, memClockMHz: 5000, appSmClockMHz: 585, appMemClockMHz: 5001, powerLimitW: 70, persistenceMode: false, pstate: 0 }],
    });
  });

  it('leaves out placeholders, keeps a name with ", " in it whole, and skips rows without an index', () => {
    const text = ['1, NVIDIA GeForce RTX 2080 SUPER, with Max-Q, [N/A], [Not Supported], 7500, [Unknown Error], [N/A], [N/A], [N/A], P8', 'garbage', ''].join('\n');
    expect(parseConditionsQuery(text)).toEqual({ gpus: [{ index: 1, name: 'NVIDIA GeForce RTX 2080 SUPER, with Max-Q', memClockMHz: 7500, pstate: 8 }] });
  });
});
