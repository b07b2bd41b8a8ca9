// Every collector the agent knows, in the order their values are gathered each tick.
// Adding a collector: write one file with a CollectorFactory, add it here.
import type { CollectorFactory } from './collector.js';
import { batteryCollector } from './battery.js';
import { cpuCollector } from './cpu.js';
import { diskIoCollector } from './disk-io.js';
import { filesystemCollector } from './filesystem.js';
import { hwmonCollector } from './hwmon.js';
import { jetsonCollector } from './jetson.js';
import { loadCollector } from './load.js';
import { memoryCollector } from './memory.js';
import { networkCollector } from './network.js';
import { nvidiaGpuCollector } from './nvidia-gpu.js';
import { raplCollector } from './rapl.js';
import { raspberryPiCollector } from './raspberry-pi.js';
import { thermalCollector } from './thermal.js';

export const COLLECTORS: readonly CollectorFactory[] = [
  cpuCollector,
  loadCollector,
  memoryCollector,
  diskIoCollector,
  filesystemCollector,
  networkCollector,
  thermalCollector,
  hwmonCollector,
  raplCollector,
  batteryCollector,
  // After cpu and memory: on a Jetson it fills in only what /proc did not already give.
  jetsonCollector,
  raspberryPiCollector,
  // After jetson: it stands down on a Jetson, where tegrastats is the source of GPU truth.
  nvidiaGpuCollector,
];
