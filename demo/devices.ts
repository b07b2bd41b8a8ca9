// The demo's simulated boards: which storage-workload kind drives each, and the hello a real
// agent on such a board would send (inventory read from the same captures: L4T releases,
// nvidia-smi -L), marked `demo: true` so the hub labels it everywhere.
import { readFileSync } from 'node:fs';
import { parseNvTegraRelease } from '../agent/parsers/jetson/release.js';
import { DEVICE_KINDS, type DeviceKind } from '../bench/storage-workload.js';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import { PROTOCOL_VERSION, type Hello, type Inventory } from '../shared/protocol.js';

const GiB = 1024 ** 3;

export interface DemoDeviceSpec {
  readonly id: string;
  readonly name: string;
  readonly hostname: string;
  readonly kind: DeviceKind;
  readonly capabilities: readonly string[];
  readonly inventory: Inventory;
  /** Load the device's owner puts on it at wall clock t (0–1), or undefined for its own random bursts. */
  readonly load?: (t: number) => number | undefined;
}

function kind(name: string): DeviceKind {
  const k = DEVICE_KINDS.find((d) => d.kind === name);
  if (!k) throw new Error(`demo: bench/storage-workload.ts has no device kind "${name}" (kinds: ${DEVICE_KINDS.map((d) => d.kind).join(', ')})`);
  return k;
}

function fixture(fixtures: URL, path: string): string {
  return readFileSync(new URL(path, fixtures), 'utf8');
}

function jetsonFacts(fixtures: URL, releaseFile: string, powerMode: string, powerModeId: number): NonNullable<Inventory['jetson']> {
  const release = parseNvTegraRelease(fixture(fixtures, `jetson-sysfs/${releaseFile}`));
  return { l4t: release.l4t, ...(release.jetpack ? { jetpack: release.jetpack } : {}), powerMode, powerModeId };
}

/** GPUs as `nvidia-smi -L` lists them, `count` times (the capture is of one H200; the demo box has two). */
function gpusFromList(fixtures: URL, file: string, count: number, memTotalBytes: number): NonNullable<Inventory['gpus']> {
  const name = /^GPU 0: (.+?) \(UUID/m.exec(fixture(fixtures, `nvidia-smi/${file}`))?.[1] ?? 'NVIDIA GPU';
  return Array.from({ length: count }, (_, index) => ({ index, name, memTotalBytes, driver: '590.48.01' }));
}

/** A 12-minute period of training: 10 min of epochs at full load, 2 min of evaluation and checkpointing. */
function training(t: number): number {
  const phase = (t / 1000) % 720;
  return phase < 600 ? 0.9 + 0.05 * Math.sin(phase / 7) : 0.35;
}

const LINUX_AARCH64 = { platform: 'linux', arch: 'arm64' };

export function demoDevices(fixtures: URL): DemoDeviceSpec[] {
  return [
    {
      id: 'demo-agx-orin',
      name: 'AGX Orin 64GB (demo)',
      hostname: 'agx-orin-lab',
      kind: kind('agx-orin'),
      capabilities: ['cpu', 'memory', 'load', 'network', 'disk-io', 'filesystem', 'thermal', 'hwmon', 'jetson', 'processes'],
      inventory: {
        os: { ...LINUX_AARCH64, distro: 'Ubuntu', release: '22.04.5 LTS', kernel: '5.15.148-tegra' },
        cpu: { manufacturer: 'ARM', brand: 'Cortex-A78AE', cores: 12, physicalCores: 12, speedMaxMHz: 2201 },
        board: { manufacturer: 'NVIDIA', model: 'NVIDIA Jetson AGX Orin Developer Kit', compatible: ['nvidia,p3737-0000+p3701-0005', 'nvidia,p3701-0005', 'nvidia,tegra234'] },
        jetson: { ...jetsonFacts(fixtures, 'etc-nv_tegra_release_r36.4.4_jp6.2.1.txt', 'MAXN', 0), soc: 'tegra234' },
        memTotalBytes: 64 * GiB,
      },
    },
    {
      id: 'demo-orin-nano',
      name: 'Orin Nano 8GB (demo)',
      hostname: 'orin-nano-bench',
      kind: kind('orin-nano'),
      capabilities: ['cpu', 'memory', 'load', 'network', 'disk-io', 'filesystem', 'thermal', 'hwmon', 'jetson', 'processes'],
      inventory: {
        os: { ...LINUX_AARCH64, distro: 'Ubuntu', release: '22.04.5 LTS', kernel: '5.15.148-tegra' },
        cpu: { manufacturer: 'ARM', brand: 'Cortex-A78AE', cores: 6, physicalCores: 6, speedMaxMHz: 1728 },
        board: { manufacturer: 'NVIDIA', model: 'NVIDIA Jetson Orin Nano Developer Kit', compatible: ['nvidia,p3768-0000+p3767-0005', 'nvidia,p3767-0005', 'nvidia,tegra234'] },
        jetson: { ...jetsonFacts(fixtures, 'etc-nv_tegra_release_orin-nano-super_r36.4.7.txt', '15W', 0), soc: 'tegra234' },
        memTotalBytes: 8 * GiB,
      },
    },
    {
      id: 'demo-pi4',
      name: 'Raspberry Pi 4 (demo)',
      hostname: 'pi4-camera',
      kind: kind('pi4-undervolt'),
      capabilities: ['cpu', 'memory', 'load', 'network', 'disk-io', 'filesystem', 'thermal', 'hwmon', 'raspberry-pi', 'processes'],
      inventory: {
        os: { ...LINUX_AARCH64, distro: 'Debian GNU/Linux', release: '12 (bookworm)', kernel: '6.6.51+rpt-rpi-v8' },
        cpu: { manufacturer: 'ARM', brand: 'Cortex-A72', cores: 4, physicalCores: 4, speedMaxMHz: 1500 },
        board: { manufacturer: 'Raspberry Pi', model: 'Raspberry Pi Compute Module 4 Rev 1.1', revision: 'd03141', compatible: ['raspberrypi,4-compute-module', 'brcm,bcm2711'] },
        memTotalBytes: 8 * GiB,
      },
    },
    {
      id: 'demo-h200',
      name: 'Training box 2× H200 (demo)',
      hostname: 'gpu-train-01',
      kind: kind('x86-h200'),
      capabilities: ['cpu', 'memory', 'load', 'network', 'disk-io', 'filesystem', 'thermal', 'hwmon', 'nvidia-gpu', 'processes'],
      inventory: {
        os: { platform: 'linux', arch: 'x64', distro: 'Ubuntu', release: '24.04.1 LTS', kernel: '6.8.0-48-generic' },
        cpu: { manufacturer: 'AMD', brand: 'Ryzen 9 3900X 12-Core Processor', cores: 24, physicalCores: 12, speedMaxMHz: 4672 },
        system: { manufacturer: 'Supermicro', model: 'AS-4125GS-TNRT', virtual: false },
        memTotalBytes: 128 * GiB,
        gpus: gpusFromList(fixtures, 'list-L_h200_590.48.01_linux.txt', 2, 143_771_271_168),
      },
      load: training,
    },
  ];
}

/** The hello a real agent on this board would send; `demo: true` marks it for the hub. */
export function demoHello(d: DemoDeviceSpec, intervalMs: number, now: number): Hello {
  return {
    type: 'hello',
    v: PROTOCOL_VERSION,
    device: { id: d.id, name: d.name, hostname: d.hostname, demo: true },
    agent: { version: `${EDGEWATCH_VERSION}-demo` },
    intervalMs,
    capabilities: [...d.capabilities],
    inventory: d.inventory,
    clock: now,
  };
}
